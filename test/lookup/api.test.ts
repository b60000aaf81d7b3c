import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveApiPath } from '../../src/lookup/raw-api.js';
import { startWorld, type TestWorld } from '../support/env.js';
import { runInProcess } from '../support/in-process.js';
import { parseNdjson } from '../support/ndjson.js';

describe('resolveApiPath', () => {
  const base = new URL('https://api.ecnu.edu.cn');
  it('keeps the path and its query on the base URL', () => {
    expect(resolveApiPath('/api/v1/user/info?userId=1', base)).toEqual({ path: '/api/v1/user/info', query: { userId: '1' } });
    expect(resolveApiPath('/x', new URL('https://gw.example/prefix/'))).toEqual({ path: '/x', query: {} });
  });
  it('refuses anything that could send the token elsewhere', () => {
    for (const bad of ['https://evil.example/x', 'api/v1', '//evil.example/x', '/\\evil.example/x', '/a b', '']) {
      expect(() => resolveApiPath(bad, base), bad).toThrow(/must start with a single '\/'/);
    }
    // Dot segments are resolved before the join, so they cannot climb out of a gateway prefix.
    expect(resolveApiPath('/../admin', new URL('https://gw.example/prefix/')).path).toBe('/admin');
    expect(resolveApiPath('/%2e%2e/admin', new URL('https://gw.example/prefix/')).path).toBe('/admin');
  });
});

describe('idsync api (command layer, in process)', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await startWorld({ seed: 41, people: { 'tongji-staff': 2300 } });
  });
  afterAll(() => w.close());
  const api = (args: string[], tty = false) => runInProcess(['api', ...args], w.env, { tty });

  it('prints the JSON answer: compact for a pipe, pretty for a terminal', async () => {
    const id = String(w.sb.truth('ecnu-users').find((r) => r['active'] === '1')?.['userId']);
    const pipe = await api(['/api/v1/user/info', '--provider', 'ecnu', '--param', `userId=${id}`]);
    expect(pipe.exitCode).toBe(0);
    expect(pipe.stdout.trimEnd().split('\n')).toHaveLength(1);
    const body = JSON.parse(pipe.stdout) as { errCode: number; data: Array<{ userId: string }> };
    expect(body.errCode).toBe(0);
    expect(body.data[0]?.userId).toBe(id);
    const tty = await api([`/api/v1/user/info?userId=${id}`, '--provider', 'ecnu'], true);
    expect(tty.stdout).toContain('\n  "data": [');
  });

  it('masks ID-card numbers unless --reveal', async () => {
    const id = String(w.sb.truth('ecnu-users')[0]?.['userId']);
    const r = await api(['/api/v1/user/sensitive/zj', '--provider', 'ecnu', '--param', `userId=${id}`]);
    expect((JSON.parse(r.stdout) as { data: Array<{ zjhm: string }> }).data[0]?.zjhm).toMatch(/^\d{3}\*{11}[\dX]{4}$/);
    const shown = await api(['/api/v1/user/sensitive/zj', '--provider', 'ecnu', '--param', `userId=${id}`, '--reveal']);
    expect((JSON.parse(shown.stdout) as { data: Array<{ zjhm: string }> }).data[0]?.zjhm).toMatch(/^\d{17}[\dX]$/);
  });

  it('turns an errCode answer into an upstream error naming errCode, errMsg and requestId', async () => {
    const r = await api(['/api/v1/sync/userinfo', '--provider', 'ecnu']);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/errCode 11081105\d\d, errMsg '.+', requestId \S+/);
    expect(r.stdout).toBe('');
  });

  it('--paginate follows ECNU page numbers: every row once, one a line', async () => {
    const r = await api([
      '/api/v1/sync/userinfo',
      '--provider',
      'ecnu',
      '--paginate',
      '--param',
      'ts=0',
      '--param',
      'full=1',
      '--param',
      'pageSize=100',
    ]);
    expect(r.exitCode).toBe(0);
    const rows = parseNdjson(r.stdout);
    const ids = rows.map((x) => x['userId']);
    expect(new Set(ids).size).toBe(ids.length);
    // full=1 adds the deleted rows to what the platform holds (truth).
    const kept = rows.filter((x) => x['deleted_mark'] !== 1).map((x) => x['userId']);
    expect(new Set(kept)).toEqual(new Set(w.sb.truth('ecnu-users').map((x) => x['userId'])));
    expect(rows.length).toBe(600);
    expect(w.sb.stats().byPath['/api/v1/sync/userinfo']).toBeGreaterThanOrEqual(6);
  });

  it('--paginate follows the Tongji cursor over several pages', async () => {
    const r = await api(['/v2/dc/user/teacher_infos', '--provider', 'tongji', '--paginate', '--param', 'statusCode=-1']);
    expect(r.exitCode).toBe(0);
    const rows = parseNdjson(r.stdout);
    expect(rows).toHaveLength(2300);
    expect(new Set(rows.map((x) => x['userId'])).size).toBe(2300);
  });

  it('refuses full URLs to other hosts before any request', async () => {
    const before = w.sb.stats().requests;
    const r = await api(['https://evil.example/api', '--provider', 'ecnu']);
    expect(r.exitCode).toBe(2);
    expect(w.sb.stats().requests).toBe(before);
  });
});
