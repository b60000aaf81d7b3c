/**
 * Seeded PRNG (mulberry32 over an FNV-1a hash of seed and stream name). Separate streams keep
 * data generation, mutation picks and fault draws independent: adding a fault never changes
 * which people exist.
 */
export class Random {
  private state: number;

  constructor(seed: number, stream = '') {
    let h = 0x811c9dc5;
    const text = `${seed}:${stream}`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    this.state = h >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight: entries are [weight, value]. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of entries) total += w;
    let u = this.next() * total;
    for (const [w, v] of entries) {
      if ((u -= w) < 0) return v;
    }
    return (entries[entries.length - 1] as readonly [number, T])[1];
  }
}
