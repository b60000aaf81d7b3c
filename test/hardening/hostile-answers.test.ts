import dns from 'node:dns';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../../src/core/api-client.js';
import { isLoopbackHost, parseServiceUrl } from '../../src/core/endpoints.js';
import { createDispatcher, loopbackAwareLookup } from '../../src/core/http.js';
import { defaultRetryPolicy } from '../../src/core/retry.js';
import { idsync } from '../support/cli.js';
import { readNdjson } from '../support/ndjson.js';
import { tempDir } from '../support/env.js';
import { ecnuOk, ecnuPage, hostileEnv, sendJson, runHostile, startHostile, type HostileServer } from './hostile-server.js';

/**
 * Issue 11, item 9: answers no platform should send are platform errors (exit 4), not crashes;
 * `__proto__` is a field like any other; only real loopback counts as loopback; a token never
 * goes to a server it was not issued for; `api` does not follow or swallow a redirect.
 */

let h: HostileServer;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(() => h.close());

const run = (args: string[], extra: Record<string, string> = {}) => runHostile(h, args, extra);

function raw(res: import('node:http').ServerResponse, type: string, body: Buffer | string): void {
  res.writeHead(200, { 'content-type': type });
  res.end(body);
}

describe('answers that are not JSON a platform would send', () => {
  it('JSON nested 5,000 deep is a platform error, not a stack overflow', async () => {
    h.route('/api/v1/sync/userinfo', (_req, res) =>
      raw(res, 'application/json', `{"errCode":0,"data":${'['.repeat(5000)}${']'.repeat(5000)}}`),
    );
    const r = await run(['pull', 'ecnu-users', '-o', '-', '--retries', '0']);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/nested more than 200 levels deep/);
    expect(r.stderr).not.toMatch(/call stack/);
  });

  it('invalid UTF-8 is a platform error, not silently replaced', async () => {
    const body = Buffer.concat([
      Buffer.from('{"errCode":0,"data":{"totalNum":1,"rows":[{"userId":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}}'),
    ]);
    h.route('/api/v1/sync/userinfo/bsh', (_req, res) => raw(res, 'application/json', body));
    const r = await run(['pull', 'ecnu-postdocs', '-o', '-', '--retries', '0']);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/not valid UTF-8/);
    expect(r.stdout).toBe('');
  });

  it('text/html is not JSON, even when it parses', async () => {
    h.route('/api/v1/sync/userinfo/rsuserinfo', (_req, res) => raw(res, 'text/html; charset=utf-8', JSON.stringify(ecnuPage([]))));
    const r = await run(['pull', 'ecnu-staff', '-o', '-', '--retries', '0']);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/the answer is text\/html; charset=utf-8, not JSON/);
  });

  it('`api` on a 3xx exits 4 and names the redirect, following nothing', async () => {
    h.route('/api/v1/moved', (_req, res) => {
      res.writeHead(302, { location: 'https://elsewhere.example/steal' });
      res.end();
    });
    const r = await run(['api', '/api/v1/moved', '--provider', 'ecnu']);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /HTTP 302 for \/api\/v1\/moved, a redirect to https:\/\/elsewhere\.example\/steal that idsync does not follow/,
    );
  });
});

describe('a field named __proto__', () => {
  const rows = `[{"userId":"1","__proto__":"p1","updated_at":"2024-01-01 00:00:00","deleted_mark":0},{"userId":"2","updated_at":"2024-01-01 00:00:00","deleted_mark":0}]`;
  beforeAll(() => {
    // Written as text: an object literal with __proto__ would set the prototype instead.
    const page = `{"errCode":0,"errMsg":"success","requestId":"r","data":{"totalNum":2,"pageSize":5000,"pageNum":1,"rows":${rows}}}`;
    h.route('/api/v1/sync/userinfo', (_req, res) => raw(res, 'application/json', page));
    h.route('/api/v1/user/info', (_req, res) =>
      raw(res, 'application/json', `{"errCode":0,"errMsg":"ok","requestId":"r","data":[{"userId":"1","__proto__":{"a":1}}]}`),
    );
  });

  it('survives in lookup output (NDJSON, JSON, table) and api output', async () => {
    const nd = await run(['lookup', '1', '--provider', 'ecnu', '--format', 'ndjson']);
    expect(nd.stdout.trim()).toBe('{"userId":"1","__proto__":{"a":1}}');
    const json = await run(['lookup', '1', '--provider', 'ecnu', '--format', 'json']);
    expect(Object.keys(JSON.parse(json.stdout)[0])).toEqual(['userId', '__proto__']);
    const table = await run(['lookup', '1', '--provider', 'ecnu', '--format', 'table']);
    expect(table.stdout).toMatch(/__proto__\s+\{"a":1\}/);
    const api = await run(['api', '/api/v1/user/info', '--provider', 'ecnu']);
    expect(api.stdout).toContain('"__proto__":{"a":1}');
  });

  it('survives in CSV and SQLite, and a record without it gets an empty cell, not "{}"', async () => {
    const home = await tempDir();
    const csv = path.join(home, 'out.csv');
    const db = path.join(home, 'snap.sqlite');
    const changes = path.join(home, 'changes.ndjson');
    const r = await idsync(['pull', 'ecnu-users', '-o', csv, '--snapshot', db, '--changes', changes], hostileEnv(h, home));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const text = (await import('node:fs')).readFileSync(csv, 'utf8').replace(/^\uFEFF/, '');
    const [header, first, second] = text.trim().split('\r\n');
    const col = header?.split(',').indexOf('__proto__') as number;
    expect(col).toBeGreaterThanOrEqual(0);
    expect(first?.split(',')[col]).toBe('p1');
    expect(second?.split(',')[col]).toBe('');
    // The change events carry it as a field too, in the file and in <table>_changes.
    const events = (await readNdjson(changes)) as { after: Record<string, unknown> }[];
    expect(events.map((e) => Object.hasOwn(e.after, '__proto__') && e.after['__proto__'])).toEqual(['p1', false]);
    const sqlite = new Database(db, { readonly: true });
    try {
      expect(sqlite.prepare('SELECT userId, "__proto__" AS p FROM ecnu_users ORDER BY userId').all()).toEqual([
        { userId: '1', p: 'p1' },
        { userId: '2', p: null },
      ]);
      const afters = sqlite.prepare('SELECT "after" FROM ecnu_users_changes ORDER BY sequence').pluck().all() as string[];
      expect(afters.map((a) => JSON.parse(a) as Record<string, unknown>).map((a) => Object.hasOwn(a, '__proto__'))).toEqual([true, false]);
    } finally {
      sqlite.close();
    }
    const out = path.join(home, 'out.ndjson');
    await idsync(['pull', 'ecnu-users', '-o', out], hostileEnv(h, home));
    expect((await readNdjson(out)).map((row) => Object.hasOwn(row, '__proto__'))).toEqual([true, false]);
  });
});

describe('loopback means this machine', () => {
  it('refuses http://evil.localhost as a base URL (usage error, before any request)', async () => {
    expect(isLoopbackHost('evil.localhost')).toBe(false);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(() => parseServiceUrl('http://evil.localhost:8080', 'X')).toThrow(/plain http:\/\/ to a non-loopback host/);
    const r = await run(['pull', 'ecnu-users', '-o', '-'], { IDSYNC_ECNU_BASE_URL: 'http://evil.localhost:1' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/non-loopback host \(evil\.localhost:1\)/);
  });

  it('answers localhost itself with 127.0.0.1 and ::1, never asking DNS', async () => {
    const all = await new Promise<unknown>((resolve) => loopbackAwareLookup('localhost', { all: true }, (_e, a) => resolve(a)));
    expect(all).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    const spy = vi.spyOn(dns, 'lookup');
    const dispatcher = createDispatcher(1);
    try {
      h.route('/here', (_req, res) => sendJson(res, 200, { ok: true }));
      const client = new ApiClient({
        provider: 'ecnu',
        baseUrl: new URL(`http://localhost:${h.port}`),
        tokens: { get: async () => 't', invalidate: () => undefined },
        dispatcher,
        retry: { ...defaultRetryPolicy, attempts: 1 },
        log: () => undefined,
      });
      expect((await client.getJson('/here', {})).body).toEqual({ ok: true });
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      await dispatcher.close();
    }
  });
});

describe('the token cache', () => {
  it('never sends a token issued for one base URL to another, even with the token URL pinned', async () => {
    const b = await startHostile();
    try {
      for (const s of [h, b]) s.route('/api/v1/user/info', (_req, res) => sendJson(res, 200, ecnuOk([{ userId: '7' }])));
      const home = await tempDir();
      const pinned = { IDSYNC_ECNU_TOKEN_URL: `${h.url}/oauth2/token` };
      expect((await idsync(['lookup', '7', '--provider', 'ecnu'], hostileEnv(h, home, pinned))).exitCode).toBe(0);
      const tokenForA = h.seen.filter((r) => r.path === '/api/v1/user/info').at(-1)?.authorization;
      const issued = h.tokensIssued();
      expect((await idsync(['lookup', '7', '--provider', 'ecnu'], hostileEnv(b, home, pinned))).exitCode).toBe(0);
      expect(h.tokensIssued()).toBe(issued + 1);
      const tokenForB = b.seen.find((r) => r.path === '/api/v1/user/info')?.authorization;
      expect(tokenForB).toBeDefined();
      expect(tokenForB).not.toBe(tokenForA);
    } finally {
      await b.close();
    }
  });
});
