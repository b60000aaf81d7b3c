/**
 * JSON.parse of an answer whose bulk is one array of records, `{…, "data": {…, "rows": [ … ]}}`
 * (an ECNU sync page), without ever holding the body as one string.
 *
 * Why: a page of 10,000 records is a 2 MB body, and a string of it (two bytes a character once
 * it holds Chinese text) goes to V8's large-object space, which only a full GC empties. Every
 * page left one there: at a million records tens of MB of dead page strings stood in the peak
 * RSS. Here the rows are decoded and parsed in slices of about 32 KB, each a small young string.
 *
 * The result equals JSON.parse(body.toString('utf8')). Anything unexpected (another layout, a
 * key written with escapes, a repeated key, a body that is not JSON) takes the plain way, so
 * errors are JSON.parse's own.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLICE_BYTES = 32 * 1024;

export function parseJsonBody(body: Buffer, rowsAt?: readonly [outer: string, inner: string]): unknown {
  if (rowsAt && body.length > 2 * SLICE_BYTES) {
    const split = parseSplit(body, rowsAt);
    if (split !== undefined) return split;
  }
  return JSON.parse(body.toString('utf8'));
}

/** End of the string starting at `open` (the index of its closing quote), or -1. */
function stringEnd(body: Buffer, open: number): number {
  let q = body.indexOf(QUOTE, open + 1);
  while (q !== -1) {
    let backslashes = 0;
    for (let i = q - 1; body[i] === BACKSLASH; i--) backslashes++;
    if (backslashes % 2 === 0) return q;
    q = body.indexOf(QUOTE, q + 1);
  }
  return -1;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function parseSplit(body: Buffer, [outer, inner]: readonly [string, string]): unknown {
  const outerKey = Buffer.from(JSON.stringify(outer));
  const innerKey = Buffer.from(JSON.stringify(inner));
  // Containers open around the current byte: '{' or '['; the key last seen at each object depth.
  const open: number[] = [];
  const keyAt: (Buffer | undefined)[] = [];
  let array: { start: number; end: number; cuts: number[] } | undefined;
  let found = 0;
  for (let p = 0; p < body.length; p++) {
    const c = body[p]!;
    if (c === QUOTE) {
      const end = stringEnd(body, p);
      if (end === -1) return undefined;
      const depth = open.length;
      if (depth <= 2) {
        let n = end + 1;
        while (isSpace(body[n])) n++;
        if (body[n] === 0x3a) keyAt[depth] = body.subarray(p, end + 1); // a key
      }
      p = end;
    } else if (c === 0x7b || c === 0x5b) {
      open.push(c);
      if (
        c === 0x5b &&
        open.length === 3 &&
        open[0] === 0x7b &&
        open[1] === 0x7b &&
        keyAt[1]?.equals(outerKey) === true &&
        keyAt[2]?.equals(innerKey) === true
      ) {
        if (++found > 1) return undefined; // JSON.parse keeps the last: rare enough to go the plain way
        array = { start: p, end: -1, cuts: [] };
      }
    } else if (c === 0x7d || c === 0x5d) {
      if (open.length === 3 && array && array.end === -1 && open[2] === 0x5b) array.end = p;
      open.pop();
      if (open.length < 2) keyAt[2] = undefined;
    } else if (c === 0x2c && open.length === 3 && array && array.end === -1) {
      const last = array.cuts.length > 0 ? array.cuts[array.cuts.length - 1]! : array.start;
      if (p - last >= SLICE_BYTES) array.cuts.push(p);
    }
  }
  if (!array || array.end === -1 || open.length !== 0) return undefined;
  const rows: unknown[] = [];
  const bounds = [array.start, ...array.cuts, array.end];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const text = body.toString('utf8', bounds[i]! + 1, bounds[i + 1]!);
    // A cut next to nothing ("[a,]") would pass here and fail JSON.parse whole.
    if (bounds.length > 2 && text.trim() === '') return undefined;
    const slice = JSON.parse(`[${text}]`) as unknown[];
    for (const row of slice) rows.push(row);
  }
  const envelope = JSON.parse(
    body.toString('utf8', 0, array.start + 1) + body.toString('utf8', array.end),
  ) as Record<string, Record<string, unknown>>;
  const holder = envelope[outer];
  if (!holder || !Array.isArray(holder[inner]) || (holder[inner] as unknown[]).length !== 0) return undefined;
  holder[inner] = rows;
  return envelope;
}
