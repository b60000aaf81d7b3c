import { formatShanghai, startOfShanghaiDay } from './clock.js';
import { ecnuSpecs, ecnuUserRow, ecnuUserTypes, freshEcnuUser } from './ecnu-rows.js';
import { makeName, sexOf } from './people.js';
import { Random } from './random.js';
import { makeKeySpaces, type DatasetSpec, type Entry, type KeySpaces, type RowContext } from './rows.js';
import { Table } from './table.js';
import { tongjiSpecs } from './tongji-rows.js';
import type { DatasetId } from './types.js';

export const DAY_SEC = 86_400;
/**
 * Initial stamps lie in the two years before 2026-01-01 00:00 Shanghai, not before "now", so one
 * seed gives the same rows whenever it runs (unless the server clock is set before that day).
 */
const FIXED_ANCHOR = 1_767_196_800;
/** seeds/000's examples show a bulk import on 2021-12-22 20:05; Tongji's start 2022-08-06. */
const ECNU_IMPORT = 1_640_174_714;
const TONGJI_IMPORT = 1_659_715_200;
const DEPARTED = 0.08;
const DELETED = 0.02;

export interface GenerateOptions {
  seed: number;
  people: Record<DatasetId, number>;
  staffKeyField: string;
  tongjiPrecision: 'day' | 'second';
  nowSec: number;
}

export interface Generated {
  tables: Record<DatasetId, Table>;
  keys: KeySpaces;
  nextPid: number;
  /** The calendar year the data is set in (grades, dates). */
  year: number;
  /** Who /oauth2/authorize signs in without login_hint: an on-duty staff member. */
  demoUserId: string | undefined;
}

/** Days stamp 00:00:00 when Tongji's precision is a day (its examples show only midnights). */
export function tongjiStamp(sec: number, precision: 'day' | 'second'): number {
  return precision === 'day' ? startOfShanghaiDay(sec) : sec;
}

export function generate(o: GenerateOptions): Generated {
  const anchor = Math.min(FIXED_ANCHOR, startOfShanghaiDay(o.nowSec) - DAY_SEC);
  const year = Number(formatShanghai(anchor - 180 * DAY_SEC).slice(0, 4));
  const keys = makeKeySpaces();
  const tables = {} as Record<DatasetId, Table>;
  let nextPid = 1;

  const fill = (spec: DatasetSpec, link?: (ctx: RowContext, rng: Random) => number | undefined): Table => {
    const keyField = spec.id === 'ecnu-staff' ? o.staffKeyField : spec.keyField;
    const table = new Table(spec, keyField);
    const rng = new Random(o.seed, `people:${spec.id}`);
    const ecnu = spec.provider === 'ecnu';
    const ctx: RowContext = {
      rng,
      keys,
      name: '',
      sex: '1',
      departed: false,
      created: '',
      updated: '',
      deleted: 0,
      year,
      staffKeyField: o.staffKeyField,
    };
    let createdSec = NaN;
    for (let i = 0; i < o.people[spec.id]; i++) {
      const departed = rng.chance(DEPARTED);
      let updatedSec = pastStamp(rng, anchor);
      // ECNU rows came in one bulk import; rows of the same second share one string (memory).
      const sec = ECNU_IMPORT + Math.floor(i / 4000);
      if (ecnu && sec !== createdSec) ctx.created = formatShanghai((createdSec = sec));
      if (!ecnu) {
        updatedSec = tongjiStamp(updatedSec, o.tongjiPrecision);
        // A Tongji row is created some days before its last change, never before the import.
        ctx.created = formatShanghai(Math.max(TONGJI_IMPORT, startOfShanghaiDay(updatedSec) - rng.int(0, 400) * DAY_SEC));
      }
      ctx.departed = departed;
      ctx.updated = formatShanghai(updatedSec);
      ctx.deleted = ecnu && rng.chance(DELETED) ? 1 : 0;
      ctx.name = makeName(rng);
      let pid = departed ? link?.(ctx, rng) : undefined;
      pid ??= nextPid++;
      ctx.sex = sexOf(o.seed, pid);
      const row = spec.create(ctx);
      table.entries.push({ row, key: String(row[keyField]), updatedSec, pid });
    }
    if (table.sorted) table.sortByKey();
    for (const entry of table.entries) table.byKey.set(entry.key, entry);
    tables[spec.id] = table;
    return table;
  };

  const staff = fill(ecnuSpecs['ecnu-staff']);
  fill(ecnuSpecs['ecnu-postdocs']);
  // Some former students now work here: the same person (pid, name) under a second identity,
  // which is what multisearch and idsearch exist to find.
  const alumnus = (ctx: RowContext, rng: Random): number | undefined => {
    if (staff.entries.length === 0 || !rng.chance(0.15)) return undefined;
    const who = rng.pick(staff.entries);
    ctx.name = String(who.row['name']);
    return who.pid;
  };
  fill(ecnuSpecs['ecnu-students:本科生'], alumnus);
  fill(ecnuSpecs['ecnu-students:研究生'], alumnus);
  fill(ecnuSpecs['ecnu-undergrads']);
  fill(ecnuSpecs['ecnu-customized']);
  fillUsers();
  for (const spec of Object.values(tongjiSpecs)) fill(spec);

  function fillUsers(): void {
    // userinfo holds everyone: people of the other datasets first (same key, name and
    // department), then people found nowhere else once a pool runs out.
    const pools: Record<string, { entries: Entry[]; next: number }> = {};
    const pool = (id: DatasetId) => ({ entries: tables[id].entries, next: 0 });
    pools['本科生'] = pool('ecnu-students:本科生');
    pools['研究生'] = pool('ecnu-students:研究生');
    pools['教职工'] = pools['临时人员'] = pool('ecnu-staff');
    pools['博士后'] = pool('ecnu-postdocs');
    const linked = new Map<string, number>();
    const spec = { ...ecnuSpecs['ecnu-users'] };
    spec.create = (ctx) => {
      const userType = ctx.rng.weighted(ecnuUserTypes);
      const p = pools[userType];
      const src = p?.entries[p.next++];
      if (!src) return freshEcnuUser(ctx, userType);
      const r = src.row;
      const active = r['active'] === '1' || r['status'] === 'on';
      Object.assign(ctx, { name: r['name'], deleted: r['deleted_mark'] === 1 ? 1 : ctx.deleted });
      linked.set(src.key, src.pid);
      const dept = { id: String(r['departmentId']), name: String(r['department']), majors: [] };
      return ecnuUserRow(ctx, src.key, String(r['userType'] ?? userType), dept, active);
    };
    const users = fill(spec);
    // The linked rows take over their source's person id, so every identity agrees on facts.
    for (const entry of users.entries) {
      const pid = linked.get(entry.key);
      if (pid !== undefined) entry.pid = pid;
    }
  }

  const demo = tables['ecnu-users'].entries.find(
    (e) => linkedToStaff(tables, e) && e.row['active'] === '1' && e.row['deleted_mark'] === 0 && e.row['userType'] === '教职工',
  );
  return { tables, keys, nextPid, year, demoUserId: demo?.key };
}

function linkedToStaff(tables: Record<DatasetId, Table>, e: Entry): boolean {
  const s = tables['ecnu-staff'].get(e.key);
  return s !== undefined && s.row['status'] === 'on' && s.row['deleted_mark'] === 0;
}

/** A last change within two years: half at a nightly 02:15 batch (many rows share a second). */
function pastStamp(rng: Random, anchor: number): number {
  const day = anchor - rng.int(1, 730) * DAY_SEC;
  return rng.chance(0.5) ? day + 2 * 3600 + 15 * 60 + rng.int(0, 59) : day + rng.int(0, DAY_SEC - 1);
}
