import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ApiClientOptions } from '../../src/core/api-client.js';
import { NetworkError, UpstreamError } from '../../src/core/errors.js';
import { createDispatcher, defaultMaxBodyBytes } from '../../src/core/http.js';
import { jsonDepth, maxJsonDepth } from '../../src/core/json-body.js';
import { defaultRetryPolicy, retrying, type RetryEvent, type RetryPolicy } from '../../src/core/retry.js';
import { drip, endless, ecnuPage, sendJson, startHostile, type HostileServer } from './hostile-server.js';

/**
 * Issue 11, items 2 and 3; issue 13, item 1: every request is bounded in size and time, a
 * Retry-After is capped, and each retry is reported with its cause. Time is injected: the
 * sleeps are recorded, never slept.
 */

let h: HostileServer;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(() => h.close());
const dispatchers: ReturnType<typeof createDispatcher>[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.close()));
  h.seen.length = 0;
});

interface Harness {
  client: ApiClient;
  sleeps: number[];
  retries: RetryEvent[];
  log: string[];
}

function harness(retry: Partial<RetryPolicy> = {}, extra: Partial<ApiClientOptions> = {}): Harness {
  const dispatcher = createDispatcher(2);
  dispatchers.push(dispatcher);
  const out: Harness = { client: undefined as unknown as ApiClient, sleeps: [], retries: [], log: [] };
  out.client = new ApiClient({
    provider: 'ecnu',
    baseUrl: new URL(h.url),
    tokens: { get: async () => 'the-token', invalidate: () => undefined },
    dispatcher,
    retry: { ...defaultRetryPolicy, attempts: 3, ...retry },
    log: (m) => out.log.push(m),
    sleep: async (ms) => {
      out.sleeps.push(ms);
    },
    onRetry: (e) => out.retries.push(e),
    ...extra,
  });
  return out;
}

const requestsTo = (path: string) => h.seen.filter((r) => r.path === path).length;

describe('the size of an answer is capped while it streams', () => {
  it('refuses a declared 1 GB body at once, names the size, and does not retry it', async () => {
    h.route('/huge', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 ** 3) });
      endless(res, Buffer.alloc(64 * 1024, 0x20));
    });
    const closed = h.closed('/huge');
    const t = harness();
    const err = await t.client.getJson('/huge', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).exitCode).toBe(4);
    expect((err as Error).message).toMatch(/larger than the 64 MiB limit \(Content-Length 1073741824 bytes\)/);
    expect(requestsTo('/huge')).toBe(1);
    expect(t.sleeps).toEqual([]);
    // The connection was dropped long before the gigabyte was sent.
    const { bytesWritten, finished } = await closed;
    expect(finished).toBe(false);
    expect(bytesWritten).toBeLessThan(1024 ** 3 / 4);
  });

  it('stops an endless chunked body at the cap instead of growing until memory runs out', async () => {
    h.route('/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length to check up front
      endless(res, Buffer.alloc(64 * 1024, 0x20));
    });
    const closed = h.closed('/endless');
    const cap = 4 * 1024 * 1024;
    const t = harness({}, { maxBodyBytes: cap });
    const err = await t.client.getJson('/endless', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toMatch(/larger than the 4 MiB limit \(more than \d+ bytes received and still coming\)/);
    expect(requestsTo('/endless')).toBe(1);
    expect((await closed).finished).toBe(false);
  });

  it('keeps the default cap well above the largest legal page (10,000 rows, about 10 MB)', () => {
    expect(defaultMaxBodyBytes).toBeGreaterThanOrEqual(40 * 1024 * 1024);
  });

  it('accepts a 12 MB page under the default cap', async () => {
    const row = { userId: 'x', name: 'y'.repeat(1200) };
    const body = JSON.stringify(ecnuPage(Array.from({ length: 10_000 }, () => row)));
    expect(body.length).toBeGreaterThan(12_000_000);
    h.route('/big-page', (_req, res) => sendJson(res, 200, body));
    const answer = await harness().client.getJson('/big-page', {});
    expect((answer.body as { data: { rows: unknown[] } }).data.rows).toHaveLength(10_000);
  });
});

describe('a request is bounded as a whole, headers and body', () => {
  it('gives up on a body that drips forever, faster than any per-read timeout', async () => {
    // A byte every 50 ms never trips a 1 s silence timeout; only a deadline ends it.
    h.route('/drip', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      drip(res, 50);
    });
    const t = harness({ timeoutMs: 1000, attempts: 2 });
    const err = await t.client.getJson('/drip', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/timed out \(no complete answer within 1 s\).*gave up after 2 attempts/);
    expect(requestsTo('/drip')).toBe(2);
    expect(t.retries.map((e) => e.reason)).toEqual(['timed out']);
  });
});

describe('Retry-After is honoured within limits', () => {
  it('ends at once with a clear error when the platform asks for 23 days, without waiting', async () => {
    h.route('/busy', (_req, res) => sendJson(res, 429, { error: 'slow down' }, { 'retry-after': '2000000' }));
    const t = harness();
    const err = await t.client.getJson('/busy', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toMatch(/asks to wait 2000000 s before trying again \(Retry-After\), more than the 60 s idsync waits/);
    expect(t.sleeps).toEqual([]);
    expect(requestsTo('/busy')).toBe(1);
  });

  it('waits a modest Retry-After and says why in the --verbose line', async () => {
    let n = 0;
    h.route('/busy-once', (_req, res) => {
      n += 1;
      if (n === 1) sendJson(res, 503, 'down', { 'retry-after': '20' });
      else sendJson(res, 200, { ok: true });
    });
    const t = harness({ baseDelayMs: 10 });
    await t.client.getJson('/busy-once', {});
    expect(t.sleeps).toEqual([20_000]);
    expect(t.log.filter((l) => l.startsWith('retry '))).toEqual([
      'retry 1/2 in 20 s (the platform asked: Retry-After 20 s): ecnu answered HTTP 503 for /busy-once',
    ]);
  });

  it('gives up without waiting when the wait would pass the whole retry budget', async () => {
    let clock = 0;
    const err = await retrying(
      {
        policy: { ...defaultRetryPolicy, attempts: 10, totalMs: 90_000 },
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      },
      async () => {
        throw new UpstreamError('busy', { transient: true, status: 429, retryAfterMs: 50_000 });
      },
    ).catch((e: unknown) => e);
    expect(clock).toBe(50_000); // one wait of 50 s; the second would end at 100 s > 90 s
    expect((err as Error).message).toMatch(/gave up after 2 attempts: the next retry would pass the 90 s retry budget/);
  });
});

describe('retries are reported, and --retries counts retries', () => {
  it('reports each retry with its cause and says the final error once', async () => {
    const dispatcher = createDispatcher(1);
    dispatchers.push(dispatcher);
    const events: RetryEvent[] = [];
    const client = new ApiClient({
      provider: 'ecnu',
      baseUrl: new URL('http://127.0.0.1:1'),
      tokens: { get: async () => 't', invalidate: () => undefined },
      dispatcher,
      retry: { ...defaultRetryPolicy, attempts: 3 },
      log: () => undefined,
      sleep: async () => undefined,
      onRetry: (e) => events.push(e),
    });
    const err = (await client.getJson('/x', {}).catch((e: unknown) => e)) as Error;
    expect(events.map((e) => `${e.reason}, retry ${e.retry}/${e.retries}`)).toEqual([
      'connection refused, retry 1/2',
      'connection refused, retry 2/2',
    ]);
    expect(err.message).toMatch(/^ecnu: \/x: connection refused \(connect ECONNREFUSED 127\.0\.0\.1:1\) \(gave up after 3 attempts\)$/);
    expect(err.message.match(/ECONNREFUSED/g)).toHaveLength(1);
  });

  it('makes exactly one attempt with zero retries', async () => {
    h.route('/fails', (_req, res) => sendJson(res, 500, 'no'));
    const t = harness({ attempts: 1 });
    await expect(t.client.getJson('/fails', {})).rejects.toThrow(/HTTP 500/);
    expect(requestsTo('/fails')).toBe(1);
    expect(t.retries).toEqual([]);
  });

  it('logs each request for --verbose: method, URL, status, size and time, never the token', async () => {
    h.route('/ok', (_req, res) => sendJson(res, 200, { ok: true }));
    const t = harness();
    await t.client.getJson('/ok', { pageNum: '1', access_token: 'leak' });
    expect(t.log).toHaveLength(1);
    expect(t.log[0]).toMatch(new RegExp(`^GET ${h.url}/ok\\?pageNum=1&access_token=\\*\\*\\* → 200, \\d+ B, \\d+ ms$`));
    expect(t.log.join('\n')).not.toMatch(/the-token|leak/);
  });
});

describe('jsonDepth', () => {
  it('counts brackets outside strings only, escaped quotes included', () => {
    const depth = (text: string) => jsonDepth(Buffer.from(text));
    expect(depth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(depth('["[[[[", "\\"[[[", "a\\\\", ["x"]]')).toBe(2);
    expect(depth('"张三 {[ 李四"')).toBe(0);
    expect(depth('['.repeat(5000))).toBe(maxJsonDepth + 1);
  });
});
