import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ecnuToken, getJson, postForm, shanghaiToUnix, tongjiAll, tongjiToken, unixToShanghai, type Json } from './helpers.js';

let sb: Sandbox;
let token: string;
beforeAll(async () => {
  sb = await startSandbox({ seed: 5, tongjiRateLimit: 1000 });
  token = await tongjiToken(sb);
});
afterAll(() => sb.close());

const STUDENTS = '/v2/dc/user/student_infos';
const STAFF = '/v2/dc/user/teacher_infos';
const POSTDOCS = '/v2/dc/user/postdoc_info';
const get = (path: string, query = '', headers: Record<string, string> = {}) => getJson(`${sb.url}${path}?${query}`, token, headers);

describe('Tongji token', () => {
  it('answers a JWT-shaped token', async () => {
    const res = await postForm(`${sb.url}/v1/token`, {
      grant_type: 'client_credentials',
      client_id: 'sandbox-tongji',
      client_secret: 'sandbox-tongji-secret',
    });
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ expires_in: 7200, refresh_expires_in: 0, token_type: 'Bearer', 'not-before-policy': 0, scope: 'profile' });
    expect(body['access_token'].split('.')).toHaveLength(3);
  });

  it('refuses a bad client with 401 unauthorized_client', async () => {
    const res = await postForm(`${sb.url}/v1/token`, { grant_type: 'client_credentials', client_id: 'sandbox-tongji', client_secret: 'x' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized_client' });
  });

  it.each([
    ['no token', {}],
    ['an ECNU token', 'ecnu'],
  ] as const)('answers %s with 401 and an empty body', async (_w, kind) => {
    const headers = kind === 'ecnu' ? { authorization: `Bearer ${await ecnuToken(sb)}` } : {};
    const res = await fetch(`${sb.url}${STUDENTS}`, { headers });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('');
  });

  it('answers an unknown /v2 path with a plain 404', async () => {
    const res = await fetch(`${sb.url}/v2/dc/user/nobody`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });
});

describe('Tongji cursor paging', () => {
  it('walks 3 pages of 1000 sorted by userId; the trailing cursor ends on an empty page', async () => {
    const { rows, pages } = await tongjiAll(sb, token, STUDENTS);
    expect(pages.map((p) => p['data'].count)).toEqual([1000, 1000, rows.length - 2000, 0]);
    expect(pages[2]?.['data'].sinceUserId).toBe(rows[rows.length - 1]?.['userId']);
    expect(pages[3]?.['data'].sinceUserId).toBe('');
    expect(pages[0]).toMatchObject({ code: 'A00000', msg: '成功' });
    const keys = rows.map((r) => r['userId']);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toEqual(sb.truth('tongji-students', { statusCode: '0' }).map((r) => r['userId']));
    expect(keys.every((k) => /^2\d{6}$/.test(k))).toBe(true);
  });

  it("without the trailing cursor the final page says sinceUserId ''", async () => {
    const alt = await startSandbox({ seed: 5, tongjiTrailingCursor: false });
    try {
      const { pages } = await tongjiAll(alt, await tongjiToken(alt), STUDENTS);
      expect(pages.map((p) => p['data'].sinceUserId === '')).toEqual([false, false, true]);
    } finally {
      await alt.close();
    }
  });

  it('statusCode: absent/0 valid, 1 invalid, -1 all; anything else A00400', async () => {
    const all = sb.truth('tongji-staff');
    const ids = async (q: string) => (await tongjiAll(sb, token, STAFF, q)).rows.map((r) => r['userId'] as string);
    expect(await ids('')).toEqual(all.filter((r) => r['statusCode'] === '0').map((r) => r['userId']));
    expect(await ids('statusCode=0')).toEqual(await ids(''));
    const invalid = await ids('statusCode=1');
    expect(invalid.length).toBeGreaterThan(0);
    expect(invalid).toEqual(all.filter((r) => r['statusCode'] === '1').map((r) => r['userId']));
    expect(await ids('statusCode=-1')).toEqual(all.map((r) => r['userId']));
    expect(await get(STAFF, 'statusCode=7')).toEqual({ code: 'A00400', msg: '参数错误', data: null });
  });

  it('takes parameters from headers too, the query winning', async () => {
    const fromHeader = await get(STAFF, '', { statusCode: '1' });
    expect(fromHeader['data'].userInfos.every((r: Json) => r['statusCode'] === '1')).toBe(true);
    const both = await get(STAFF, 'statusCode=0', { statusCode: '1' });
    expect(both['data'].userInfos.every((r: Json) => r['statusCode'] === '0')).toBe(true);
  });

  it('filters by the documented codes', async () => {
    const { rows } = await tongjiAll(sb, token, STUDENTS, 'deptCode=000020&statusCode=-1');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r['deptCode'] === '000020')).toBe(true);
    expect(rows).toEqual(sb.truth('tongji-students', { deptCode: '000020' }));
    const grade = String(rows[0]?.['currentGrade']);
    const byGrade = await tongjiAll(sb, token, STUDENTS, `currentGrade=${grade}&statusCode=-1`);
    expect(byGrade.rows.every((r) => String(r['currentGrade']) === grade)).toBe(true);
  });

  it('sinceUpdateTime keeps rows updated strictly after it, as a stamp or unix seconds', async () => {
    const all = sb.truth('tongji-students');
    const target = all[42] as Json;
    const at = shanghaiToUnix(target['updateTime']);
    const ids = async (since: string) =>
      (await tongjiAll(sb, token, STUDENTS, `statusCode=-1&sinceUpdateTime=${encodeURIComponent(since)}`)).rows.map((r) => r['userId']);
    const before = await ids(unixToShanghai(at - 1));
    expect(before).toContain(target['userId']);
    expect(before).toHaveLength(all.filter((r) => shanghaiToUnix(r['updateTime'] as string) > at - 1).length);
    expect(await ids(unixToShanghai(at))).not.toContain(target['userId']);
    expect(await ids(String(at - 1))).toEqual(before);
    expect(await get(STUDENTS, 'sinceUpdateTime=yesterday')).toMatchObject({ code: 'A00400', data: null });
  });

  it('postdoc_info takes up to 500 comma-separated ids', async () => {
    const all = sb.truth('tongji-postdocs');
    const three = all.slice(0, 3).map((r) => r['userId']);
    const body = await get(POSTDOCS, `userId=${three.join(',')},9999999`);
    expect(body['data'].userInfos.map((r: Json) => r['userId'])).toEqual(three);
    expect(Object.keys(body['data'].userInfos[0])).toEqual(expect.arrayContaining(['postdocExitDate', 'createTime', 'updateTime']));
    const many = Array.from({ length: 501 }, (_, i) => String(1_000_000 + i)).join(',');
    expect(await get(POSTDOCS, `userId=${many}`)).toMatchObject({ code: 'A00400', msg: 'userId 超过 500 个', data: null });
    expect((await get(STUDENTS, 'userId=2999999'))['data'].userInfos).toEqual([]);
  });
});

describe('Tongji update stamps and limits', () => {
  it('stamps updateTime at midnight by default, to the second when asked', async () => {
    const [key] = sb.mutate({ dataset: 'tongji-staff', op: 'update' });
    const row = sb.truth('tongji-staff').find((r) => r['userId'] === key) as Json;
    expect(row['updateTime']).toMatch(/ 00:00:00$/);
    const exact = await startSandbox({ tongjiUpdatePrecision: 'second', people: { 'ecnu-users': 1 } });
    try {
      const before = Math.floor(Date.now() / 1000);
      const [k] = exact.mutate({ dataset: 'tongji-students', op: 'depart' });
      const r = exact.truth('tongji-students').find((x) => x['userId'] === k) as Json;
      expect(Math.abs(shanghaiToUnix(r['updateTime']) - before)).toBeLessThan(3);
      expect(r).toMatchObject({ statusCode: '1', statusName: '失效' });
    } finally {
      await exact.close();
    }
  });

  it('answers 429 with Retry-After: 1 above the rate limit', async () => {
    const limited = await startSandbox({ tongjiRateLimit: 5, people: { 'ecnu-users': 1 } });
    try {
      const t = await tongjiToken(limited);
      const burst = await Promise.all(
        Array.from({ length: 9 }, () => fetch(`${limited.url}${POSTDOCS}?userId=1`, { headers: { authorization: `Bearer ${t}` } })),
      );
      const refused = burst.filter((r) => r.status === 429);
      expect(burst.filter((r) => r.status === 200)).toHaveLength(5);
      expect(refused).toHaveLength(4);
      expect(refused[0]?.headers.get('retry-after')).toBe('1');
      // A second later on the sandbox's clock, the window has room again.
      limited.setClockSkew(1.1);
      expect((await fetch(`${limited.url}${POSTDOCS}?userId=1`, { headers: { authorization: `Bearer ${t}` } })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
