import { ecnuError, EcnuErr } from './ecnu-envelope.js';
import { empty, text, type Reply } from './http-util.js';
import { Random } from './random.js';
import { faultKeys, type FaultOptions } from './types.js';

/** Faults that replace or tear one answer; at most one per request. */
export type FaultKind = 'reset' | 'http500' | 'http503' | 'http429' | 'stall' | 'truncated' | 'malformed' | 'ecnuTransientErr';

/** Drawn in this order against one uniform number, so rates add up as written. */
const ORDER: readonly FaultKind[] = ['reset', 'http500', 'http503', 'http429', 'stall', 'truncated', 'malformed', 'ecnuTransientErr'];

export const DEFAULT_STALL_MS = 120_000;

/** Checks a FaultOptions object from an untrusted source (admin endpoint, CLI); throws on nonsense. */
export function validateFaults(value: unknown): FaultOptions {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('faults must be an object');
  const out: FaultOptions = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (!(faultKeys as readonly string[]).includes(k)) throw new Error(`unknown fault ${k} (known: ${faultKeys.join(', ')})`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`fault ${k} must be a number`);
    if (k === 'stallMs') {
      if (!Number.isInteger(v) || v < 0) throw new Error('stallMs must be an integer >= 0');
    } else if (v < 0 || v > 1) {
      throw new Error(`fault ${k} is a probability between 0 and 1`);
    }
    out[k as keyof FaultOptions] = v;
  }
  return out;
}

/**
 * Seeded fault draws. Every request consumes exactly two numbers whatever the settings, so
 * one seed replays the same faults on the same request sequence.
 */
export class Faults {
  private opts: FaultOptions;
  private readonly rng: Random;

  constructor(seed: number, initial: FaultOptions = {}) {
    this.rng = new Random(seed, 'faults');
    this.opts = validateFaults(initial);
  }

  set(f: FaultOptions): void {
    this.opts = validateFaults(f);
  }

  get(): FaultOptions {
    return { ...this.opts };
  }

  get stallMs(): number {
    return this.opts.stallMs ?? DEFAULT_STALL_MS;
  }

  /** Decides the fate of one request: revoke all tokens first? which fault, if any? */
  draw(ecnuApi: boolean): { revoke: boolean; fault: FaultKind | undefined } {
    const revoke = this.rng.next() < (this.opts.revokeTokens ?? 0);
    let u = this.rng.next();
    for (const kind of ORDER) {
      if (kind === 'ecnuTransientErr' && !ecnuApi) continue;
      const p = this.opts[kind] ?? 0;
      if (u < p) return { revoke, fault: kind };
      u -= p;
    }
    return { revoke, fault: undefined };
  }
}

/** The answer a fault puts in place of the real one; undefined when the real one is still sent. */
export function faultReply(kind: FaultKind): Reply | undefined {
  switch (kind) {
    case 'http500':
      return text(500, 'Internal Server Error');
    case 'http503':
      return text(503, 'Service Unavailable');
    case 'http429':
      return empty(429, { 'retry-after': '1' });
    case 'malformed':
      return text(200, '<html>gateway error</html>', 'text/html; charset=utf-8');
    case 'ecnuTransientErr':
      return ecnuError(EcnuErr.internal, 'internal error');
    default:
      return undefined;
  }
}
