import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetIds, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ecnuAll, ecnuToken, shanghaiToUnix, type Json } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ seed: 11 });
});
afterAll(() => sb.close());

const find = (dataset: Parameters<Sandbox['truth']>[0], key: string) =>
  sb.truth(dataset).find((r) => r[sb.keyField(dataset)] === key) as Json | undefined;

describe('determinism', () => {
  it('one seed gives the same people; another seed different ones', async () => {
    const [a, b, c] = await Promise.all([startSandbox({ seed: 7 }), startSandbox({ seed: 7 }), startSandbox({ seed: 8 })]);
    try {
      for (const id of datasetIds) expect(b.truth(id)).toEqual(a.truth(id));
      expect(c.truth('ecnu-users')).not.toEqual(a.truth('ecnu-users'));
      expect(b.mutate({ dataset: 'ecnu-staff', op: 'update', count: 3 })).toEqual(
        a.mutate({ dataset: 'ecnu-staff', op: 'update', count: 3 }),
      );
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('has the default row counts, some departed and some deleted', () => {
    const counts: Record<string, number> = { 'ecnu-users': 600, 'ecnu-staff': 250, 'ecnu-undergrads': 300, 'tongji-students': 2500 };
    for (const [id, n] of Object.entries(counts)) {
      const truth = sb.truth(id as never);
      if (id.startsWith('tongji')) expect(truth).toHaveLength(n);
      else expect(truth.length).toBeLessThan(n); // tombstones are not in truth
    }
    expect(sb.truth('ecnu-users').some((r) => r['active'] === '0')).toBe(true);
    expect(sb.truth('tongji-staff').some((r) => r['statusCode'] === '1')).toBe(true);
  });
});

describe('truth', () => {
  it('ECNU: every row not deleted, departed included, as served, sorted by key', async () => {
    const token = await ecnuToken(sb);
    const served = await ecnuAll(sb, token, '/api/v1/sync/userinfo/studentinfo_bk', 'ts=0&full=1', 10000);
    const expected = served.filter((r) => r['deleted_mark'] === 0).sort((x, y) => (x['xh'] < y['xh'] ? -1 : 1));
    expect(sb.truth('ecnu-undergrads')).toEqual(expected);
  });

  it('returns copies: changing them does not change the sandbox', () => {
    const [row] = sb.truth('ecnu-postdocs');
    (row as Json)['name'] = 'changed';
    expect(sb.truth('ecnu-postdocs')[0]?.['name']).not.toBe('changed');
  });
});

describe('mutate', () => {
  it('update changes a visible field and stamps every row of one call with the same second', () => {
    const before = new Map(sb.truth('ecnu-staff').map((r) => [r['userId'], r]));
    const keys = sb.mutate({ dataset: 'ecnu-staff', op: 'update', count: 4 });
    expect(new Set(keys).size).toBe(4);
    const after = keys.map((k) => find('ecnu-staff', k) as Json);
    expect(new Set(after.map((r) => r['updated_at'])).size).toBe(1);
    expect(Math.abs(shanghaiToUnix(after[0]?.['updated_at']) - Date.now() / 1000)).toBeLessThan(3);
    for (const r of after) expect(r['departmentId']).not.toBe(before.get(r['userId'])?.['departmentId']);
  });

  it.each([
    ['ecnu-users', { active: '0' }],
    ['ecnu-staff', { status: 'quit', statusname: '离职' }],
    ['ecnu-postdocs', { status: 'quit' }],
    ['ecnu-students:本科生', { active: '0' }],
    ['ecnu-undergrads', { sfzx: '0' }],
    ['tongji-students', { statusCode: '1', statusName: '失效' }],
    ['tongji-staff', { statusCode: '1', statusName: '失效', currentStatusCode: '21' }],
  ] as const)('depart on %s', (dataset, expected) => {
    const [key] = sb.mutate({ dataset, op: 'depart' });
    expect(find(dataset, key as string)).toMatchObject(expected);
  });

  it('depart on tongji-postdocs sets the exit date to today', () => {
    const [key] = sb.mutate({ dataset: 'tongji-postdocs', op: 'depart' });
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    expect(find('tongji-postdocs', key as string)?.['postdocExitDate']).toBe(today);
  });

  it('delete leaves a tombstone that truth leaves out; Tongji cannot delete', () => {
    const [key] = sb.mutate({ dataset: 'ecnu-customized', op: 'delete' });
    expect(sb.truth('ecnu-customized').map((r) => r['userId'])).not.toContain(key);
    expect(() => sb.mutate({ dataset: 'tongji-staff', op: 'delete' })).toThrow(/depart/);
  });

  it('insert adds fresh keys with the given fields; bad mutations throw', () => {
    const before = sb.truth('tongji-students').length;
    const keys = sb.mutate({ dataset: 'tongji-students', op: 'insert', count: 3, fields: { deptCode: '000080', deptName: '软件学院' } });
    expect(sb.truth('tongji-students')).toHaveLength(before + 3);
    for (const k of keys) expect(find('tongji-students', k)).toMatchObject({ deptCode: '000080', statusCode: '0' });
    const [custom] = sb.mutate({ dataset: 'ecnu-customized', op: 'insert' });
    expect(custom).toMatch(/^00\d+$/);
    expect(() => sb.mutate({ dataset: 'ecnu-users', op: 'update', key: 'nobody' })).toThrow();
    expect(() => sb.mutate({ dataset: 'nope' as never, op: 'update' })).toThrow(/unknown dataset/);
    expect(() => sb.mutate({ dataset: 'ecnu-users', op: 'update', count: 0 })).toThrow(/count/);
  });

  it('fields override a given row', () => {
    const key = sb.truth('ecnu-users')[3]?.['userId'] as string;
    expect(sb.mutate({ dataset: 'ecnu-users', op: 'update', key, fields: { name: '测试' } })).toEqual([key]);
    expect(find('ecnu-users', key)?.['name']).toBe('测试');
  });
});

describe('admin endpoints', () => {
  const admin = (path: string, body?: unknown) =>
    fetch(`${sb.url}/__sandbox/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });

  it('info, mutate, truth, clock, stats', async () => {
    const info = (await (await admin('info')).json()) as Json;
    expect(info['url']).toBe(sb.url);
    expect(info['datasets']['ecnu-undergrads']).toMatchObject({ keyField: 'xh', path: '/api/v1/sync/userinfo/studentinfo_bk' });
    const { keys } = (await (await admin('mutate', { dataset: 'tongji-staff', op: 'update', count: 2 })).json()) as Json;
    expect(keys).toHaveLength(2);
    const truth = (await (await admin('truth?dataset=tongji-staff&deptCode=000310')).json()) as Json[];
    expect(truth).toEqual(sb.truth('tongji-staff', { deptCode: '000310' }));
    expect((await admin('clock', { skewSeconds: 86400 })).status).toBe(200);
    const date = Date.parse((await fetch(`${sb.url}/v2/nothing`)).headers.get('date') as string);
    expect(date - Date.now()).toBeGreaterThan(86_000_000);
    await admin('clock', { skewSeconds: 0 });
    const stats = (await (await admin('stats')).json()) as Json;
    expect(stats['byPath']['/v2/nothing']).toBe(1);
    expect(stats['requests']).toBeGreaterThan(0);
  });

  it('answers bad input with 400 {error}', async () => {
    for (const res of [
      await admin('mutate', { dataset: 'x', op: 'update' }),
      await admin('truth?dataset=x'),
      await admin('faults', { http500: 2 }),
      await admin('faults', { nonsense: 0.1 }),
      await admin('clock', { skewSeconds: 'soon' }),
      await fetch(`${sb.url}/__sandbox/mutate`, { method: 'POST', body: '{not json' }),
    ]) {
      expect(res.status).toBe(400);
      expect(typeof ((await res.json()) as Json)['error']).toBe('string');
    }
  });
});
