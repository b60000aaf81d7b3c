/**
 * Both platforms stamp rows with 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai time (API.md; the ECNU
 * doc pairs ts=1623161010 with 2021-06-08 22:03:30). China has kept UTC+8 without daylight
 * saving since 1991, so a fixed offset is exact and the machine's TZ never matters.
 */
const OFFSET_SECONDS = 8 * 3600;
const pattern = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** Unix seconds of a Shanghai wall-clock time, or undefined when it is not one. */
export function parseShanghai(text: string): number | undefined {
  const m = pattern.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCDate() !== d) return undefined; // 2023-02-30 and the like
  return ms / 1000 - OFFSET_SECONDS;
}

/** Fast path for the hot loop: the platform's canonical 19-character form only. */
export function parseShanghaiFast(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length !== 19) return undefined;
  // Reading the digits by char code gives the same numbers as the slices below whenever every
  // position holds a digit, without six substrings and six string-to-number parses: that was
  // a tenth of the spool writer's time on a million records. Anything else takes the slices.
  const y = pair(text, 0) * 100 + pair(text, 2);
  const mo = pair(text, 5);
  const d = pair(text, 8);
  const h = pair(text, 11);
  const mi = pair(text, 14);
  const s = pair(text, 17);
  if (y !== y || mo !== mo || d !== d || h !== h || mi !== mi || s !== s) return parseSliced(text);
  return shanghaiSeconds(y, mo, d, h, mi, s);
}

/** Two ASCII digits at `i` as a number, NaN when either is not a digit. */
function pair(text: string, i: number): number {
  const a = text.charCodeAt(i) - 48;
  const b = text.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

function parseSliced(text: string): number | undefined {
  return shanghaiSeconds(
    +text.slice(0, 4),
    +text.slice(5, 7),
    +text.slice(8, 10),
    +text.slice(11, 13),
    +text.slice(14, 16),
    +text.slice(17, 19),
  );
}

function shanghaiSeconds(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  if (!(y > 1900 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 59)) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - OFFSET_SECONDS;
}

export function formatShanghai(unixSeconds: number): string {
  const t = new Date((unixSeconds + OFFSET_SECONDS) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}`;
}

/** Unix seconds of 00:00:00 Shanghai time on the day that holds `unixSeconds`. */
export function startOfShanghaiDay(unixSeconds: number): number {
  const local = unixSeconds + OFFSET_SECONDS;
  return local - (((local % 86400) + 86400) % 86400) - OFFSET_SECONDS;
}
