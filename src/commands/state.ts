import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { homePaths, resolveHome } from '../core/home.js';
import { findSource } from '../core/source-registry.js';
import { StateStore } from '../core/state.js';
import { formatShanghai } from '../core/sync/shanghai-time.js';
import { displayTime, withZone } from '../core/time-format.js';
import { formatRows, terminalWidth } from '../core/table-layout.js';
import { brokenRows, listStates, reportBroken } from './state-listing.js';

export function registerState(program: Command, ctx: CliContext): void {
  const state = program.command('state').description('show or reset the saved sync state');

  state
    .command('show')
    .description('watermarks and last runs of every source')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const home = homePaths(resolveHome(ctx.env));
      const { files, broken } = await listStates(new StateStore(home.stateDir));
      const rows = files.flatMap((f) =>
        Object.values(f.entries).map((e) => ({
          source: f.source,
          params: e.params,
          watermark: e.watermark,
          watermarkShanghai: e.watermark === null ? null : formatShanghai(e.watermark),
          snapshot: e.snapshot,
          lastRun: e.lastRun,
        })),
      );
      if (flags.json) {
        await ctx.console.data(`${JSON.stringify([...rows, ...broken.map((b) => ({ source: b.source, error: b.reason }))], null, 2)}\n`);
        return reportBroken(ctx, broken, files.length + broken.length);
      }
      if (!rows.length && !broken.length) {
        ctx.console.info(`no saved state in ${home.stateDir}`);
        return;
      }
      await ctx.console.data(
        formatRows(
          ['SOURCE', 'PARAMS', withZone('NEXT --since last'), withZone('LAST RUN'), 'RECORDS', 'SNAPSHOT'],
          rows.map((r) => [
            r.source,
            Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(',') || '-',
            r.watermarkShanghai ? `after ${r.watermarkShanghai} (${r.watermark})` : 'full pull',
            `${r.lastRun.mode} ${displayTime(r.lastRun.finishedAt)}`,
            String(r.lastRun.records),
            r.snapshot ?? '-',
          ]).concat(brokenRows(broken, 6)),
          terminalWidth(ctx.console.stdout, ctx.env),
        ),
      );
      reportBroken(ctx, broken, files.length + broken.length);
    });

  state
    .command('reset')
    .description('forget the state of a source: its next --since last run is a full pull')
    .argument('<source>', 'source name')
    .action(async (source: string) => {
      const home = homePaths(resolveHome(ctx.env));
      findSource(source, home.sourcesFile);
      const removed = await new StateStore(home.stateDir).reset(source);
      ctx.console.info(removed ? `${source}: state reset; the next --since last run is a full pull` : `${source}: no saved state`);
    });
}
