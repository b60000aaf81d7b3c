import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { readNdjson } from '../support/ndjson.js';
import { sandboxEnv, tempDir } from '../support/env.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 5, people: { 'tongji-staff': 30, 'ecnu-staff': 30, 'ecnu-postdocs': 10 } });
});
afterAll(async () => {
  await sandbox.close();
});

async function world() {
  const home = await tempDir();
  return { home, env: sandboxEnv(sandbox, home) };
}

describe('options that say what they do', () => {
  it('--page-size on Tongji warns that pages are fixed at 1000, and the pull goes on', async () => {
    const { home, env } = await world();
    const out = path.join(home, 'staff.ndjson');
    const r = await idsync(['pull', 'tongji-staff', '--page-size', '50', '-o', out], env);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('idsync: warning: --page-size is ignored for tongji-staff');
    expect(r.stderr).toContain('1000 rows a page');
    expect(await readNdjson(out)).toHaveLength(30);
  });

  it('--page-size above the ECNU limit is still a usage error', async () => {
    const { env } = await world();
    const r = await idsync(['pull', 'ecnu-staff', '--page-size', '10000', '-o', '-'], env);
    expect(r.exitCode).toBe(0);
    const over = await idsync(['pull', 'ecnu-staff', '--page-size', '10001', '-o', '-'], env);
    expect(over.exitCode).toBe(2);
  });

  it('an undocumented --param warns (with the documented ones) but is sent; a documented one does not', async () => {
    const { env } = await world();
    const odd = await idsync(['pull', 'tongji-staff', '--param', 'deptcode=1', '-o', '-'], env);
    expect(odd.exitCode).toBe(0);
    expect(odd.stderr).toContain('--param deptcode is not a documented parameter of tongji-staff');
    expect(odd.stderr).toContain("did you mean 'deptCode'?");
    const fine = await idsync(['pull', 'tongji-staff', '--param', 'statusCode=-1', '-o', '-'], env);
    expect(fine.exitCode).toBe(0);
    expect(fine.stderr).not.toContain('warning');
    const ecnu = await idsync(['pull', 'ecnu-postdocs', '--param', 'dept=1', '-o', '-'], env);
    expect(ecnu.stderr).toContain('its documents list no filter');
    // --quiet: nothing on stderr but errors.
    const quiet = await idsync(['pull', 'tongji-staff', '--param', 'deptcode=1', '-o', '-', '--quiet'], env);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toBe('');
  });
});

describe('state show', () => {
  it('uses one labelled zone (Asia/Shanghai) for every time in the table; --json keeps ISO timestamps', async () => {
    const { home, env } = await world();
    const snap = path.join(home, 'staff.ndjson');
    expect((await idsync(['pull', 'ecnu-staff', '--since', 'last', '--snapshot', snap], env)).exitCode).toBe(0);
    const table = await idsync(['state', 'show'], env);
    expect(table.exitCode).toBe(0);
    const [header = '', row = ''] = table.stdout.split('\n');
    expect(header).toContain('NEXT --since last (Asia/Shanghai)');
    expect(header).toContain('LAST RUN (Asia/Shanghai)');
    expect(row).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/); // no UTC ISO in the table
    expect(row).toMatch(/full \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    const json = await idsync(['state', 'show', '--json'], env);
    expect(json.stdout).toMatch(/"finishedAt": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"/);
  });

  it('a corrupt state file is flagged; every other job is still listed', async () => {
    const { home, env } = await world();
    expect((await idsync(['pull', 'ecnu-staff', '--since', 'last', '--snapshot', path.join(home, 'a.ndjson')], env)).exitCode).toBe(0);
    expect((await idsync(['pull', 'tongji-staff', '--since', 'last', '--snapshot', path.join(home, 'b.ndjson')], env)).exitCode).toBe(0);
    await fs.writeFile(path.join(home, 'state', 'ecnu-staff.json'), '{ not json');
    const r = await idsync(['state', 'show'], env);
    expect(r.stdout).toMatch(/^tongji-staff /m);
    expect(r.stdout).toMatch(/^ecnu-staff .*BROKEN state file/m);
    expect(r.stderr).toContain('ecnu-staff.json is not valid JSON');
    expect(r.exitCode).toBe(0);
  });
});

describe('auth status', () => {
  it('shows token expiry in Asia/Shanghai, labelled', async () => {
    const { env } = await world();
    expect((await idsync(['pull', 'tongji-staff', '-o', '-'], env)).exitCode).toBe(0);
    const r = await idsync(['auth', 'status'], env);
    expect(r.stdout).toMatch(/tongji: .*token valid until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d Asia\/Shanghai/);
    expect(r.stdout).not.toMatch(/T\d\d:\d\d:\d\d/);
    const json = await idsync(['auth', 'status', '--json'], env);
    expect(json.stdout).toMatch(/"expiresAt": "\d{4}-\d\d-\d\dT/);
  });

  it('counts only the tokens of the credentials and platform in use', async () => {
    const { env } = await world();
    expect((await idsync(['pull', 'tongji-staff', '-o', '-'], env)).exitCode).toBe(0);
    const tongji = (r: { stdout: unknown }) =>
      String(r.stdout)
        .split('\n')
        .find((l) => l.startsWith('tongji:'));
    expect(tongji(await idsync(['auth', 'status'], env))).toMatch(/token valid until/);
    for (const other of [{ IDSYNC_TONGJI_CLIENT_SECRET: 'another-secret' }, { IDSYNC_TONGJI_BASE_URL: 'http://127.0.0.1:1' }]) {
      const r = await idsync(['auth', 'status'], { ...env, ...other });
      expect(r.exitCode).toBe(0);
      expect(tongji(r)).toMatch(/no valid token cached/);
    }
  });
});
