import { formatShanghai } from './sync/shanghai-time.js';

/**
 * One clock for the tables a person reads (state show, auth status): Asia/Shanghai, the zone
 * both platforms write their times in and the one `--since` dates are read in, labelled once
 * per table. `--json` keeps full ISO timestamps instead.
 */
export const displayZone = 'Asia/Shanghai';

/** 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai, from an ISO string, epoch milliseconds or a Date. */
export function displayTime(at: string | number | Date): string {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return String(at);
  return formatShanghai(Math.floor(ms / 1000));
}

/** A column header or line prefix that says which zone the times are in. */
export function withZone(label: string): string {
  return `${label} (${displayZone})`;
}
