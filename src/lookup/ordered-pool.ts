/**
 * Runs `fn` over `items` with at most `limit` calls in flight and yields the results in input
 * order as soon as each is ready, so output streams in the order the user gave while later
 * requests are already under way (the same shape as the ECNU page prefetch in pages.ts).
 * A rejection is thrown at its position; calls still in flight then settle quietly.
 */
export async function* mapOrdered<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): AsyncGenerator<R> {
  const inflight = new Map<number, Promise<R>>();
  let next = 0;
  const fill = () => {
    while (inflight.size < Math.max(1, limit) && next < items.length) {
      const index = next;
      const p = fn(items[index] as T, index);
      p.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
      inflight.set(index, p);
      next += 1;
    }
  };
  try {
    for (let i = 0; i < items.length; i += 1) {
      fill();
      const result = await (inflight.get(i) as Promise<R>);
      inflight.delete(i);
      yield result;
    }
  } finally {
    for (const p of inflight.values()) p.catch(() => undefined);
  }
}

/** Splits ids into batches of at most `size` (Tongji postdoc_info: 500 a request). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
