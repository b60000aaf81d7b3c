/**
 * The sandbox's clock: real time plus a settable skew, so a test can play a server whose clock
 * is off. Every time the sandbox reveals (updated_at stamps, token expiry, the HTTP Date header)
 * comes from here.
 */
export class SandboxClock {
  private skewMs: number;

  constructor(skewSeconds = 0) {
    this.skewMs = skewSeconds * 1000;
  }

  setSkew(seconds: number): void {
    this.skewMs = seconds * 1000;
  }

  nowMs(): number {
    return Date.now() + this.skewMs;
  }

  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }
}

// Both platforms write local wall time in Asia/Shanghai (UTC+8, no DST since 1991); shifting by
// a constant and formatting with the UTC getters keeps the result independent of the machine TZ.
const SHANGHAI_OFFSET_SEC = 8 * 3600;
const DAY_SEC = 86_400;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai time. */
export function formatShanghai(unixSec: number): string {
  const d = new Date((unixSec + SHANGHAI_OFFSET_SEC) * 1000);
  return (
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`
  );
}

/** 'YYYY-MM-DD' of the Asia/Shanghai day. */
export function formatShanghaiDate(unixSec: number): string {
  return formatShanghai(unixSec).slice(0, 10);
}

/** Unix seconds of 00:00:00 Asia/Shanghai of the day holding unixSec. */
export function startOfShanghaiDay(unixSec: number): number {
  const local = unixSec + SHANGHAI_OFFSET_SEC;
  return local - (((local % DAY_SEC) + DAY_SEC) % DAY_SEC) - SHANGHAI_OFFSET_SEC;
}

const STAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Strict inverse of formatShanghai; undefined when the text is not such a stamp. */
export function parseShanghai(text: string): number | undefined {
  const m = STAMP.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 2025-02-30 over into March; a real stamp round-trips.
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return ms / 1000 - SHANGHAI_OFFSET_SEC;
}
