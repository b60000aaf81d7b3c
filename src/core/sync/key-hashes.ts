/**
 * The record keys a spool has seen, kept as 64-bit hashes in an open-addressing table of two
 * typed arrays instead of a Set of strings. Why: at a million records the Set held ~60 MB of
 * strings and entries on the V8 heap (measured: live heap 84 MB after the scan, mostly that),
 * and a larger live heap also lets V8 let the garbage of every page pile higher before a full
 * GC. This table is 8 bytes per slot, at most half full: 16 MB of ArrayBuffer at 1M keys,
 * outside the heap and never scanned by the GC.
 *
 * A key seen before always hashes the same, so a duplicate is never missed. Two different keys
 * sharing all 64 bits (odds about 3 in 10^8 for a million-key pull) read as a duplicate: the sinks
 * then run their exact, key-by-key dedupe pass, which finds nothing to drop, and the
 * watermark is computed the cautious way. Correct output either way, only slower.
 */
export class KeyHashes {
  #hi: Uint32Array;
  #lo: Uint32Array;
  #mask: number;
  size = 0;

  constructor(capacity = 1 << 16) {
    this.#hi = new Uint32Array(capacity);
    this.#lo = new Uint32Array(capacity);
    this.#mask = capacity - 1;
  }

  /** Adds a key; false when it (or a key with the same 64-bit hash) was there already. */
  add(key: string): boolean {
    // Two 32-bit hashes of the UTF-16 units: FNV-1a and a multiply-xor, each finished with
    // murmur3's fmix32 so that keys differing in the last digit spread over the table.
    let a = 0x811c9dc5;
    let b = key.length ^ 0x9747b28c;
    for (let i = 0; i < key.length; i += 1) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    const hi = fmix32(a);
    // 0/0 marks an empty slot: a key hashing to it is stored as 0/1 (one more shared hash).
    const lo = fmix32(b) || (hi === 0 ? 1 : 0);
    return this.#insert(hi, lo);
  }

  #insert(hi: number, lo: number): boolean {
    const hs = this.#hi;
    const ls = this.#lo;
    const mask = this.#mask;
    for (let i = hi & mask; ; i = (i + 1) & mask) {
      const h = hs[i] as number;
      const l = ls[i] as number;
      if (h === 0 && l === 0) break;
      if (h === hi && l === lo) return false;
    }
    if ((this.size + 1) * 2 > hs.length) this.#grow();
    for (let i = hi & this.#mask; ; i = (i + 1) & this.#mask) {
      if (this.#hi[i] === 0 && this.#lo[i] === 0) {
        this.#hi[i] = hi;
        this.#lo[i] = lo;
        this.size += 1;
        return true;
      }
    }
  }

  #grow(): void {
    const hs = this.#hi;
    const ls = this.#lo;
    this.#hi = new Uint32Array(hs.length * 2);
    this.#lo = new Uint32Array(hs.length * 2);
    this.#mask = hs.length * 2 - 1;
    this.size = 0;
    for (let i = 0; i < hs.length; i += 1) {
      const h = hs[i] as number;
      const l = ls[i] as number;
      if (h !== 0 || l !== 0) this.#insert(h, l);
    }
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
