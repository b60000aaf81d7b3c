import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { homePaths, resolveHome } from '../core/home.js';
import { allSources, builtinSources } from '../providers/source-registry.js';
import { completionModel, shells, type Shell } from './completion-model.js';
import { completionScript } from './completion-scripts.js';
import { oneOf } from './option-parsers.js';

export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, options, source names, providers)')
    .argument('<shell>', shells.join(', '), oneOf(shells))
    .action(async (shell: Shell) => {
      await ctx.console.data(completionScript(shell, completionModel(program, sourceNames(ctx))));
    });
}

/** Built-in sources and the custom ones declared when the script is generated. */
function sourceNames(ctx: CliContext): string[] {
  try {
    return allSources(homePaths(resolveHome(ctx.env)).sourcesFile).map((s) => s.name);
  } catch (err) {
    ctx.console.warn(`custom sources left out of the completion: ${(err as Error).message}`);
    return builtinSources().map((s) => s.name);
  }
}
