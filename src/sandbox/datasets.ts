import type { SandboxClock } from './clock.js';
import { generate, type GenerateOptions } from './generate.js';
import { personFacts, type PersonFacts } from './people.js';
import type { KeySpaces, Entry, Row } from './rows.js';
import type { Table } from './table.js';
import { matchesTongji, parseTongjiQuery, type TongjiDataset } from './tongji-query.js';
import { datasetIds, type DatasetId } from './types.js';

export interface StoreOptions extends Omit<GenerateOptions, 'nowSec'> {
  clock: SandboxClock;
}

/** ECNU datasets that hold people a lookup can find, in the order lookups search them. */
export const ecnuPersonDatasets = [
  'ecnu-users',
  'ecnu-staff',
  'ecnu-postdocs',
  'ecnu-students:本科生',
  'ecnu-students:研究生',
  'ecnu-undergrads',
] as const satisfies readonly DatasetId[];

export interface Found {
  dataset: DatasetId;
  entry: Entry;
}

/** The in-memory platforms: every table, the clock they are stamped by, and person indexes. */
export class DatasetStore {
  readonly seed: number;
  readonly clock: SandboxClock;
  readonly tongjiPrecision: 'day' | 'second';
  readonly tables: Record<DatasetId, Table>;
  readonly keys: KeySpaces;
  readonly year: number;
  readonly demoUserId: string | undefined;
  readonly staffKeyField: string;
  nextPid: number;
  private pidIndex: Map<number, Found[]> | undefined;
  private idNumberIndex: Map<string, number> | undefined;

  constructor(o: StoreOptions) {
    this.seed = o.seed;
    this.clock = o.clock;
    this.tongjiPrecision = o.tongjiPrecision;
    this.staffKeyField = o.staffKeyField;
    const g = generate({ ...o, nowSec: o.clock.nowSec() });
    this.tables = g.tables;
    this.keys = g.keys;
    this.year = g.year;
    this.nextPid = g.nextPid;
    this.demoUserId = g.demoUserId;
  }

  table(id: DatasetId): Table {
    return this.tables[id];
  }

  /** ECNU's rule for a row served without `full`: not deleted and "valid" (in school, on duty). */
  static ecnuVisible(table: Table, entry: Entry): boolean {
    return entry.row['deleted_mark'] === 0 && table.spec.isValid(entry.row);
  }

  /**
   * The rows of one ECNU query, in insertion order. ts=0 with full is the whole table (no copy,
   * so a million-row full pull pages by slicing); anything else is filtered once per table version.
   */
  ecnuRows(id: DatasetId, ts: number, compare: '>' | '>=', full: boolean): Entry[] {
    const table = this.tables[id];
    if (ts === 0 && full) return table.entries;
    return table.cached(`${ts}${compare}${full}`, () =>
      table.entries.filter(
        (e) => (full || DatasetStore.ecnuVisible(table, e)) && (ts === 0 || (compare === '>' ? e.updatedSec > ts : e.updatedSec >= ts)),
      ),
    );
  }

  /** Finds a not-deleted ECNU person by id in the given datasets, first match wins. */
  findEcnu(userId: string, datasets: readonly DatasetId[] = ecnuPersonDatasets): Found | undefined {
    for (const dataset of datasets) {
      const entry = this.tables[dataset].get(userId);
      if (entry && entry.row['deleted_mark'] === 0) return { dataset, entry };
    }
    return undefined;
  }

  facts(pid: number): PersonFacts {
    return personFacts(this.seed, pid);
  }

  /** Every not-deleted ECNU identity of one person (built on first use; a million rows is a second). */
  identities(pid: number): Found[] {
    this.pidIndex ??= this.buildPidIndex();
    return (this.pidIndex.get(pid) ?? []).filter((f) => f.entry.row['deleted_mark'] === 0);
  }

  pidOfIdNumber(idNumber: string): number | undefined {
    if (!this.idNumberIndex) {
      this.pidIndex ??= this.buildPidIndex();
      this.idNumberIndex = new Map();
      for (const pid of this.pidIndex.keys()) this.idNumberIndex.set(this.facts(pid).idNumber, pid);
    }
    return this.idNumberIndex.get(idNumber);
  }

  /** New people change who exists; indexes rebuild on next use. */
  forgetIndexes(): void {
    this.pidIndex = undefined;
    this.idNumberIndex = undefined;
  }

  private buildPidIndex(): Map<number, Found[]> {
    const index = new Map<number, Found[]>();
    for (const dataset of ecnuPersonDatasets) {
      for (const entry of this.tables[dataset].entries) {
        const list = index.get(entry.pid);
        if (list) list.push({ dataset, entry });
        else index.set(entry.pid, [{ dataset, entry }]);
      }
    }
    return index;
  }

  /**
   * What a correct client's snapshot must hold: ECNU every row not deleted (departed included),
   * Tongji every row (valid and invalid) matching the filters; as served, sorted by key.
   */
  truth(id: DatasetId, filters: Record<string, string> = {}): Row[] {
    if (!datasetIds.includes(id)) throw new Error(`unknown dataset ${String(id)}`);
    const table = this.tables[id];
    let entries: Entry[];
    if (table.spec.provider === 'ecnu') {
      const pairs = Object.entries(filters);
      entries = table.entries.filter((e) => e.row['deleted_mark'] === 0 && pairs.every(([k, v]) => String(e.row[k]) === v));
    } else {
      const parsed = parseTongjiQuery(id as TongjiDataset, (name) => filters[name], '-1');
      if (!parsed.ok) throw new Error(`bad filter for ${id}: ${parsed.msg}`);
      entries = table.entries.filter((e) => matchesTongji(e, parsed.query));
    }
    return entries
      .map((e) => ({ key: e.key, row: { ...e.row } }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((x) => x.row);
  }
}
