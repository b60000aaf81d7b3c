import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { homePaths, resolveHome } from '../core/home.js';
import { allSources } from '../core/source-registry.js';

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
      const table = rows.map((r) => [r.name, r.provider, r.endpoint, r.key, r.paging, r.requiredParams.map((p) => `--param ${p}=…`).join(' ')]);
      await ctx.console.data(formatTable(header, table));
    });
}

/** Plain aligned columns; width counts CJK characters as two cells. */
export function formatTable(header: string[], rows: string[][]): string {
  const width = (s: string) => [...s].reduce((n, ch) => n + (/[\u1100-\uffff]/.test(ch) ? 2 : 1), 0);
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - width(c))))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
