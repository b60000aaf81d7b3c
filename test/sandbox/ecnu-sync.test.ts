import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ecnuAll, ecnuToken, getJson, shanghaiToUnix, type Json } from './helpers.js';

let sb: Sandbox;
let token: string;
beforeAll(async () => {
  sb = await startSandbox({ seed: 3 });
  token = await ecnuToken(sb);
});
afterAll(() => sb.close());

const USERS = '/api/v1/sync/userinfo';
const page = (path: string, query: string) => getJson(`${sb.url}${path}${path.includes('?') ? '&' : '?'}${query}`, token);

describe('ECNU sync paging', () => {
  it('pages by number with totalNum; without full only valid rows', async () => {
    const first = await page(USERS, 'ts=0&pageSize=250&pageNum=1');
    expect(first).toMatchObject({ errCode: 0, errMsg: 'success', apiLog: null });
    expect(first['requestId']).toMatch(/^[0-9a-f]{30}$/);
    const valid = sb.truth('ecnu-users').filter((r) => r['active'] === '1');
    expect(first['data']).toMatchObject({ totalNum: valid.length, pageSize: 250, pageNum: 1 });
    expect(first['data'].rows).toHaveLength(250);
    const rows = await ecnuAll(sb, token, USERS, 'ts=0', 250);
    expect(rows.map((r) => r['userId']).sort()).toEqual(valid.map((r) => r['userId']));
    expect(rows.every((r) => r['active'] === '1' && r['deleted_mark'] === 0)).toBe(true);
    const past = await page(USERS, `ts=0&pageSize=250&pageNum=${Math.ceil(valid.length / 250) + 1}`);
    expect(past['data'].rows).toEqual([]);
  });

  it('with full: every row, departed and deleted included', async () => {
    const rows = await ecnuAll(sb, token, USERS, 'ts=0&full=1', 10000);
    expect(rows).toHaveLength(600);
    expect(rows.some((r) => r['deleted_mark'] === 1)).toBe(true);
    expect(rows.some((r) => r['active'] === '0' && r['deleted_mark'] === 0)).toBe(true);
    // truth = full minus tombstones
    expect(rows.filter((r) => r['deleted_mark'] === 0).length).toBe(sb.truth('ecnu-users').length);
  });

  it('serves each dataset with its documented fields and keys', async () => {
    const one = async (path: string) => (await page(path, 'ts=0&pageSize=1&pageNum=1&full=x'))['data'].rows[0] as Json;
    expect(Object.keys(await one('/api/v1/sync/userinfo/rsuserinfo'))).toEqual([
      'created_at',
      'updated_at',
      'deleted_mark',
      'userId',
      'name',
      'departmentId',
      'department',
      'statusname',
      'status',
      'xbm',
      'userType',
    ]);
    expect((await one('/api/v1/sync/userinfo/bsh'))['userType']).toBe('博士后');
    expect((await one('/api/v1/sync/userinfo/studentinfo?type=研究生'))['userType']).toBe('研究生');
    const bk = await one('/api/v1/sync/userinfo/studentinfo_bk');
    expect(bk['xh']).toMatch(/^\d{11}$/);
    expect(bk).toHaveProperty('sfzx');
    expect(bk).toHaveProperty('lxrq');
    const custom = await one('/api/v1/customized/anything');
    expect(custom['userId']).toMatch(/^00\d+$/);
    expect(sb.keyField('ecnu-undergrads')).toBe('xh');
  });

  it.each([
    ['pageSize=10&pageNum=1', 1108110519],
    ['ts=0&pageNum=1', 1108110519],
    ['ts=0&pageSize=10', 1108110519],
    ['ts=abc&pageSize=10&pageNum=1', 1108110301],
    ['ts=0&pageSize=1.5&pageNum=1', 1108110301],
    ['ts=-1&pageSize=10&pageNum=1', 1108110304],
    ['ts=0&pageSize=10001&pageNum=1', 1108110304],
    ['ts=0&pageSize=0&pageNum=1', 1108110304],
    ['ts=0&pageSize=10&pageNum=0', 1108110304],
  ])('%s → errCode %i with HTTP 200', async (query, errCode) => {
    const body = await page(USERS, query);
    expect(body).toMatchObject({ errCode, data: null });
    expect(typeof body['errMsg']).toBe('string');
  });

  it('accepts pageSize 10000; studentinfo needs a known type', async () => {
    expect((await page(USERS, 'ts=0&pageSize=10000&pageNum=1'))['errCode']).toBe(0);
    const base = '/api/v1/sync/userinfo/studentinfo';
    expect(await page(base, 'ts=0&pageSize=1&pageNum=1')).toMatchObject({ errCode: 1108110519, errMsg: '缺少参数 type' });
    expect((await page(`${base}?type=博士生`, 'ts=0&pageSize=1&pageNum=1'))['errCode']).toBe(1108110304);
  });
});

describe('ECNU ts filtering', () => {
  it('reads updated_at as Asia/Shanghai time and compares with >', async () => {
    const all = await ecnuAll(sb, token, USERS, 'ts=0&full=1', 10000);
    const target = all[17] as Json;
    const at = shanghaiToUnix(target['updated_at']);
    const keys = async (ts: number) => (await ecnuAll(sb, token, USERS, `ts=${ts}&full=1`, 10000)).map((r) => r['userId']);
    expect(await keys(at - 1)).toContain(target['userId']);
    expect(await keys(at)).not.toContain(target['userId']);
    const expected = all.filter((r) => shanghaiToUnix(r['updated_at']) > at - 1).length;
    expect((await keys(at - 1)).length).toBe(expected);
  });

  it("with ecnuTsCompare '>=' a row stamped exactly at ts is included", async () => {
    const ge = await startSandbox({ seed: 3, ecnuTsCompare: '>=' });
    try {
      const t = await ecnuToken(ge);
      const row = (await ecnuAll(ge, t, USERS, 'ts=0&full=1', 10000))[17] as Json;
      const rows = await ecnuAll(ge, t, USERS, `ts=${shanghaiToUnix(row['updated_at'])}&full=1`, 10000);
      expect(rows.map((r) => r['userId'])).toContain(row['userId']);
    } finally {
      await ge.close();
    }
  });

  it('shows mutations in an incremental query, all stamped with one server second', async () => {
    const all = await ecnuAll(sb, token, USERS, 'ts=0&full=1', 10000);
    const watermark = Math.max(...all.map((r) => shanghaiToUnix(r['updated_at'])));
    expect((await page(USERS, `ts=${watermark}&pageSize=100&pageNum=1&full=1`))['data'].totalNum).toBe(0);

    const updated = sb.mutate({ dataset: 'ecnu-users', op: 'update', count: 2 });
    const departed = sb.mutate({ dataset: 'ecnu-users', op: 'depart' });
    const deleted = sb.mutate({ dataset: 'ecnu-users', op: 'delete' });
    const inserted = sb.mutate({ dataset: 'ecnu-users', op: 'insert' });
    const changed = await ecnuAll(sb, token, USERS, `ts=${watermark}&full=1`);
    const byKey = new Map(changed.map((r) => [r['userId'], r]));
    expect([...byKey.keys()].sort()).toEqual([...updated, ...departed, ...deleted, ...inserted].sort());
    expect(byKey.get(departed[0])?.['active']).toBe('0');
    expect(byKey.get(deleted[0])?.['deleted_mark']).toBe(1);
    const visible = (await ecnuAll(sb, token, USERS, `ts=${watermark}`)).map((r) => r['userId']);
    expect(visible).not.toContain(departed[0]);
    expect(visible).not.toContain(deleted[0]);
    expect(visible).toContain(inserted[0]);
    const res = await fetch(`${sb.url}${USERS}?ts=0&pageSize=1&pageNum=1`, { headers: { authorization: `Bearer ${token}` } });
    const serverNow = Date.parse(res.headers.get('date') as string) / 1000;
    for (const key of updated) expect(Math.abs(shanghaiToUnix(byKey.get(key)?.['updated_at']) - serverNow)).toBeLessThan(5);
  });

  it('keeps insertion order, so a departure mid-scan shifts the next page', async () => {
    const q = (n: number) => page('/api/v1/sync/userinfo/rsuserinfo', `ts=0&pageSize=50&pageNum=${n}`);
    const before1 = (await q(1))['data'].rows as Json[];
    const before2 = (await q(2))['data'].rows as Json[];
    sb.mutate({ dataset: 'ecnu-staff', op: 'depart', key: before1[3]?.['userId'] });
    const after2 = (await q(2))['data'].rows as Json[];
    expect(after2[0]?.['userId']).toBe(before2[1]?.['userId']);
  });

  it("serves staff keys as 'userid' when configured", async () => {
    const alt = await startSandbox({ ecnuStaffKeyField: 'userid', people: { 'ecnu-users': 10 } });
    try {
      const row = (await getJson(`${alt.url}/api/v1/sync/userinfo/rsuserinfo?ts=0&pageSize=1&pageNum=1`, await ecnuToken(alt)))['data']
        .rows[0];
      expect(row).toHaveProperty('userid');
      expect(row).not.toHaveProperty('userId');
      expect(alt.keyField('ecnu-staff')).toBe('userid');
      expect(alt.truth('ecnu-staff')[0]).toHaveProperty('userid');
    } finally {
      await alt.close();
    }
  });
});
