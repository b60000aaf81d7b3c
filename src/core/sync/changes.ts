import { randomBytes } from 'node:crypto';
import type { Row } from '../provider.js';

export type ChangeOp = 'insert' | 'update' | 'delete';

/**
 * One change of a snapshot (CLI.md, "Change feed"). `before` and `after` are the stored record
 * before and after the run: the record as the platform sent it for an NDJSON snapshot, the
 * row's non-NULL columns as text for a database snapshot, so that replaying the events in
 * order reproduces the snapshot exactly, whatever its kind.
 */
export interface ChangeEvent {
  /** The run that made the change, and its position in that run (1, 2, …). */
  run: string;
  seq: number;
  /** When the run started (ISO 8601, UTC). */
  at: string;
  op: ChangeOp;
  key: string;
  /** Whether the person counted as active (in school, employed) before and after. */
  activeBefore: boolean;
  activeAfter: boolean;
  /** Field names whose values differ, sorted. */
  changed: string[];
  before: Row | null;
  after: Row | null;
}

/** What a snapshot sink calls for each record whose stored version may have changed. */
export interface ChangeRecorder {
  /**
   * Compares a stored record with its new version (null: absent) and, when they differ,
   * records the event and returns it (a database sink also stores it in `<table>_changes`).
   * Returns undefined when nothing changed: a record sent again unchanged is no event.
   */
  record(key: string, before: Row | null, after: Row | null): ChangeEvent | undefined;
  /** Writes the events recorded so far; sinks call it between batches to keep memory flat. */
  flush?(): Promise<void>;
}

/** `r20261203T093501Z-3f9a1c2b`: sorts by time, unique across hosts in practice. */
export function newRunId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `r${stamp}-${randomBytes(4).toString('hex')}`;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Field names whose values differ between two versions of a record (own properties only). */
export function changedFields(before: Row | null, after: Row | null): string[] {
  const names = new Set<string>();
  if (before) for (const f of Object.keys(before)) names.add(f);
  if (after) for (const f of Object.keys(after)) names.add(f);
  const changed: string[] = [];
  for (const f of names) {
    const had = before !== null && Object.hasOwn(before, f);
    const has = after !== null && Object.hasOwn(after, f);
    if (had !== has || (had && !sameValue(before[f], after![f]))) changed.push(f);
  }
  return changed.sort();
}

/**
 * Builds the run's events and hands them, one JSON line at a time, to `write` (the run's events file)
 * on flush(). Sequence numbers follow the order the sink reports changes in.
 */
export class EventRecorder implements ChangeRecorder {
  count = 0;
  readonly counts: Record<ChangeOp, number> = { insert: 0, update: 0, delete: 0 };
  #pending: string[] = [];
  #head: string | undefined;
  #at: string | undefined;
  /** The last inserted record's field names and their `changed`: most records share them. */
  #insertFields: string[] = [];
  #insertChanged = '[]';

  constructor(
    readonly run: string,
    readonly at: string,
    private readonly isActive: (row: Row) => boolean,
    private readonly write: (line: string) => void | Promise<void>,
  ) {}

  /**
   * Hands the pending lines to `write` one by one. Why not joined: a first pull's thousand
   * events make a string of about a megabyte, which V8 puts in its large-object space, where
   * only a full GC frees it (measured: GC took 8.0 s of a million-insert run joined, 1.2 s not).
   */
  async flush(): Promise<void> {
    const lines = this.#pending;
    this.#pending = [];
    for (const line of lines) {
      const wait = this.write(line);
      if (wait) await wait;
    }
  }

  /** flush() for a `write` that returns nothing (a snapshot's load, inside the scan's loop). */
  flushSync(): void {
    const lines = this.#pending;
    this.#pending = [];
    for (const line of lines) void this.write(line);
  }

  /**
   * record(key, null, after) for a snapshot built from nothing, whose sink already has `after`
   * as JSON text: one serialisation per record instead of two. Returns the event's sequence
   * number and its `changed` as JSON.
   */
  recordInsert(key: string, after: Row, afterJson: string): { seq: number; changedJson: string } {
    // The same line JSON.stringify(event) writes in record(), keys in the same order.
    const changedJson = this.#changedOfInsert(after);
    this.count += 1;
    this.counts.insert += 1;
    this.#head ??= `{"run":${JSON.stringify(this.run)},"seq":`;
    this.#at ??= `,"at":${JSON.stringify(this.at)},"op":"insert","key":`;
    this.#pending.push(
      `${this.#head}${this.count}${this.#at}${JSON.stringify(key)},"activeBefore":false,"activeAfter":${this.isActive(after)},` +
        `"changed":${changedJson},"before":null,"after":${afterJson}}\n`,
    );
    return { seq: this.count, changedJson };
  }

  /** An insert's `changed` as JSON: every field of the record, sorted. */
  #changedOfInsert(after: Row): string {
    const fields = this.#insertFields;
    let i = 0;
    let same = true;
    for (const f in after) {
      if (fields[i++] !== f) {
        same = false;
        break;
      }
    }
    if (!same || i !== fields.length) {
      this.#insertFields = Object.keys(after);
      this.#insertChanged = JSON.stringify([...this.#insertFields].sort());
    }
    return this.#insertChanged;
  }

  record(key: string, before: Row | null, after: Row | null): ChangeEvent | undefined {
    if (before === null && after === null) return undefined;
    const changed = changedFields(before, after);
    if (before !== null && after !== null && changed.length === 0) return undefined;
    const op: ChangeOp = before === null ? 'insert' : after === null ? 'delete' : 'update';
    this.count += 1;
    this.counts[op] += 1;
    const event: ChangeEvent = {
      run: this.run,
      seq: this.count,
      at: this.at,
      op,
      key,
      activeBefore: before !== null && this.isActive(before),
      activeAfter: after !== null && this.isActive(after),
      changed,
      before,
      after,
    };
    this.#pending.push(`${JSON.stringify(event)}\n`);
    return event;
  }
}
