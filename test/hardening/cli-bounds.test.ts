import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drip, endless, sendJson, runHostile, startHostile, type HostileServer } from './hostile-server.js';

/**
 * The same bounds, end to end through the CLI as cron runs it (no TTY): exit codes, one clear
 * line, and --verbose showing each request and each retry. No assertion on elapsed time: the
 * servers never finish, so only the bounds can end these runs.
 */

let h: HostileServer;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(() => h.close());

const run = (args: string[], extra: Record<string, string> = {}) => runHostile(h, args, extra);

const count = (path: string) => h.seen.filter((r) => r.path === path).length;

describe('pull against a hostile platform', () => {
  it('an endless body: exit 4, the size in the message, no retry', async () => {
    h.route('/api/v1/sync/userinfo', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      endless(res, Buffer.alloc(256 * 1024, 0x20));
    });
    const before = count('/api/v1/sync/userinfo');
    const r = await run(['pull', 'ecnu-users', '-o', '-']);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(
      /^idsync: 127\.0\.0\.1:\d+\/api\/v1\/sync\/userinfo sent an answer larger than the 64 MiB limit \(more than \d+ bytes received and still coming\); request aborted$/,
    );
    expect(count('/api/v1/sync/userinfo') - before).toBe(1);
  });

  it('a body dripping forever with --timeout 1: the run gives up with exit 5', async () => {
    h.route('/api/v1/sync/userinfo/bsh', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      drip(res, 100);
    });
    const r = await run(['pull', 'ecnu-postdocs', '-o', '-', '--timeout', '1', '--retries', '1']);
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toBe('idsync: ecnu: /api/v1/sync/userinfo/bsh: timed out (no complete answer within 1 s) (gave up after 2 attempts)');
  });

  it('Retry-After of 23 days: exit 4 with a clear error, no wait', async () => {
    h.route('/api/v1/sync/userinfo/rsuserinfo', (_req, res) => sendJson(res, 429, '', { 'retry-after': '2000000' }));
    const r = await run(['pull', 'ecnu-staff', '-o', '-']);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(
      /HTTP 429 .*asks to wait 2000000 s before trying again \(Retry-After\), more than the 60 s idsync waits: try again later$/,
    );
  });
});

describe('visible retries and requests', () => {
  it('--verbose without a TTY: each request, each retry with its cause, the error once', async () => {
    const r = await run(['--verbose', 'pull', 'ecnu-users', '-o', '-', '--retries', '2'], { IDSYNC_ECNU_BASE_URL: 'http://127.0.0.1:1' });
    expect(r.exitCode).toBe(5);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/^\s+at /.test(l) && !/^\w*Error/.test(l));
    const requests = lines.filter((l) => l.startsWith('idsync: POST http://127.0.0.1:1/oauth2/token → connection refused, '));
    expect(requests).toHaveLength(3);
    const retries = lines.filter((l) =>
      /^idsync: retry \d\/2 in [\d.]+ s: cannot reach http:\/\/127\.0\.0\.1:1 \(token request\): connection refused/.test(l),
    );
    expect(retries.map((l) => l.slice(0, 'idsync: retry 1/2'.length))).toEqual(['idsync: retry 1/2', 'idsync: retry 2/2']);
    const final = lines.filter((l) => l.startsWith('idsync: cannot reach'));
    expect(final).toEqual([
      'idsync: cannot reach http://127.0.0.1:1 (token request): connection refused (connect ECONNREFUSED 127.0.0.1:1) (gave up after 3 attempts)',
    ]);
  });

  it('without --verbose: the one final line only', async () => {
    const r = await run(['pull', 'ecnu-users', '-o', '-', '--retries', '0'], { IDSYNC_ECNU_BASE_URL: 'http://127.0.0.1:1' });
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toBe('idsync: cannot reach http://127.0.0.1:1 (token request): connection refused (connect ECONNREFUSED 127.0.0.1:1)');
  });

  it('--retries 0 makes one attempt; --retries N retries N times', async () => {
    h.route('/api/v1/sync/userinfo/studentinfo_bk', (_req, res) => sendJson(res, 503, 'down', { 'retry-after': '0' }));
    let before = count('/api/v1/sync/userinfo/studentinfo_bk');
    const once = await run(['pull', 'ecnu-undergrads', '-o', '-', '--retries', '0']);
    expect(once.exitCode).toBe(4);
    expect(count('/api/v1/sync/userinfo/studentinfo_bk') - before).toBe(1);
    before = count('/api/v1/sync/userinfo/studentinfo_bk');
    const twice = await run(['--verbose', 'pull', 'ecnu-undergrads', '-o', '-', '--retries', '2']);
    expect(count('/api/v1/sync/userinfo/studentinfo_bk') - before).toBe(3);
    expect(twice.stderr.match(/^idsync: retry \d\/2 /gm)).toEqual(['idsync: retry 1/2 ', 'idsync: retry 2/2 ']);
    expect(twice.stderr).toMatch(/gave up after 3 attempts/);
    // Each request on its own line: method, URL without secrets, status, size, time.
    expect(twice.stderr).toMatch(/^idsync: POST http:\/\/127\.0\.0\.1:\d+\/oauth2\/token → 200, \d+ ms$/m);
    expect(twice.stderr).toMatch(
      /^idsync: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/sync\/userinfo\/studentinfo_bk\?\S+ → 503, \d+ B, \d+ ms$/m,
    );
    expect(twice.stderr).not.toMatch(/hostile-secret-value|token-\d/);
  });
});
