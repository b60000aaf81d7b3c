import fs from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openSession, type Session } from '../../src/core/session.js';
import { AuthError, UpstreamError } from '../../src/core/errors.js';
import { ecnu } from '../../src/providers/ecnu/index.js';
import { tongji } from '../../src/providers/tongji/index.js';
import type { Page } from '../../src/core/provider.js';
import { sandboxEnv, tempDir } from '../support/env.js';

let sandbox: Sandbox;
let home: string;
const sessions: Session[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 3 });
});
afterAll(async () => {
  await sandbox.close();
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  sandbox.setFaults({});
});

async function session(extra: Record<string, string> = {}, retry = {}): Promise<Session> {
  home ??= await tempDir();
  const s = openSession({
    provider: extra['provider'] === 'tongji' ? 'tongji' : 'ecnu',
    env: sandboxEnv(sandbox, home, extra),
    log: () => undefined,
    retry: { baseDelayMs: 5, ...retry },
  });
  sessions.push(s);
  return s;
}

async function collect(pages: AsyncIterable<Page>): Promise<Page[]> {
  const out: Page[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

const users = ecnu.sources.find((s) => s.name === 'ecnu-users')!;
const students = tongji.sources.find((s) => s.name === 'tongji-students')!;

describe('ECNU pages', () => {
  it('yields every row once, in page order, with several pages in flight', async () => {
    const s = await session();
    const pages = await collect(ecnu.pages(s.client, { source: users, params: {}, since: undefined, pageSize: 37, concurrency: 5 }));
    expect(pages.map((p) => p.index)).toEqual(pages.map((_, i) => i + 1));
    const keys = pages.flatMap((p) => p.rows.map((r) => r['userId']));
    expect(new Set(keys).size).toBe(keys.length);
    // full=1: deleted rows come too, so the scan holds more than the truth (which drops them).
    expect(keys.length).toBeGreaterThan(sandbox.truth('ecnu-users').length);
    expect(pages[0]?.serverTime).toBeGreaterThan(1_600_000_000);
  });

  it('reuses the cached token across sessions and gets a fresh one after each A401OT', async () => {
    const s1 = await session();
    await collect(ecnu.pages(s1.client, { source: users, params: {}, since: undefined, pageSize: 1000, concurrency: 1 }));
    const tokenRequests = () => sandbox.stats().byPath['/oauth2/token'] ?? 0;
    const before = tokenRequests();
    const s2 = await session();
    await collect(ecnu.pages(s2.client, { source: users, params: {}, since: undefined, pageSize: 1000, concurrency: 1 }));
    expect(tokenRequests()).toBe(before); // cached across runs
    sandbox.setFaults({ revokeTokens: 1 });
    // Every request revokes every token: each fresh one is rejected too, so after the bounded
    // attempts the run fails with an AuthError — having asked for a new token each time.
    await expect(
      collect(ecnu.pages(s2.client, { source: users, params: {}, since: undefined, pageSize: 1000, concurrency: 1 })),
    ).rejects.toBeInstanceOf(AuthError);
    expect(tokenRequests()).toBeGreaterThan(before + 1);
    // Every rejection dropped the token; all but the last were followed by a fresh one.
    expect(s2.client.stats.reauths).toBe(tokenRequests() - before + 1);
  });

  it('names errCode, errMsg and requestId of a platform error, without retrying it', async () => {
    const s = await session();
    const bad = { ...users, path: '/api/v1/sync/userinfo/studentinfo' }; // no `type`: errCode 1108110519
    const err = await collect(ecnu.pages(s.client, { source: bad, params: {}, since: undefined, pageSize: 10, concurrency: 1 })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpstreamError);
    expect(String((err as Error).message)).toMatch(/errCode 1108110519, errMsg '.+', requestId \S+/);
    expect(s.client.stats.retries).toBe(0);
  });

  it('retries transient faults and still returns every row', async () => {
    const s = await session({}, { attempts: 12 });
    sandbox.setFaults({ http500: 0.2, ecnuTransientErr: 0.2, malformed: 0.1, truncated: 0.1 });
    const pages = await collect(ecnu.pages(s.client, { source: users, params: {}, since: undefined, pageSize: 50, concurrency: 3 }));
    sandbox.setFaults({});
    const keys = new Set(pages.flatMap((p) => p.rows.map((r) => String(r['userId']))));
    for (const row of sandbox.truth('ecnu-users')) expect(keys.has(String(row['userId']))).toBe(true);
    expect(s.client.stats.retries).toBeGreaterThan(0);
  });

  it('refuses a wrong secret with an AuthError that does not contain it', async () => {
    const s = await session({ IDSYNC_ECNU_CLIENT_SECRET: 'not-the-secret-xyz' });
    const err = await collect(ecnu.pages(s.client, { source: users, params: {}, since: undefined, pageSize: 10, concurrency: 1 })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthError);
    expect(String((err as Error).message)).not.toContain('not-the-secret-xyz');
  });
});

describe('Tongji pages', () => {
  it('follows sinceUserId to the end and sends the same sinceUpdateTime on every page', async () => {
    const s = await session({ provider: 'tongji' });
    const asked: Record<string, string>[] = [];
    const getJson = s.client.getJson.bind(s.client);
    vi.spyOn(s.client, 'getJson').mockImplementation((path, query, check) => {
      asked.push({ ...query });
      return getJson(path, query, check);
    });
    const since = Date.parse('2020-01-01T00:00:00+08:00') / 1000;
    const pages = await collect(tongji.pages(s.client, { source: students, params: {}, since, pageSize: undefined, concurrency: 1 }));
    const keys = pages.flatMap((p) => p.rows.map((r) => String(r['userId'])));
    expect(keys.length).toBe(sandbox.truth('tongji-students').length);
    expect([...keys].sort()).toEqual(keys); // cursor order
    expect(pages.length).toBeGreaterThan(1);
    // Each page's cursor is what the next request sends. The end is a page without one, or (as
    // the sandbox does it) an empty answer to the last cursor.
    const cursors = pages.map((p) => p.cursor);
    for (const c of cursors.slice(0, -1)) expect(c).toMatch(/\S/);
    expect(asked.map((q) => q['sinceUserId'])).toEqual([undefined, ...cursors.filter((c) => c !== undefined)]);
    expect(new Set(asked.map((q) => q['sinceUpdateTime']))).toEqual(new Set(['2020-01-01 00:00:00']));
  });

  it('resumes after a given cursor', async () => {
    const s = await session({ provider: 'tongji' });
    const all = sandbox.truth('tongji-students').map((r) => String(r['userId']));
    const cursor = all[1500]!;
    const pages = await collect(
      tongji.pages(s.client, { source: students, params: {}, since: undefined, pageSize: undefined, concurrency: 1, resumeCursor: cursor }),
    );
    expect(pages.flatMap((p) => p.rows.map((r) => String(r['userId'])))).toEqual(all.slice(1501));
  });
});

afterAll(async () => {
  if (home) await fs.rm(home, { recursive: true, force: true });
});
