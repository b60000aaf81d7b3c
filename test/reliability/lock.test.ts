import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { lines } from '../support/ndjson.js';
import { digest, expectSnapshotIsTruth, stateFile, summaryLine } from '../support/snapshot-checks.js';
import { whenFolder, whenSaid } from '../support/wait.js';

/**
 * Issue 5, item 4: two runs of one source at once. The second refuses (exit 6, one clear line)
 * or, with --wait, waits its turn; a lock left by a SIGKILLed run does not block anyone.
 */

let sandbox: Sandbox;
beforeAll(async () => {
  // 120 pages of 5, 30 ms each, two at a time: the first run holds the lock for a couple of seconds.
  sandbox = await startSandbox({ port: 0, seed: 71, latencyMs: 30 });
});
afterAll(async () => {
  await sandbox.close();
});

const slow = ['--page-size', '5', '--concurrency', '2'];
const lockFile = (home: string) => path.join(home, 'locks', 'ecnu-users.lock');
const hasLock = (home: string) => () =>
  fs.access(lockFile(home)).then(
    () => true,
    () => false,
  );

describe('two runs of one source at once', () => {
  it('the second refuses with exit 6 and a clear message, touching nothing', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'snap.ndjson');
    const first = idsync(['pull', 'ecnu-users', '--snapshot', snap, ...slow], env);
    expect(await whenFolder(home, hasLock(home))).toBe(true);
    const second = await idsync(['pull', 'ecnu-users', '--snapshot', path.join(home, 'other.ndjson')], env);
    expect(second.exitCode).toBe(6);
    expect(lines(second.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^idsync: another idsync run of ecnu-users is in progress \\(pid ${first.pid} on ${os.hostname()}, since .+\\); try again later or pass --wait SECONDS`,
        ),
      ),
    ]);
    expect(await digest(path.join(home, 'other.ndjson'))).toBeNull();
    const r = await first;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    await expectSnapshotIsTruth(sandbox, snap, 'ecnu-users');
    await fs.rm(home, { recursive: true, force: true });
  });

  it('with --wait the second waits for the first, then runs incrementally on top of it', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'snap.ndjson');
    const first = idsync(['pull', 'ecnu-users', '--snapshot', snap, ...slow], env);
    expect(await whenFolder(home, hasLock(home))).toBe(true);
    const second = await idsync(['pull', 'ecnu-users', '--since', 'last', '--snapshot', snap, '--wait', '50'], env);
    const r = await first;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(second.exitCode, String(second.stderr)).toBe(0);
    // It started after the first had saved its state: an incremental run, not a second full one.
    expect(lines(second.stderr).find((l) => summaryLine.test(l))).toMatch(/^ecnu-users: incremental pull/);
    await expectSnapshotIsTruth(sandbox, snap, 'ecnu-users');
    await fs.rm(home, { recursive: true, force: true });
  });

  it('a lock left by a SIGKILLed run is taken over at once', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'snap.ndjson');
    const killed = idsync(['pull', 'ecnu-users', '--snapshot', snap, ...slow], env);
    expect(await whenFolder(home, hasLock(home))).toBe(true);
    killed.kill('SIGKILL');
    await killed;
    expect(JSON.parse(await fs.readFile(lockFile(home), 'utf8'))).toMatchObject({ pid: killed.pid });
    const r = await idsync(['pull', 'ecnu-users', '--snapshot', snap], env);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    await expectSnapshotIsTruth(sandbox, snap, 'ecnu-users');
    expect((await fs.readdir(path.join(home, 'locks'))).filter((n) => n.endsWith('.lock'))).toEqual([]);
    await fs.rm(home, { recursive: true, force: true });
  });

  it('SIGINT while waiting for the lock: exit 130, the holder carries on', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const snap = path.join(home, 'snap.ndjson');
    const first = idsync(['pull', 'ecnu-users', '--snapshot', snap, ...slow], env);
    expect(await whenFolder(home, hasLock(home))).toBe(true);
    const waiting = idsync(['--verbose', 'pull', 'ecnu-users', '--snapshot', snap, '--wait', '50'], env);
    await whenSaid(waiting.stderr, /waiting for another idsync run of ecnu-users to finish \(pid \d+/);
    waiting.kill('SIGINT');
    const w = await waiting;
    expect(w.exitCode).toBe(130);
    expect(lines(w.stderr).at(-1)).toBe('idsync: interrupted by SIGINT; previous outputs and state left as they were');
    const r = await first;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    await expectSnapshotIsTruth(sandbox, snap, 'ecnu-users');
    expect(await digest(stateFile(home, 'ecnu-users'))).not.toBeNull();
    await fs.rm(home, { recursive: true, force: true });
  });
});
