import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { isRoot, modeOf, otherUid } from './files-support.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';

// #11.7: IDSYNC_HOME and the files of secrets in it are checked as OpenSSH's StrictModes
// checks ~/.ssh: another user's folder or file, or one others may write, is refused; our own
// file that others may only read is made 0600 again.

let sandbox: Sandbox;
let base: string;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 14, people: { 'ecnu-staff': 5 } });
  base = await tempDir('idsync-files-home-');
});
afterAll(async () => {
  await sandbox.close();
  await fsp.rm(base, { recursive: true, force: true });
});

let n = 0;
async function freshHome(): Promise<string> {
  const home = path.join(base, `home-${n++}`);
  await fsp.mkdir(home, { mode: 0o700 });
  return home;
}

/** The environment of a cron job that signed in with `auth login` (no secrets in the env). */
function storedEnv(home: string): Record<string, string> {
  const env = sandboxEnv(sandbox, home);
  delete env['IDSYNC_ECNU_CLIENT_ID'];
  delete env['IDSYNC_ECNU_CLIENT_SECRET'];
  return env;
}

async function writeCredentials(home: string, mode: number): Promise<string> {
  const file = path.join(home, 'credentials.json');
  const creds = { ecnu: { ...sandbox.credentials.ecnu, savedAt: '2026-01-01T00:00:00.000Z' } };
  await fsp.writeFile(file, JSON.stringify(creds));
  await fsp.chmod(file, mode);
  return file;
}

async function expectRefusedBeforeAnyRequest(env: Record<string, string>, exitCode: number, message: RegExp): Promise<void> {
  const before = sandbox.stats().requests;
  const r = await idsync(['pull', 'ecnu-staff', '-o', path.join(base, 'never.ndjson')], env);
  expect(r.exitCode).toBe(exitCode);
  expect(r.stderr).toMatch(message);
  expect(String(r.stderr).trim().split('\n')).toHaveLength(1);
  expect(sandbox.stats().requests).toBe(before);
}

describe('credentials.json', () => {
  it('our own file that others can read is made 0600, and still used', async () => {
    const home = await freshHome();
    const file = await writeCredentials(home, 0o644);
    const r = await idsync(['pull', 'ecnu-staff', '-o', path.join(home, 'out.ndjson')], storedEnv(home));
    expect(r.exitCode).toBe(0);
    expect(modeOf(file)).toBe(0o600);
  });

  it('a file others can write is refused (exit 3), untouched', async () => {
    const home = await freshHome();
    const file = await writeCredentials(home, 0o666);
    await expectRefusedBeforeAnyRequest(
      storedEnv(home),
      3,
      new RegExp(`^idsync: refusing to use ${file}: other users can write to it \\(mode 0666\\)`),
    );
    expect(modeOf(file)).toBe(0o666);
  });

  it.skipIf(!isRoot)('another user’s file is refused (exit 3)', async () => {
    const home = await freshHome();
    const file = await writeCredentials(home, 0o600);
    await fsp.chown(file, otherUid, otherUid);
    await expectRefusedBeforeAnyRequest(storedEnv(home), 3, new RegExp(`it belongs to another user \\(uid ${otherUid}\\)`));
  });
});

describe('tokens.json', () => {
  it('our own token cache that others can read is made 0600', async () => {
    const home = await freshHome();
    const file = path.join(home, 'tokens.json');
    await fsp.writeFile(file, '{}');
    await fsp.chmod(file, 0o644);
    // `auth status` only reads the cache: a pull would rewrite it (0600) on saving a token.
    const r = await idsync(['auth', 'status'], sandboxEnv(sandbox, home));
    expect(r.exitCode).toBe(0);
    expect(modeOf(file)).toBe(0o600);
  });
});

describe('IDSYNC_HOME', () => {
  it('our own folder opened to others is closed again (0700)', async () => {
    const home = await freshHome();
    await fsp.chmod(home, 0o777);
    const r = await idsync(['pull', 'ecnu-staff', '-o', path.join(home, 'out.ndjson')], sandboxEnv(sandbox, home));
    expect(r.exitCode).toBe(0);
    expect(modeOf(home)).toBe(0o700);
  });

  it.skipIf(!isRoot)('another user’s folder is refused, even with credentials in the environment', async () => {
    const home = await freshHome();
    await fsp.chown(home, otherUid, otherUid);
    await expectRefusedBeforeAnyRequest(
      sandboxEnv(sandbox, home),
      1,
      new RegExp(`^idsync: refusing to use ${home}: it belongs to another user \\(uid ${otherUid}\\)`),
    );
  });
});
