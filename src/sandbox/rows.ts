import type { Random } from './random.js';
import type { SexCode } from './people.js';
import type { DatasetId } from './types.js';

/** A record exactly as the API serves it. */
export type Row = Record<string, unknown>;

/**
 * A stored row plus what the sandbox needs without re-parsing it: the key, the last-change time
 * as unix seconds (so `ts` filters compare numbers), and the person id that links the identities
 * of one person across datasets.
 */
export interface Entry {
  row: Row;
  key: string;
  updatedSec: number;
  pid: number;
}

/** Fresh keys: a prefix and a zero-padded counter that grows by 1–3, so keys never collide. */
export class KeySequence {
  private counter: number;
  private readonly prefix: string;
  private readonly width: number;

  constructor(prefix: string, width: number, start: number) {
    this.prefix = prefix;
    this.width = width;
    this.counter = start;
  }

  next(rng: Random): string {
    this.counter += rng.int(1, 3);
    return this.prefix + String(this.counter).padStart(this.width, '0');
  }
}

/** One sequence per key space; datasets sharing a space never hand out the same key. */
export interface KeySpaces {
  ecnuStaff: KeySequence;
  ecnuUndergrad: KeySequence;
  ecnuGrad: KeySequence;
  ecnuCustom: KeySequence;
  tongjiStudent: KeySequence;
  tongjiStaff0: KeySequence;
  tongjiStaff1: KeySequence;
}

export function makeKeySpaces(): KeySpaces {
  return {
    ecnuStaff: new KeySequence('20', 4, 1000),
    ecnuUndergrad: new KeySequence('10', 9, 210_000_000),
    ecnuGrad: new KeySequence('51', 9, 210_000_000),
    // Leading zeros on purpose: a client that turns ids into numbers loses them.
    ecnuCustom: new KeySequence('00', 6, 1200),
    tongjiStudent: new KeySequence('2', 6, 100_000),
    tongjiStaff0: new KeySequence('0', 6, 10_000),
    tongjiStaff1: new KeySequence('1', 6, 10_000),
  };
}

export interface RowContext {
  rng: Random;
  keys: KeySpaces;
  name: string;
  sex: SexCode;
  /** Create the person as already gone (left school, quit, invalid). */
  departed: boolean;
  created: string;
  updated: string;
  deleted: 0 | 1;
  /** Year the data set is anchored at, for grades and dates. */
  year: number;
  staffKeyField: string;
}

export interface DatasetSpec {
  id: DatasetId;
  provider: 'ecnu' | 'tongji';
  keyField: string;
  /** Path (and fixed query) that serves the dataset. */
  path: string;
  /** Served without `full` (ECNU, besides deleted_mark 0) or with statusCode 0 (Tongji). */
  isValid(row: Row): boolean;
  /** Not departed yet; defaults to isValid (postdoc_info serves everyone, departed or not). */
  isActive?(row: Row): boolean;
  create(ctx: RowContext): Row;
  /** Change a visible field. */
  update(row: Row, rng: Random): void;
  /** The person leaves; `today` is 'YYYY-MM-DD' in Shanghai time. */
  depart(row: Row, today: string): void;
}

/** Picks an item that differs from the current one, so an update always changes something. */
export function pickOther<T>(rng: Random, items: readonly T[], current: (item: T) => boolean): T {
  for (let i = 0; i < 8; i++) {
    const item = rng.pick(items);
    if (!current(item)) return item;
  }
  return items.find((item) => !current(item)) ?? rng.pick(items);
}
