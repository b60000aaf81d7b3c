import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { UsageError } from '../core/errors.js';
import { homePaths, resolveHome } from '../core/home.js';
import { findSource } from '../providers/source-registry.js';
import { jobKey, StateStore } from '../core/state.js';
import { JobFolder } from '../core/sync/job-folder.js';
import { jobOptions } from '../core/sync/job.js';
import { snapshotKindOf } from '../core/sync/snapshot-target.js';
import { formatShanghai } from '../core/sync/shanghai-time.js';
import { collectParam, nonEmpty } from './option-parsers.js';
import { formatRows, terminalWidth } from '../core/table.js';
import { displayTime, withZone } from '../core/time-format.js';
import { parsePostgresTarget } from '../sinks/postgres-url.js';

/** How `state` names a snapshot given on its command line: as `pull` stored it (a URL normalised, without password). */
function snapshotId(raw: string): string {
  return snapshotKindOf(raw) === 'postgres' ? parsePostgresTarget(raw).identity : path.resolve(raw);
}

export function registerState(program: Command, ctx: CliContext): void {
  const state = program.command('state').description('show or reset the saved state of each job');

  state
    .command('show')
    .description('every job (source, params, snapshot): its watermark and last run')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const home = homePaths(resolveHome(ctx.env));
      const files = await new StateStore(home.stateDir).list();
      const rows = files.flatMap(({ source, file }) =>
        Object.values(file?.jobs ?? {}).map((j) => ({
          source,
          params: j.params,
          snapshot: j.snapshot,
          watermark: j.watermark,
          watermarkShanghai: j.watermark === null ? null : formatShanghai(j.watermark),
          changesFed: j.changesFed,
          lastRunId: j.lastRunId,
          lastRun: j.lastRun,
        })),
      );
      const broken = files.filter((f) => f.error !== undefined);
      for (const b of broken) ctx.console.warn(`${b.source}: ${b.error}`);
      if (flags.json) {
        await ctx.console.data(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (!rows.length && !broken.length) {
        ctx.console.info(`no saved state in ${home.stateDir}`);
        return;
      }
      await ctx.console.data(
        formatRows(
          ['SOURCE', 'PARAMS', 'SNAPSHOT', withZone('NEXT --since last'), withZone('LAST RUN'), 'RECORDS', 'CHANGES'],
          rows
            .map((r) => [
              r.source,
              Object.entries(r.params)
                .map(([k, v]) => `${k}=${v}`)
                .join(',') || '-',
              r.snapshot ?? '-',
              r.watermarkShanghai ? `after ${r.watermarkShanghai} (${r.watermark})` : 'full pull',
              `${r.lastRun.mode} ${displayTime(r.lastRun.finishedAt)}`,
              String(r.lastRun.records),
              r.changesFed ? 'fed' : '-',
            ])
            .concat(broken.map((b) => [b.source, '-', '-', 'BROKEN state file (see the warning above)', '-', '-', '-'])),
          terminalWidth(ctx.console.stdout, ctx.env),
        ),
      );
    });

  const snapshotFlags = new Set<string>();
  state
    .command('reset')
    .description("forget a source's jobs (or one job): their next --since last run is a full pull")
    .argument('<source>', 'source name')
    .option('--snapshot <target>', 'only the job of this snapshot (as given to pull --snapshot)', nonEmpty)
    .option('--no-snapshot', 'only the job without a snapshot')
    .option('--param <key=value>', 'with --snapshot/--no-snapshot: the job of this --param set', collectParam)
    // commander keeps the last of --snapshot FILE and --no-snapshot, which name different jobs.
    .on('option:snapshot', () => snapshotFlags.add('--snapshot'))
    .on('option:no-snapshot', () => snapshotFlags.add('--no-snapshot'))
    .action(async (source: string, flags: { snapshot?: string | false; param?: Record<string, string> }) => {
      if (snapshotFlags.size > 1) throw new UsageError('--snapshot and --no-snapshot name different jobs; give one of them');
      const home = homePaths(resolveHome(ctx.env));
      findSource(source, home.sourcesFile);
      const store = new StateStore(home.stateDir);
      if (flags.snapshot === undefined) {
        if (flags.param) throw new UsageError('--param goes with --snapshot FILE or --no-snapshot: it names one job');
        const removed = await store.reset(source);
        // Every job folder of the source: their journals and undelivered events mean nothing now.
        const names = await fs.readdir(home.jobsDir).catch(() => [] as string[]);
        // Exactly `<source>-<hash>`: a source named `ecnu-staff-cs` has folders that also start with `ecnu-staff-`.
        const ofSource = (n: string) => n.startsWith(`${source}-`) && /^[0-9a-f]{16}$/.test(n.slice(source.length + 1));
        for (const n of names) if (ofSource(n)) await fs.rm(path.join(home.jobsDir, n), { recursive: true, force: true });
        ctx.console.info(
          removed ? `${source}: every job's state reset; the next --since last run is a full pull` : `${source}: no saved state`,
        );
        return;
      }
      const snapshot = flags.snapshot === false ? null : snapshotId(flags.snapshot);
      const key = jobKey(flags.param ?? {}, snapshot);
      const removed = await store.reset(source, key);
      await JobFolder.of(home.jobsDir, source, key).remove();
      const job = jobOptions(flags.param ?? {}, snapshot).join(' ');
      ctx.console.info(
        removed ? `${source}: job state reset (${job}); its next --since last run is a full pull` : `${source}: no such job (${job})`,
      );
    });
}
