import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { homePaths, resolveHome } from '../core/home.js';
import { allSources } from '../providers/source-registry.js';
import { formatRows, terminalWidth } from '../core/table.js';

export function registerSources(program: Command, ctx: CliContext): void {
  program
    .command('sources')
    .description('list every source: name, provider, endpoint, key, paging kind')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const home = homePaths(resolveHome(ctx.env));
      const rows = allSources(home.sourcesFile).map((s) => ({
        name: s.name,
        provider: s.provider,
        endpoint: s.path,
        key: s.keyFields.join('|'),
        paging: s.paging,
        requiredParams: [...s.requiredParams],
        custom: Boolean(s.custom),
        description: s.description,
      }));
      if (flags.json) {
        await ctx.console.data(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const header = ['NAME', 'PROVIDER', 'ENDPOINT', 'KEY', 'PAGING', 'NEEDS'];
      const table = rows.map((r) => [
        r.name,
        r.provider,
        r.endpoint,
        r.key,
        r.paging,
        r.requiredParams.map((p) => `--param ${p}=…`).join(' '),
      ]);
      await ctx.console.data(formatRows(header, table, terminalWidth(ctx.console.stdout, ctx.env)));
    });
}
