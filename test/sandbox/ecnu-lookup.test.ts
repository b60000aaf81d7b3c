import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ecnuToken, getJson, type Json } from './helpers.js';

let sb: Sandbox;
let token: string;
beforeAll(async () => {
  sb = await startSandbox({ seed: 1 });
  token = await ecnuToken(sb);
});
afterAll(() => sb.close());

const lookup = (what: string, query: string) => getJson(`${sb.url}/api/v1/user/${what}?${query}`, token);

/** GB 11643 checksum, written here independently of the sandbox. */
function validIdNumber(id: string): boolean {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...id.slice(0, 17)].reduce((s, d, i) => s + Number(d) * (w[i] as number), 0);
  return /^\d{17}[\dX]$/.test(id) && '10X98765432'[sum % 11] === id[17];
}

describe('ECNU person lookups', () => {
  it('info answers people in school only; unknown gives []', async () => {
    const active = sb.truth('ecnu-users', { active: '1' })[0] as Json;
    const gone = sb.truth('ecnu-users', { active: '0' })[0] as Json;
    const body = await lookup('info', `userId=${active['userId']}`);
    expect(body).toMatchObject({ errCode: 0, errMsg: 'success' });
    expect(body['data']).toEqual([
      {
        departmentId: active['departmentId'],
        active: '1',
        userType: active['userType'],
        department: active['department'],
        userId: active['userId'],
        name: active['name'],
      },
    ]);
    expect((await lookup('info', `userId=${gone['userId']}`))['data']).toEqual([]);
    expect((await lookup('info', 'userId=nobody'))['data']).toEqual([]);
  });

  it('photo is a real JPEG per person; an unknown id is a JSON error', async () => {
    const [a, b] = sb.truth('ecnu-users').map((r) => r['userId'] as string);
    const fetchPhoto = (id: string) => fetch(`${sb.url}/api/v1/user/photo?userId=${id}`, { headers: { authorization: `Bearer ${token}` } });
    const res = await fetchPhoto(a as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...bytes.subarray(-2)]).toEqual([0xff, 0xd9]);
    expect([...bytes.subarray(2, 4)]).toEqual([0xff, 0xfe]);
    expect(bytes.includes(Buffer.from(a as string))).toBe(true);
    const other = Buffer.from(await (await fetchPhoto(b as string)).arrayBuffer());
    expect(other.equals(bytes)).toBe(false);

    const missing = await fetchPhoto('nobody');
    expect(missing.status).toBe(200);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await missing.json()).toMatchObject({ errCode: 1108110304, errMsg: '用户不存在', data: null });
  });

  it('sensitive/zj gives an 18-character ID number with a valid checksum', async () => {
    const id = sb.truth('ecnu-staff')[0]?.['userId'] as string;
    const [row] = (await lookup('sensitive/zj', `userId=${id}`))['data'];
    expect(row).toMatchObject({ zjlx: '居民身份证', userId: id });
    expect(validIdNumber(row.zjhm)).toBe(true);
  });

  it('profiles come from the matching dataset', async () => {
    const staff = sb.truth('ecnu-staff')[0] as Json;
    const [p] = (await lookup('profile/staff', `userId=${staff['userId']}`))['data'];
    expect(p).toMatchObject({
      userId: staff['userId'],
      name: staff['name'],
      departmentId: staff['departmentId'],
      sexId: staff['xbm'],
      status: staff['status'],
    });
    expect(Array.isArray(p.post)).toBe(true);

    const grad = sb.truth('ecnu-students:研究生')[0] as Json;
    expect((await lookup('profile/yjs', `userId=${grad['userId']}`))['data'][0]).toMatchObject({
      xh: grad['userId'],
      xm: grad['name'],
      yxdm: grad['departmentId'],
    });
    expect((await lookup('profile/student', `userId=${grad['userId']}`))['data'][0]).toMatchObject({
      userId: grad['userId'],
      userType: '研究生',
    });

    const ug = sb.truth('ecnu-undergrads')[0] as Json;
    expect((await lookup('profile/bks', `userId=${ug['xh']}`))['data'][0]).toMatchObject({
      xh: ug['xh'],
      xm: ug['xm'],
      zy: ug['zy'],
      sfzx: ug['sfzx'],
    });

    expect((await lookup('profile/staff', `userId=${grad['userId']}`))['data']).toEqual([]);
  });

  it('multisearch and idsearch find every identity of one person', async () => {
    // Some former students work here now (same person, second identity): find one.
    const formerStudents = [...sb.truth('ecnu-students:本科生'), ...sb.truth('ecnu-students:研究生')].filter((r) => r['active'] === '0');
    let identities: Json[] = [];
    for (const s of formerStudents) {
      identities = (await lookup('multisearch', `userid=${String(s['userId'])}`))['data'];
      if (identities.length > 1) break;
    }
    expect(identities.length).toBeGreaterThan(1);
    expect(new Set(identities.map((i) => i['zjhm'])).size).toBe(1);
    expect(identities.some((i) => i['user_type'] === '教职工' || i['user_type'] === '临时人员')).toBe(true);

    const id = identities[0]?.['userId'];
    const [zj] = (await lookup('sensitive/zj', `userId=${id}`))['data'];
    expect(zj.zjhm.slice(-6)).toBe(identities[0]?.['zjhm']);
    const found = (await lookup('idsearch', `zjhm=${zj.zjhm}`))['data'] as Json[];
    expect(found.map((f) => f['userId']).sort()).toEqual(identities.map((i) => i['userId']).sort());
    expect((await lookup('idsearch', 'zjhm=110105190001010000'))['data']).toEqual([]);
    expect(await lookup('idsearch', '')).toMatchObject({ errCode: 1108110519 });
  });
});
