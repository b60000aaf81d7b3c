import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupKind } from '../../src/core/people.js';
import { findLookupKind as findKind } from '../../src/lookup/lookup-kinds.js';
import { directories } from '../../src/providers/index.js';
import { runLookup, type LookupSummary } from '../../src/lookup/run-lookup.js';
import type { Row } from '../../src/core/provider.js';
import { startWorld, type TestWorld } from '../support/env.js';

interface Collected {
  rows: Row[];
  notFound: Array<string | undefined>;
  failures: string[];
  warnings: string[];
  summary: LookupSummary;
}

async function collect(world: TestWorld, kind: LookupKind, ids: string[] | undefined, concurrency = 4): Promise<Collected> {
  const out: Omit<Collected, 'summary'> = { rows: [], notFound: [], failures: [], warnings: [] };
  const summary = await runLookup(
    world.session(kind.provider).client,
    directories[kind.provider],
    { kind, ids, concurrency },
    {
      onRecord: (row) => void out.rows.push(row),
      onNotFound: (id) => void out.notFound.push(id),
      onFailure: (failed, err) => void out.failures.push(`${failed.join(',')}: ${err.message}`),
      onWarning: (m) => void out.warnings.push(m),
    },
  );
  return { ...out, summary };
}

const str = (v: unknown) => String(v);
const findLookupKind = (provider: keyof typeof directories, name: string | undefined) => findKind(directories[provider], name);
const idSearchKind = directories.ecnu.idSearch as LookupKind;

describe('ECNU lookups against the sandbox', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await startWorld({ seed: 11 });
  });
  afterAll(() => w.close());

  const someone = (dataset: Parameters<TestWorld['sb']['truth']>[0], pred: (r: Row) => boolean = () => true) => {
    const row = w.sb.truth(dataset).find(pred);
    if (!row) throw new Error(`no row in ${dataset}`);
    return str(row[w.sb.keyField(dataset)]);
  };

  it('answers every kind for a person of the right dataset, and [] for an unknown id', async () => {
    const cases: Array<[string, string]> = [
      ['info', someone('ecnu-users', (r) => r['active'] === '1')],
      ['staff', someone('ecnu-staff')],
      ['student', someone('ecnu-students:本科生')],
      ['undergrad', someone('ecnu-undergrads')],
      ['grad', someone('ecnu-students:研究生')],
      ['idcard', someone('ecnu-users')],
      ['multi', someone('ecnu-users')],
    ];
    for (const [name, id] of cases) {
      const got = await collect(w, findLookupKind('ecnu', name), [id, 'no-such-person']);
      expect(got.rows.length, name).toBeGreaterThan(0);
      expect(
        got.rows.some((r) => str(r['userId']) === id),
        name,
      ).toBe(true);
      expect(got.notFound, name).toEqual(['no-such-person']);
      expect(got.summary, name).toMatchObject({ notFound: 1, failed: 0 });
    }
  });

  it('info answers only for people in school: a departed person is not found', async () => {
    const gone = someone('ecnu-users', (r) => r['active'] === '0');
    const got = await collect(w, findLookupKind('ecnu', 'info'), [gone]);
    expect(got.rows).toEqual([]);
    expect(got.notFound).toEqual([gone]);
  });

  it('keeps the fields and values exactly as the platform sent them, in input order', async () => {
    const ids = w.sb
      .truth('ecnu-users')
      .filter((r) => r['active'] === '1')
      .slice(0, 12)
      .map((r) => str(r['userId']))
      .reverse();
    const got = await collect(w, findLookupKind('ecnu', 'info'), ids, 5);
    expect(got.rows.map((r) => r['userId'])).toEqual(ids);
    // seeds/001's info example: exactly these six fields.
    expect(Object.keys(got.rows[0] as Row).sort()).toEqual(['active', 'department', 'departmentId', 'name', 'userId', 'userType']);
  });

  it('finds people by ID-card number (idsearch), the number read from sensitive/zj', async () => {
    const id = someone('ecnu-staff');
    const card = await collect(w, findLookupKind('ecnu', 'idcard'), [id]);
    const zjhm = str(card.rows[0]?.['zjhm']);
    expect(zjhm).toMatch(/^\d{17}[\dX]$/);
    const found = await collect(w, idSearchKind, [zjhm, '110105190001010000']);
    expect(found.rows.map((r) => str(r['userId']))).toContain(id);
    expect(found.notFound).toEqual(['110105190001010000']);
  });

  it('reports a platform errCode for one id without stopping the others', async () => {
    // multisearch without its id is the platform's "missing parameter" (1108110519).
    const kind = { ...findLookupKind('ecnu', 'multi'), idParam: 'unused' };
    const got = await collect(w, kind, ['x1', 'x2']);
    expect(got.failures).toHaveLength(2);
    expect(got.failures[0]).toMatch(/errCode 1108110519/);
    expect(got.summary.failed).toBe(2);
  });
});

describe('Tongji lookups through the sync endpoints', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await startWorld({ seed: 12, people: { 'tongji-postdocs': 1100, 'tongji-students': 300, 'tongji-staff': 100 } });
  });
  afterAll(() => w.close());

  it('finds invalid (statusCode 1) students and staff too, with statusCode=-1', async () => {
    for (const [dataset, kind] of [
      ['tongji-students', 'student'],
      ['tongji-staff', 'staff'],
    ] as const) {
      const invalid = w.sb.truth(dataset).find((r) => r['statusCode'] === '1');
      const valid = w.sb.truth(dataset).find((r) => r['statusCode'] === '0');
      const ids = [str(invalid?.['userId']), str(valid?.['userId']), '0000000'];
      const got = await collect(w, findLookupKind('tongji', kind), ids);
      expect(got.rows.map((r) => r['userId'])).toEqual(ids.slice(0, 2));
      expect(got.notFound).toEqual(['0000000']);
    }
  });

  it('batches postdoc ids 500 a request, and tells which ones were not found', async () => {
    const ids = w.sb
      .truth('tongji-postdocs')
      .slice(0, 1000)
      .map((r) => str(r['userId']));
    const asked = [...ids.slice(0, 700), 'missing-1', ...ids.slice(700), 'missing-2'];
    const before = w.sb.stats().byPath['/v2/dc/user/postdoc_info'] ?? 0;
    const got = await collect(w, findLookupKind('tongji', 'postdoc'), asked, 2);
    const requests = (w.sb.stats().byPath['/v2/dc/user/postdoc_info'] ?? 0) - before;
    // 1002 ids → batches of 500, 500, 2; the batches with a missing id look one page further.
    expect(requests).toBeGreaterThanOrEqual(3);
    expect(requests).toBeLessThanOrEqual(5);
    expect(got.failures).toEqual([]);
    expect(got.rows).toHaveLength(1000);
    expect(got.rows.map((r) => r['userId'])).toEqual(ids);
    expect(got.notFound).toEqual(['missing-1', 'missing-2']);
  });

  it('unknown kinds are refused with the provider’s list', () => {
    expect(() => findLookupKind('tongji', 'info')).toThrow(/unknown --kind 'info' for tongji; expected one of student, staff, postdoc/);
    expect(findLookupKind('tongji', undefined).name).toBe('student');
    expect(findLookupKind('ecnu', undefined).name).toBe('info');
  });
});
