import { formatShanghai, formatShanghaiDate } from './clock.js';
import { DatasetStore } from './datasets.js';
import { tongjiStamp } from './generate.js';
import { makeName, sexOf } from './people.js';
import { Random } from './random.js';
import type { Entry, RowContext } from './rows.js';
import type { Table } from './table.js';
import { isDatasetId, mutationOps, type Mutation } from './types.js';

/**
 * Changes the data the way the upstream systems would, stamping every row of one call with the
 * same server second (so "changed within the same second as the last run" can be staged).
 * Throws on a bad mutation; the admin endpoint turns that into a 400.
 */
export class Mutator {
  private readonly store: DatasetStore;
  private readonly rng: Random;

  constructor(store: DatasetStore) {
    this.store = store;
    this.rng = new Random(store.seed, 'mutations');
  }

  apply(m: Mutation): string[] {
    validate(m);
    const table = this.store.table(m.dataset);
    const spec = table.spec;
    const ecnu = spec.provider === 'ecnu';
    if (m.op === 'delete' && !ecnu) throw new Error(`${m.dataset}: Tongji has no deletions (rows only become invalid); use depart`);
    if (m.fields && m.op !== 'insert' && table.keyField in m.fields) throw new Error(`fields must not change the key ${table.keyField}`);
    const now = this.store.clock.nowSec();
    const stampSec = ecnu ? now : tongjiStamp(now, this.store.tongjiPrecision);
    const stampText = formatShanghai(stampSec);
    const count = m.count ?? 1;

    let targets: Entry[];
    if (m.op === 'insert') {
      targets = [];
      for (let i = 0; i < count; i++) targets.push(this.insert(table, stampText, stampSec, m.fields));
      if (ecnu) this.store.forgetIndexes();
    } else {
      targets = m.key !== undefined ? [this.byKey(table, m.key)] : this.pick(table, m.op, count);
      const today = formatShanghaiDate(now);
      for (const entry of targets) {
        if (m.op === 'update') spec.update(entry.row, this.rng);
        else if (m.op === 'depart') spec.depart(entry.row, today);
        else entry.row['deleted_mark'] = 1;
        if (m.fields) Object.assign(entry.row, m.fields);
        entry.row[ecnu ? 'updated_at' : 'updateTime'] = stampText;
        entry.updatedSec = stampSec;
      }
    }
    table.touch();
    return targets.map((e) => e.key);
  }

  private byKey(table: Table, key: string): Entry {
    const entry = table.get(key);
    if (!entry) throw new Error(`${table.spec.id}: no row with ${table.keyField} ${key}`);
    return entry;
  }

  private insert(table: Table, stampText: string, stampSec: number, fields: Record<string, unknown> | undefined): Entry {
    const spec = table.spec;
    const pid = this.store.nextPid++;
    const ctx: RowContext = {
      rng: this.rng,
      keys: this.store.keys,
      name: makeName(this.rng),
      sex: sexOf(this.store.seed, pid),
      departed: false,
      created: stampText,
      updated: stampText,
      deleted: 0,
      year: this.store.year,
      staffKeyField: this.store.staffKeyField,
    };
    const row = spec.create(ctx);
    if (fields) Object.assign(row, fields);
    const entry: Entry = { row, key: String(row[table.keyField]), updatedSec: stampSec, pid };
    table.add(entry);
    return entry;
  }

  /** Seeded choice of `count` distinct rows the operation makes sense for. */
  private pick(table: Table, op: 'update' | 'depart' | 'delete', count: number): Entry[] {
    const spec = table.spec;
    const ecnu = spec.provider === 'ecnu';
    const eligible = (e: Entry): boolean => {
      if (ecnu && e.row['deleted_mark'] !== 0) return false;
      return op !== 'depart' || (spec.isActive ?? spec.isValid)(e.row);
    };
    const entries = table.entries;
    const chosen = new Set<Entry>();
    // Random probes first (a million rows), then a sweep from a random offset when rows are scarce.
    for (let tries = 0; chosen.size < count && tries < count * 20 && entries.length > 0; tries++) {
      const e = entries[this.rng.int(0, entries.length - 1)] as Entry;
      if (eligible(e)) chosen.add(e);
    }
    const start = entries.length > 0 ? this.rng.int(0, entries.length - 1) : 0;
    for (let i = 0; chosen.size < count && i < entries.length; i++) {
      const e = entries[(start + i) % entries.length] as Entry;
      if (eligible(e)) chosen.add(e);
    }
    return [...chosen];
  }
}

function validate(m: Mutation): void {
  if (typeof m !== 'object' || m === null) throw new Error('a mutation is an object');
  if (!isDatasetId(m.dataset)) throw new Error(`unknown dataset: ${String(m.dataset)}`);
  if (!mutationOps.includes(m.op)) throw new Error(`unknown op: ${String(m.op)} (update, depart, delete, insert)`);
  if (m.key !== undefined && typeof m.key !== 'string') throw new Error('key must be a string');
  if (m.count !== undefined && (!Number.isInteger(m.count) || m.count < 1)) throw new Error('count must be an integer >= 1');
  if (m.fields !== undefined && (typeof m.fields !== 'object' || m.fields === null || Array.isArray(m.fields))) {
    throw new Error('fields must be an object');
  }
}
