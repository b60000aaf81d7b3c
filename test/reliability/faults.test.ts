import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type DatasetId, type FaultOptions, type Sandbox } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { lines } from '../support/ndjson.js';
import { digest, expectSnapshotIsTruth, stateFile, summaryLine, tempFilesIn } from '../support/snapshot-checks.js';

/**
 * Issue 5, items 1 and 8: every transient fault the sandbox injects, at a rate that hits many
 * requests, on both platforms; the snapshot still equals the platform's data exactly, and an
 * incremental run after changes converges. Permanent errors fail at once.
 */

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 51 });
});
afterAll(async () => {
  await sandbox.close();
});

/** Enough pages to meet many faults: 600 ECNU users at 25 a page, 1200 Tongji students at 60. */
function faultySandbox(faults: FaultOptions, seed: number): Promise<Sandbox> {
  return startSandbox({ port: 0, seed, people: { 'tongji-students': 1200 }, tongjiPageSize: 60, faults });
}

// Short timeout, stalls far longer than it, retries enough that a run of bad luck still ends well.
const robust = ['--timeout', '2', '--retries', '12'];

interface Pair {
  ecnu: Sandbox;
  tongji: Sandbox;
}

interface Target {
  source: string;
  dataset: DatasetId;
  args: string[];
}
const ecnuUsers: Target = { source: 'ecnu-users', dataset: 'ecnu-users', args: ['--page-size', '25', '--concurrency', '4'] };
const tongjiStudents: Target = { source: 'tongji-students', dataset: 'tongji-students', args: [] };

/** Pulls both sources at once; checks each run's stderr and returns it. */
async function pullBoth(sb: Pair, home: string, extra: string[], verbose: boolean): Promise<string[]> {
  const env = { ...sandboxEnv(sb.ecnu, home), IDSYNC_TONGJI_BASE_URL: sb.tongji.url };
  const results = await Promise.all(
    [ecnuUsers, tongjiStudents].map((t) =>
      idsync(
        [
          ...(verbose ? ['--verbose'] : []),
          'pull',
          t.source,
          ...extra,
          ...t.args,
          ...robust,
          '--snapshot',
          path.join(home, `${t.source}.ndjson`),
        ],
        env,
      ),
    ),
  );
  return results.map((r) => {
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const stderr = lines(r.stderr);
    const summaries = stderr.filter((l) => summaryLine.test(l));
    expect(summaries).toHaveLength(1);
    const retries = stderr.filter((l) => /^idsync: retry \d+\/12 in [\d.]+ s( \([^)]*\))?: /.test(l));
    if (verbose) {
      // --verbose shows each retry of a page request, and the summary counts exactly those.
      expect(Number(summaryLine.exec(summaries[0] as string)?.groups?.['retries'])).toBe(retries.length);
    } else {
      // Without it: the summary line alone (and warnings, should rows move during the scan).
      expect(stderr.filter((l) => !l.startsWith('idsync: warning:'))).toEqual(summaries);
      expect(retries).toEqual([]);
    }
    expect(String(r.stderr)).not.toMatch(/\n\s+at /); // no stack trace
    return String(r.stderr);
  });
}

function mutateBoth(sb: Pair): void {
  for (const [dataset, s] of [
    ['ecnu-users', sb.ecnu],
    ['tongji-students', sb.tongji],
  ] as const) {
    s.mutate({ dataset, op: 'update', count: 5 });
    s.mutate({ dataset, op: 'depart', count: 3 });
    s.mutate({ dataset, op: 'insert', count: 4 });
  }
  sb.ecnu.mutate({ dataset: 'ecnu-users', op: 'delete', count: 3 });
}

async function expectConverged(sb: Pair, home: string): Promise<void> {
  await expectSnapshotIsTruth(sb.ecnu, path.join(home, 'ecnu-users.ndjson'), 'ecnu-users');
  await expectSnapshotIsTruth(sb.tongji, path.join(home, 'tongji-students.ndjson'), 'tongji-students');
  expect(await tempFilesIn(home)).toEqual([]);
}

/** How a --verbose retry line names each kind of fault. */
const signatures: Record<string, RegExp> = {
  reset: /retry .*(other side closed|ECONNRESET|socket hang up)/,
  truncated: /retry .*(other side closed|terminated|UND_ERR_SOCKET|content-length)/i,
  stall: /retry .*(Body Timeout|UND_ERR_BODY_TIMEOUT|no complete answer within 2 s)/,
  http500: /retry .*HTTP 500/,
  http503: /retry .*HTTP 503/,
  http429: /retry \d+\/12 in 1 s \(the platform asked: Retry-After 1 s\): .*HTTP 429/, // and it waits Retry-After's second
  malformed: /retry .*not JSON/,
  ecnuTransientErr: /retry .*errCode 1108110525/,
  revokeTokens: /access token rejected \((A401OT|401)\); getting a new one/,
};

// Every kind at 0.1 per request, three kinds per case (about one request in four fails).
const groups: [string, FaultOptions][] = [
  ['network: reset, truncated, stall', { reset: 0.1, truncated: 0.1, stall: 0.1, stallMs: 8000 }],
  ['HTTP: 500, 503, 429', { http500: 0.1, http503: 0.1, http429: 0.1 }],
  ['answers: malformed, ECNU transient errCode, revoked tokens', { malformed: 0.1, ecnuTransientErr: 0.1, revokeTokens: 0.1 }],
];

// Concurrent: each case has its own sandbox and home, and spends most of its time in timeouts
// and back-off rather than on the CPU.
describe.concurrent('transient faults: full then incremental pulls converge', () => {
  it.each(groups)('%s', async (_name, faults) => {
    // One sandbox per platform: each draws its faults from its own seeded sequence, so which
    // kinds a run meets does not depend on how the two runs interleave.
    const seed = 100 + groups.findIndex(([, f]) => f === faults);
    const sb: Pair = { ecnu: await faultySandbox(faults, seed), tongji: await faultySandbox(faults, seed) };
    const home = await tempDir();
    try {
      const [ecnuFull, tongjiFull] = await pullBoth(sb, home, [], true);
      await expectConverged(sb, home);
      // Every kind of the group did hit, on each platform (ECNU's errCode on ECNU only).
      for (const kind of Object.keys(faults).filter((k) => k !== 'stallMs')) {
        expect(ecnuFull, kind).toMatch(signatures[kind] as RegExp);
        if (kind !== 'ecnuTransientErr') expect(tongjiFull, kind).toMatch(signatures[kind] as RegExp);
      }
      mutateBoth(sb);
      await pullBoth(sb, home, ['--since', 'last'], false);
      await expectConverged(sb, home);
    } finally {
      await Promise.all([sb.ecnu.close(), sb.tongji.close()]);
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});

describe('permanent errors fail at once, without retries', () => {
  async function failing(args: string[], envExtra: Record<string, string> = {}) {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home, envExtra);
    const snap = path.join(home, 'snap.ndjson');
    await fs.writeFile(snap, 'previous\n');
    const before = sandbox.stats();
    const r = await idsync(['pull', ...args, '--retries', '10', '--snapshot', snap], env);
    const after = sandbox.stats();
    const delta = (p: string) => (after.byPath[p] ?? 0) - (before.byPath[p] ?? 0);
    const stderr = lines(r.stderr);
    expect(stderr).toHaveLength(1); // one line, no stack trace
    expect(await fs.readFile(snap, 'utf8')).toBe('previous\n');
    expect(await digest(stateFile(home, args[0] as string))).toBeNull();
    expect(await tempFilesIn(home)).toEqual([]);
    await fs.rm(home, { recursive: true, force: true });
    return { r, message: stderr[0] as string, delta };
  }

  it('an ECNU errCode that is not transient (bad parameter value)', async () => {
    const { r, message, delta } = await failing(['ecnu-students', '--param', 'type=博士生']);
    expect(r.exitCode).toBe(4);
    expect(message).toMatch(/^idsync: ecnu error for \/api\/v1\/sync\/userinfo\/studentinfo: errCode 1108110304/);
    expect(delta('/api/v1/sync/userinfo/studentinfo')).toBe(1);
  });

  it('a Tongji error code (bad parameter)', async () => {
    const { r, message, delta } = await failing(['tongji-students', '--param', 'statusCode=7']);
    expect(r.exitCode).toBe(4);
    expect(message).toMatch(/^idsync: tongji error for \/v2\/dc\/user\/student_infos: code A00400/);
    expect(delta('/v2/dc/user/student_infos')).toBe(1);
  });

  it('invalid client credentials', async () => {
    const { r, message, delta } = await failing(['ecnu-staff'], { IDSYNC_ECNU_CLIENT_SECRET: 'wrong-secret' });
    expect(r.exitCode).toBe(3);
    expect(message).toMatch(/refused the client credentials for client id 'sandbox-ecnu' \(HTTP 401: invalid_client\)/);
    expect(message).not.toContain('wrong-secret');
    expect(delta('/oauth2/token')).toBe(1);
    expect(delta('/api/v1/sync/userinfo/rsuserinfo')).toBe(0);
  });

  it('an interface the gateway does not know (HTTP 404)', async () => {
    const home = await tempDir();
    const sources = { sources: [{ name: 'ecnu-gone', path: '/api/v1/nothing/here', key: 'userId' }] };
    await fs.writeFile(path.join(home, 'sources.json'), JSON.stringify(sources));
    const env = sandboxEnv(sandbox, home);
    const before = sandbox.stats().byPath['/api/v1/nothing/here'] ?? 0;
    const r = await idsync(['pull', 'ecnu-gone', '--retries', '10', '-o', path.join(home, 'out.ndjson')], env);
    expect(r.exitCode).toBe(4);
    expect(lines(r.stderr)).toEqual([
      expect.stringMatching(/^idsync: ecnu answered HTTP 404 for \/api\/v1\/nothing\/here: no such interface/),
    ]);
    expect((sandbox.stats().byPath['/api/v1/nothing/here'] ?? 0) - before).toBe(1);
    expect(await digest(path.join(home, 'out.ndjson'))).toBeNull();
    await fs.rm(home, { recursive: true, force: true });
  });

  it('an interface the application may not call (HTTP 403)', async () => {
    // The sandbox never forbids, so a stub gateway on loopback plays the part.
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url?.startsWith('/oauth2/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'stub-token', token_type: 'Bearer', expires_in: 7200 }));
        return;
      }
      res.writeHead(403, { 'x-ca-error-code': 'A403PR', 'x-ca-error-message': 'No Permission', 'x-ca-request-id': 'req-1' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const home = await tempDir();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const env = { ...sandboxEnv(sandbox, home), IDSYNC_ECNU_BASE_URL: url };
      const r = await idsync(['pull', 'ecnu-postdocs', '--retries', '10', '-o', path.join(home, 'out.ndjson')], env);
      expect(r.exitCode).toBe(4);
      expect(lines(r.stderr)).toEqual([
        expect.stringMatching(
          /^idsync: ecnu answered HTTP 403 for \/api\/v1\/sync\/userinfo\/bsh: the application is not allowed to call this interface/,
        ),
      ]);
      expect(hits.filter((u) => u.startsWith('/api/'))).toHaveLength(1);
      expect(await digest(path.join(home, 'out.ndjson'))).toBeNull();
      await fs.rm(home, { recursive: true, force: true });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
