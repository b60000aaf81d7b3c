import type { DatasetSpec, Entry } from './rows.js';

interface CachedQuery {
  version: number;
  entries: Entry[];
}

const CACHE_SIZE = 8;

/**
 * The rows of one dataset. ECNU tables keep insertion order (pages shift the way a real
 * page-number scan shifts when rows change mid-scan); Tongji tables stay sorted by userId,
 * the order its cursor walks.
 */
export class Table {
  readonly spec: DatasetSpec;
  readonly keyField: string;
  readonly sorted: boolean;
  entries: Entry[] = [];
  readonly byKey = new Map<string, Entry>();
  /** Bumped on every change; cached query results of older versions are dropped. */
  version = 0;
  private readonly cache = new Map<string, CachedQuery>();

  constructor(spec: DatasetSpec, keyField: string) {
    this.spec = spec;
    this.keyField = keyField;
    this.sorted = spec.provider === 'tongji';
  }

  get(key: string): Entry | undefined {
    return this.byKey.get(key);
  }

  /** Adds a row: at the end (ECNU) or at its key's place (Tongji). */
  add(entry: Entry): void {
    if (this.byKey.has(entry.key)) throw new Error(`${this.spec.id}: key ${entry.key} already exists`);
    this.byKey.set(entry.key, entry);
    if (this.sorted && this.entries.length > 0 && entry.key < (this.entries[this.entries.length - 1] as Entry).key) {
      this.entries.splice(this.indexAfter(entry.key), 0, entry);
    } else {
      this.entries.push(entry);
    }
    this.version += 1;
  }

  /** Sort once after bulk generation instead of inserting in place a million times. */
  sortByKey(): void {
    this.entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  touch(): void {
    this.version += 1;
  }

  /** Index of the first entry whose key is greater than `key` (sorted tables only). */
  indexAfter(key: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid] as Entry).key <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * A filtered view, computed once per table version: a client paging through one query asks
   * the same filter for every page, and a million-row scan per page would be O(n²) overall.
   */
  cached(query: string, compute: () => Entry[]): Entry[] {
    const hit = this.cache.get(query);
    if (hit && hit.version === this.version) return hit.entries;
    const entries = compute();
    this.cache.delete(query);
    this.cache.set(query, { version: this.version, entries });
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return entries;
  }
}
