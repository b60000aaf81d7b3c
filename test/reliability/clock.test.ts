import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSandbox, type DatasetId, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { expectSnapshotIsTruth } from '../support/snapshot-checks.js';

/**
 * Issue 5, item 6: the server's clock hours off, the local time zone far from Shanghai, changes
 * stamped in the very second (ECNU) or day (Tongji) of the previous run, Tongji with and without
 * a trailing cursor: repeated `--since last` runs converge.
 */

interface Case {
  name: string;
  source: string;
  dataset: DatasetId;
  tz: string;
  sandbox: SandboxOptions;
  /** Moves the server's clock between the first and second runs (seconds). */
  jump?: number;
  args?: string[];
}

const hour = 3600;
const cases: Case[] = [
  {
    name: 'ECNU, server 5 h ahead, New York, ts compared with >, no overlap',
    source: 'ecnu-users',
    dataset: 'ecnu-users',
    tz: 'America/New_York',
    sandbox: { clockSkewSeconds: 5 * hour, ecnuTsCompare: '>' },
    args: ['--overlap', '0'],
  },
  {
    name: 'ECNU, server 7 h behind, Tokyo, ts compared with >=, clock corrected 3 h forward',
    source: 'ecnu-staff',
    dataset: 'ecnu-staff',
    tz: 'Asia/Tokyo',
    sandbox: { clockSkewSeconds: -7 * hour, ecnuTsCompare: '>=' },
    jump: 3 * hour,
  },
  // No overlap: only reaching back to the start of the day finds the changes stamped 00:00:00.
  {
    name: 'Tongji, day stamps, trailing cursor, server 9 h ahead, New York, no overlap',
    source: 'tongji-students',
    dataset: 'tongji-students',
    tz: 'America/New_York',
    sandbox: { clockSkewSeconds: 9 * hour, tongjiUpdatePrecision: 'day', tongjiTrailingCursor: true },
    args: ['--overlap', '0'],
  },
  {
    name: 'Tongji, second stamps, no trailing cursor, server 10 h behind, Tokyo',
    source: 'tongji-staff',
    dataset: 'tongji-staff',
    tz: 'Asia/Tokyo',
    sandbox: { clockSkewSeconds: -10 * hour, tongjiUpdatePrecision: 'second', tongjiTrailingCursor: false },
  },
  {
    name: 'Tongji, day stamps, no trailing cursor, runs on both sides of midnight in Shanghai',
    source: 'tongji-postdocs',
    dataset: 'tongji-postdocs',
    tz: 'America/New_York',
    sandbox: { tongjiUpdatePrecision: 'day', tongjiTrailingCursor: false },
  },
];

/** Seconds to add to the real clock so that Shanghai shows 23:59:58 now. */
function skewToJustBeforeShanghaiMidnight(): number {
  const now = Date.now() / 1000;
  const local = now + 8 * hour;
  const nextMidnight = local - (local % 86400) + 86400 - 8 * hour;
  return Math.round(nextMidnight - now - 2);
}

function change(sb: Sandbox, dataset: DatasetId): void {
  sb.mutate({ dataset, op: 'update', count: 3 });
  sb.mutate({ dataset, op: 'insert', count: 2 });
  sb.mutate({ dataset, op: 'depart', count: 1 });
  if (dataset.startsWith('ecnu')) sb.mutate({ dataset, op: 'delete', count: 1 });
}

describe('clocks and time zones', () => {
  it.each(cases)('$name', async ({ source, dataset, tz, sandbox: opts, jump, name, args = [] }) => {
    const midnight = name.includes('midnight');
    const startSkew = midnight ? skewToJustBeforeShanghaiMidnight() : opts.clockSkewSeconds;
    const sb = await startSandbox({
      port: 0,
      seed: 81,
      tongjiPageSize: 200,
      ...opts,
      ...(midnight ? { clockSkewSeconds: startSkew } : {}),
    });
    const home = await tempDir();
    try {
      const env = sandboxEnv(sb, home, { TZ: tz });
      const snap = path.join(home, 'snap.ndjson');
      const pull = async (since: string[]) => {
        const r = await idsync(['pull', source, ...since, ...args, '--snapshot', snap], env);
        expect(r.exitCode, String(r.stderr)).toBe(0);
        await expectSnapshotIsTruth(sb, snap, dataset);
      };
      // Changes just before the first run: its newest row is from this very second (or day).
      change(sb, dataset);
      await pull([]);
      // Changes right after it, in the same second or (Tongji) stamped with the same day.
      change(sb, dataset);
      if (jump) sb.setClockSkew((opts.clockSkewSeconds ?? 0) + jump);
      await pull(['--since', 'last']);
      if (midnight) {
        // Past Shanghai midnight on the server's clock (moved, not waited for): these changes
        // are stamped with the new day.
        const serverLocal = Date.now() / 1000 + (startSkew as number) + 8 * hour;
        const intoDay = serverLocal % 86400;
        if (intoDay > 12 * hour) sb.setClockSkew((startSkew as number) + (86400 - intoDay) + 1);
      }
      change(sb, dataset);
      await pull(['--since', 'last']);
    } finally {
      await sb.close();
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
