import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { IdsyncError, UsageError } from '../core/errors.js';
import { isLoopbackHost } from '../core/endpoints.js';
import {
  defaultPeople,
  faultKeys,
  startSandbox,
  SANDBOX_PASSWORD,
  type DatasetId,
  type FaultOptions,
  type Sandbox,
  type SandboxOptions,
} from '../sandbox/index.js';

/** The flags as commander hands them over: strings, validated by parseSandboxFlags. */
export interface SandboxFlags {
  port?: string;
  host?: string;
  seed?: string;
  people?: string;
  latency?: string;
  tokenLifetime?: string;
  clockSkew?: string;
  faults?: string;
  tsCompare?: string;
  tongjiPageSize?: string;
  trailingCursor?: boolean;
  updatePrecision?: string;
  rateLimit?: string;
  staffKeyField?: string;
}

/** With --people, the other datasets grow in proportion, but no further than this each. */
export const SCALED_PEOPLE_CAP = 100_000;

function integer(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw.trim());
  if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) {
    throw new UsageError(`--${flag} expects a whole number from ${min} to ${max}, got '${raw}'`);
  }
  return n;
}

function choice<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${flag} expects one of ${allowed.join(', ')}, got '${raw}'`);
  return raw as T;
}

/** --faults http500=0.1,stall=0.05,stallMs=2000 */
export function parseFaults(raw: string): FaultOptions {
  const faults: FaultOptions = {};
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key = '', value = ''] = part.split('=').map((s) => s.trim());
    if (!(faultKeys as readonly string[]).includes(key))
      throw new UsageError(`--faults: unknown fault '${key}' (known: ${faultKeys.join(', ')})`);
    const n = Number(value);
    if (value === '' || !Number.isFinite(n)) throw new UsageError(`--faults: ${key} needs a number, got '${value}'`);
    if (key === 'stallMs' ? !Number.isInteger(n) || n < 0 : n < 0 || n > 1) {
      throw new UsageError(`--faults: ${key} must be ${key === 'stallMs' ? 'whole milliseconds' : 'a probability from 0 to 1'}`);
    }
    faults[key as keyof FaultOptions] = n;
  }
  return faults;
}

/** Flags to SandboxOptions; every bad value is a UsageError before anything starts. */
export function parseSandboxFlags(flags: SandboxFlags): SandboxOptions {
  const o: SandboxOptions = {};
  if (flags.port !== undefined) o.port = integer('port', flags.port, 0, 65_535);
  if (flags.host !== undefined) {
    if (flags.host.trim() === '') throw new UsageError('--host must not be empty');
    o.host = flags.host.trim();
  }
  if (flags.seed !== undefined) o.seed = integer('seed', flags.seed, 0, 2 ** 32);
  if (flags.people !== undefined) {
    const users = integer('people', flags.people, 0, 10_000_000);
    const scale = users / defaultPeople['ecnu-users'];
    const people: Partial<Record<DatasetId, number>> = {};
    for (const [id, n] of Object.entries(defaultPeople) as [DatasetId, number][]) {
      people[id] = id === 'ecnu-users' ? users : Math.min(Math.round(n * scale), Math.max(n, SCALED_PEOPLE_CAP));
    }
    o.people = people;
  }
  if (flags.latency !== undefined) o.latencyMs = integer('latency', flags.latency, 0, 600_000);
  if (flags.tokenLifetime !== undefined) o.tokenLifetimeSeconds = integer('token-lifetime', flags.tokenLifetime, 1, 10 ** 9);
  if (flags.clockSkew !== undefined) o.clockSkewSeconds = integer('clock-skew', flags.clockSkew, -(10 ** 9), 10 ** 9);
  if (flags.faults !== undefined) o.faults = parseFaults(flags.faults);
  if (flags.tsCompare !== undefined) o.ecnuTsCompare = choice('ts-compare', flags.tsCompare, ['>', '>='] as const);
  if (flags.tongjiPageSize !== undefined) o.tongjiPageSize = integer('tongji-page-size', flags.tongjiPageSize, 1, 100_000);
  if (flags.trailingCursor === false) o.tongjiTrailingCursor = false;
  if (flags.updatePrecision !== undefined)
    o.tongjiUpdatePrecision = choice('update-precision', flags.updatePrecision, ['day', 'second'] as const);
  if (flags.rateLimit !== undefined) o.tongjiRateLimit = integer('rate-limit', flags.rateLimit, 1, 1_000_000);
  if (flags.staffKeyField !== undefined)
    o.ecnuStaffKeyField = choice('staff-key-field', flags.staffKeyField, ['userId', 'userid'] as const);
  return o;
}

/** What a user pastes into another shell, plus how to drive the sandbox from outside. */
export function sandboxBanner(sandbox: Sandbox, seed: number, home?: string): string {
  const { url, credentials: c } = sandbox;
  return [
    `# idsync sandbox: ECNU and Tongji at ${url} (seed ${seed}); Ctrl-C stops it`,
    // Sandbox tokens and state must not land beside the real ones.
    ...(home ? [`# a home of its own for tokens and state, removed when the sandbox stops:`, `export IDSYNC_HOME=${home}`] : []),
    `export IDSYNC_ECNU_BASE_URL=${url}`,
    `export IDSYNC_ECNU_CLIENT_ID=${c.ecnu.clientId}`,
    `export IDSYNC_ECNU_CLIENT_SECRET=${c.ecnu.clientSecret}`,
    `export IDSYNC_TONGJI_BASE_URL=${url}`,
    `export IDSYNC_TONGJI_CLIENT_ID=${c.tongji.clientId}`,
    `export IDSYNC_TONGJI_CLIENT_SECRET=${c.tongji.clientSecret}`,
    `# ECNU password grant: any ecnu-users userId with password ${SANDBOX_PASSWORD}`,
    '# admin endpoints (loopback only, no auth):',
    `#   curl ${url}/__sandbox/info`,
    `#   curl -X POST -d '{"dataset":"ecnu-staff","op":"update","count":3}' ${url}/__sandbox/mutate`,
    `#   curl '${url}/__sandbox/truth?dataset=ecnu-staff'`,
    `#   curl -X POST -d '{"http500":0.1}' ${url}/__sandbox/faults`,
    `#   curl -X POST -d '{"skewSeconds":3600}' ${url}/__sandbox/clock`,
    `#   curl ${url}/__sandbox/stats`,
    '',
  ].join('\n');
}

export function registerSandbox(program: Command, ctx: CliContext): void {
  program
    .command('sandbox')
    .description('serve a local simulator of both platforms with made-up people (for tests and demos)')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '0')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <n>', 'same seed, same people', '1')
    .option('--people <n>', 'ecnu-users rows; the other datasets scale along')
    .option('--latency <ms>', 'delay added to every API request')
    .option('--token-lifetime <s>', 'access token lifetime in seconds')
    .option('--clock-skew <s>', "the server's clock minus the real one, in seconds")
    .option('--faults <k=v,...>', `fault rates per request: ${faultKeys.join(', ')}`)
    .option('--ts-compare <op>', "ECNU ts filter: '>' or '>='")
    .option('--tongji-page-size <n>', 'Tongji rows per answer')
    .option('--no-trailing-cursor', "Tongji's final page answers sinceUserId '' instead of its last userId")
    .option('--update-precision <p>', 'Tongji updateTime precision: day or second')
    .option('--rate-limit <n>', 'Tongji requests per second per client before 429')
    .option('--staff-key-field <f>', 'ECNU staff key field: userId or userid')
    .action(async (flags: SandboxFlags) => {
      const options = parseSandboxFlags(flags);
      let sandbox: Sandbox;
      try {
        sandbox = await startSandbox(options);
      } catch (err) {
        throw new IdsyncError(`sandbox: cannot start: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
      }
      if (!isLoopbackHost(options.host ?? '127.0.0.1')) {
        ctx.console.warn(`sandbox: listening on ${options.host}: the API answers the network (admin stays loopback-only)`, {
          always: true,
        });
      }
      const home = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-sandbox-home-'));
      await ctx.console.data(sandboxBanner(sandbox, options.seed ?? 1, home));
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await sandbox.close();
      await fs.rm(home, { recursive: true, force: true });
      ctx.console.info('sandbox: stopped');
    });
}
