import { validateFaults } from './faults.js';
import { datasetIds, defaultPeople, type DatasetId, type FaultOptions, type SandboxOptions } from './types.js';

/** SandboxOptions with every default filled in. */
export interface ResolvedOptions {
  port: number;
  host: string;
  seed: number;
  people: Record<DatasetId, number>;
  clockSkewSeconds: number;
  tokenLifetimeSeconds: number;
  latencyMs: number;
  ecnuTsCompare: '>' | '>=';
  tongjiPageSize: number;
  tongjiTrailingCursor: boolean;
  tongjiUpdatePrecision: 'day' | 'second';
  tongjiPostdocTimes: boolean;
  tongjiRateLimit: number;
  ecnuStaffKeyField: 'userId' | 'userid';
  faults: FaultOptions;
}

function int(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`sandbox option ${name} must be an integer in ${min}..${max}, got ${value}`);
  return value;
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0] as T;
  if (!allowed.includes(value)) throw new RangeError(`sandbox option ${name} must be one of ${allowed.join(', ')}`);
  return value;
}

/** Fills defaults and rejects nonsense early, with the option's name in the message. */
export function resolveOptions(o: SandboxOptions = {}): ResolvedOptions {
  const people = { ...defaultPeople };
  for (const [id, n] of Object.entries(o.people ?? {})) {
    if (n === undefined) continue;
    if (!(datasetIds as readonly string[]).includes(id)) throw new RangeError(`sandbox option people: unknown dataset ${id}`);
    people[id as DatasetId] = int(`people.${id}`, n, 0, 0);
  }
  const skew = o.clockSkewSeconds ?? 0;
  if (!Number.isFinite(skew)) throw new RangeError('sandbox option clockSkewSeconds must be a finite number');
  return {
    port: int('port', o.port, 0, 0, 65_535),
    host: o.host ?? '127.0.0.1',
    seed: int('seed', o.seed, 1, -(2 ** 31), 2 ** 32),
    people,
    clockSkewSeconds: skew,
    tokenLifetimeSeconds: int('tokenLifetimeSeconds', o.tokenLifetimeSeconds, 7200, 1),
    latencyMs: int('latencyMs', o.latencyMs, 0, 0),
    ecnuTsCompare: oneOf('ecnuTsCompare', o.ecnuTsCompare, ['>', '>=']),
    tongjiPageSize: int('tongjiPageSize', o.tongjiPageSize, 1000, 1),
    tongjiTrailingCursor: o.tongjiTrailingCursor ?? true,
    tongjiUpdatePrecision: oneOf('tongjiUpdatePrecision', o.tongjiUpdatePrecision, ['day', 'second']),
    tongjiPostdocTimes: o.tongjiPostdocTimes ?? true,
    tongjiRateLimit: int('tongjiRateLimit', o.tongjiRateLimit, 50, 1),
    ecnuStaffKeyField: oneOf('ecnuStaffKeyField', o.ecnuStaffKeyField, ['userId', 'userid']),
    faults: validateFaults(o.faults ?? {}),
  };
}
