import type { Row } from '../provider.js';
import { KeyHashes } from './key-hashes.js';
import { parseShanghaiFast } from './shanghai-time.js';

/** The first of `keyFields` that holds a key in `row` (a non-empty string or a number), or -1. */
export function keyFieldIndex(row: Row, keyFields: readonly string[]): number {
  for (let i = 0; i < keyFields.length; i += 1) {
    const v = row[keyFields[i] as string];
    if (typeof v === 'string' ? v !== '' : typeof v === 'number') return i;
  }
  return -1;
}

/** A record's key as text ('' when none of `keyFields` holds one). */
export function keyOf(row: Row, keyFields: readonly string[]): string {
  const i = keyFieldIndex(row, keyFields);
  return i < 0 ? '' : String(row[keyFields[i] as string]);
}

/**
 * What a spool has learnt about the records written to it, apart from the file itself: the
 * field union, the keys seen, which key field the records use, counts and the newest update
 * time. A resumed pull carries it over to the reopened file.
 */
export class SpoolFacts {
  readonly fields: string[] = [];
  readonly #fieldSet = new Set<string>();
  /** The field names of the last row, in order: most rows have the same (see noteFields). */
  #shape: string[] = [];
  #keys = new KeyHashes();
  /** Records keyed by each of the key fields, and the order the fields were first seen in. */
  readonly #keyFieldCounts: number[];
  readonly #keyFieldOrder: number[] = [];
  /** Lines in the spool. */
  count = 0;
  /** Records the platform sent, tombstones included. */
  received = 0;
  deleted = 0;
  hasDuplicateKeys = false;
  maxUpdated: number | undefined;
  maxUpdatedText: string | undefined;

  constructor(readonly keyFields: readonly string[]) {
    this.#keyFieldCounts = keyFields.map(() => 0);
  }

  /** Counts the row's key and returns it; undefined when the row has none. */
  noteKey(row: Row): string | undefined {
    const i = keyFieldIndex(row, this.keyFields);
    if (i < 0) return undefined;
    if ((this.#keyFieldCounts[i] as number) === 0) this.#keyFieldOrder.push(i);
    this.#keyFieldCounts[i] = (this.#keyFieldCounts[i] as number) + 1;
    const key = String(row[this.keyFields[i] as string]);
    if (!this.#keys.add(key)) this.hasDuplicateKeys = true;
    return key;
  }

  noteUpdate(stamp: unknown): void {
    const t = parseShanghaiFast(stamp);
    if (t !== undefined && (this.maxUpdated === undefined || t > this.maxUpdated)) {
      this.maxUpdated = t;
      this.maxUpdatedText = stamp as string;
    }
  }

  /**
   * Adds the row's new field names to the union. Rows of one source nearly always have the
   * previous row's fields in the previous row's order, and property names are interned
   * strings, so comparing with that shape costs a pointer compare per field where the Set
   * cost a hash lookup (9 million of them for a million ECNU records).
   */
  noteFields(row: Row): void {
    const shape = this.#shape;
    let i = 0;
    for (const f in row) {
      if (f !== shape[i]) {
        this.#learnShape(row);
        return;
      }
      i += 1;
    }
    if (i !== shape.length) this.#learnShape(row);
  }

  #learnShape(row: Row): void {
    const shape: string[] = [];
    for (const f in row) {
      shape.push(f);
      if (!this.#fieldSet.has(f)) {
        this.#fieldSet.add(f);
        this.fields.push(f);
      }
    }
    this.#shape = shape;
  }

  /**
   * The scan is over and duplicates are known: frees the key table (16 MB at a million keys),
   * which would otherwise stay alive through the outputs and a snapshot's external sort.
   */
  forgetKeys(): void {
    this.#keys = new KeyHashes(1);
  }

  /** The key field most records use ('userId', 'userid', 'xh'): the SQLite primary-key column. */
  get keyField(): string {
    let keyField = this.keyFields[0] ?? 'id';
    let best = -1;
    for (const i of this.#keyFieldOrder) {
      const n = this.#keyFieldCounts[i] as number;
      if (n > best) [keyField, best] = [this.keyFields[i] as string, n];
    }
    return keyField;
  }
}
