import fs from 'node:fs/promises';
import type { Row } from '../../providers/types.js';
import type { Spool } from '../../sinks/types.js';
import { UpstreamError } from '../errors.js';
import { writeError } from '../../sinks/atomic-file.js';
import { parseShanghaiFast } from './shanghai-time.js';

export interface SpoolSpec {
  keyFields: readonly string[];
  updateField: string;
  isDeleted(row: Row): boolean;
  /**
   * A full pull's result is the current set: tombstones are counted but not kept, since
   * only an incremental consumer has anything to delete (CLI.md, "What pull promises").
   */
  dropDeleted: boolean;
}

/**
 * Appends each fetched record, as the platform sent it, to the run's spool file, and keeps
 * what the outputs and the watermark need: field union, keys seen, newest update time.
 */
export class SpoolWriter {
  readonly fields: string[] = [];
  readonly #fieldSet = new Set<string>();
  readonly #keys = new Set<string>();
  readonly #keyFieldCounts = new Map<string, number>();
  /** Lines in the spool. */
  count = 0;
  /** Records the platform sent, tombstones included. */
  received = 0;
  bytes = 0;
  deleted = 0;
  hasDuplicateKeys = false;
  maxUpdated: number | undefined;
  maxUpdatedText: string | undefined;

  private constructor(
    readonly path: string,
    readonly spec: SpoolSpec,
    private readonly handle: fs.FileHandle,
  ) {}

  static async open(path: string, spec: SpoolSpec): Promise<SpoolWriter> {
    try {
      return new SpoolWriter(path, spec, await fs.open(path, 'w', 0o600));
    } catch (err) {
      throw writeError(err, path);
    }
  }

  /** Continue appending to `path` with what `from` learnt while writing it. */
  static async reopen(path: string, spec: SpoolSpec, from: SpoolWriter): Promise<SpoolWriter> {
    const w = new SpoolWriter(path, spec, await fs.open(path, 'a', 0o600));
    w.fields.push(...from.fields);
    for (const f of from.fields) w.#fieldSet.add(f);
    for (const k of from.#keys) w.#keys.add(k);
    for (const [f, n] of from.#keyFieldCounts) w.#keyFieldCounts.set(f, n);
    w.count = from.count;
    w.received = from.received;
    w.bytes = from.bytes;
    w.deleted = from.deleted;
    w.hasDuplicateKeys = from.hasDuplicateKeys;
    w.maxUpdated = from.maxUpdated;
    w.maxUpdatedText = from.maxUpdatedText;
    return w;
  }

  keyOf = (row: Row): string => {
    for (const f of this.spec.keyFields) {
      const v = row[f];
      if (typeof v === 'string' ? v !== '' : typeof v === 'number') return String(v);
    }
    return '';
  };

  /** Serialises rows as lines; validates keys. Returns the text appended. */
  async append(rows: readonly Row[], where: string): Promise<string> {
    let text = '';
    let kept = 0;
    const { updateField } = this.spec;
    for (let i = 0; i < rows.length; i += 1) {
      const row = rows[i] as Row;
      const key = this.#key(row);
      if (key === undefined) {
        throw new UpstreamError(`${where}: record ${i + 1} has no key field (${this.spec.keyFields.join(' or ')})`);
      }
      if (this.#keys.has(key)) this.hasDuplicateKeys = true;
      else this.#keys.add(key);
      for (const f in row) {
        if (!this.#fieldSet.has(f)) {
          this.#fieldSet.add(f);
          this.fields.push(f);
        }
      }
      const stamp = row[updateField];
      const t = parseShanghaiFast(stamp);
      if (t !== undefined && (this.maxUpdated === undefined || t > this.maxUpdated)) {
        this.maxUpdated = t;
        this.maxUpdatedText = stamp as string;
      }
      if (this.spec.isDeleted(row)) {
        this.deleted += 1;
        if (this.spec.dropDeleted) continue;
      }
      text += `${JSON.stringify(row)}\n`;
      kept += 1;
    }
    this.received += rows.length;
    if (text) {
      const buf = Buffer.from(text, 'utf8');
      try {
        await this.handle.write(buf);
      } catch (err) {
        throw writeError(err, this.path);
      }
      this.bytes += buf.length;
      this.count += kept;
    }
    return text;
  }

  #key(row: Row): string | undefined {
    for (const f of this.spec.keyFields) {
      const v = row[f];
      if (typeof v === 'string' ? v !== '' : typeof v === 'number') {
        this.#keyFieldCounts.set(f, (this.#keyFieldCounts.get(f) ?? 0) + 1);
        return String(v);
      }
    }
    return undefined;
  }

  async sync(): Promise<void> {
    try {
      await this.handle.sync();
    } catch (err) {
      throw writeError(err, this.path);
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  /** What the sinks read: the spool file and how to interpret it. */
  toSpool(): Spool {
    let keyField = this.spec.keyFields[0] ?? 'id';
    let best = -1;
    for (const [f, n] of this.#keyFieldCounts) if (n > best) [keyField, best] = [f, n];
    return {
      path: this.path,
      count: this.count,
      fields: this.fields,
      hasDuplicateKeys: this.hasDuplicateKeys,
      keyField,
      keyOf: this.keyOf,
      isDeleted: this.spec.isDeleted,
    };
  }
}

/**
 * Reopens the spool of an interrupted cursor-paged pull at its last durable length and
 * rebuilds what the writer knew, by reading it once.
 */
export async function resumeSpool(path: string, spec: SpoolSpec, bytes: number): Promise<SpoolWriter | undefined> {
  try {
    const st = await fs.stat(path);
    if (st.size < bytes) return undefined;
    await fs.truncate(path, bytes);
  } catch {
    return undefined;
  }
  const writer = await SpoolWriter.open(`${path}.resume`, spec);
  const { readLines } = await import('../../sinks/spool-reader.js');
  let batch: Row[] = [];
  for await (const line of readLines(path)) {
    if (!line) continue;
    batch.push(JSON.parse(line) as Row);
    if (batch.length >= 1000) {
      await writer.append(batch, 'resumed spool');
      batch = [];
    }
  }
  await writer.append(batch, 'resumed spool');
  await writer.sync();
  await writer.close();
  await fs.rename(`${path}.resume`, path);
  const reopened = await SpoolWriter.reopen(path, spec, writer);
  return reopened;
}
