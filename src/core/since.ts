import { UsageError } from './errors.js';
import { parseShanghai } from './sync/shanghai-time.js';
import type { SinceSpec } from './sync/engine.js';

const usage = "--since takes 'last', 0, unix seconds, or a date 'YYYY-MM-DD[ HH:mm:ss]' (Asia/Shanghai time)";

/** `--since`: last | 0 | unix seconds | 'YYYY-MM-DD[ HH:mm:ss]' read as Asia/Shanghai time. */
export function parseSince(raw: string | undefined, now: number = Date.now()): SinceSpec {
  if (raw === undefined) return { kind: 'full' };
  const text = raw.trim();
  if (text === 'last') return { kind: 'last' };
  if (/^\d+$/.test(text)) {
    const unix = Number(text);
    if (unix === 0) return { kind: 'full' };
    // Milliseconds by mistake would mean the year 50000: refuse rather than ask for nothing.
    if (!Number.isSafeInteger(unix) || unix > now / 1000 + 366 * 86400) {
      throw new UsageError(`${usage}; ${text} is too far in the future (milliseconds instead of seconds?)`);
    }
    return { kind: 'at', unix };
  }
  const unix = parseShanghai(text);
  if (unix === undefined) throw new UsageError(`${usage}; got '${raw}'`);
  if (unix <= 0) return { kind: 'full' };
  if (unix > now / 1000 + 366 * 86400) throw new UsageError(`${usage}; ${text} is too far in the future`);
  return { kind: 'at', unix };
}
