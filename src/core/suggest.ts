/**
 * "Did you mean" for names the user types (sources, providers): the nearest known name by
 * edit distance, offered only when it is close enough to be a typo rather than a guess.
 */
export function editDistance(a: string, b: string): number {
  // Damerau–Levenshtein (optimal string alignment): a swapped pair ("ecun") counts as one edit.
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((d[i - 1]?.[j] ?? 0) + 1, (d[i]?.[j - 1] ?? 0) + 1, (d[i - 1]?.[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (d[i - 2]?.[j - 2] ?? 0) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return d[a.length]?.[b.length] ?? 0;
}

/** The closest candidate, if within about a third of the name's length (at least 1, at most 3 edits). */
export function nearest(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(lower.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(lower, c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** " (did you mean 'x'?)" or "", to follow the unknown name in a message. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const hit = nearest(name, candidates);
  return hit === undefined ? '' : ` (did you mean '${hit}'?)`;
}

/** "unknown source 'ecnu-staf' (did you mean 'ecnu-staff'?); known sources: a, b, c" */
export function unknownNameMessage(what: string, name: string, known: readonly string[]): string {
  return `unknown ${what} '${name}'${didYouMean(name, known)}; known ${what}s: ${known.join(', ')}`;
}
