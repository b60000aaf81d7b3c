import type { Command } from 'commander';
import { providerIds } from '../core/provider.js';
import { directories } from '../providers/index.js';
import { recordFormats } from '../lookup/record-output.js';
import { outputFormats } from '../core/sync/writers.js';

export const shells = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof shells)[number];

export interface OptionModel {
  long: string;
  short?: string;
  description: string;
  /** Words that may follow the option; 'file' for a path; undefined for a flag. */
  value?: readonly string[] | 'file' | 'any';
}

export interface CommandModel {
  /** '' for the program, 'auth login' for a subcommand. */
  path: string;
  description: string;
  subcommands: string[];
  options: OptionModel[];
  /** What the positional arguments are (one list for all positions). */
  args: readonly string[];
}

const fileOptions = new Set(['--out', '--snapshot', '--changes', '--ids-file', '--out-dir']);

/** What completes after an option: by command and option, else by option alone. */
function valuesFor(path: string, long: string, sources: readonly string[]): NonNullable<OptionModel['value']> {
  if (fileOptions.has(long)) return 'file';
  if (long === '--format') return path === 'pull' ? outputFormats : recordFormats;
  if (long === '--provider') return path === 'photo' ? ['ecnu'] : providerIds;
  if (long === '--kind') return [...new Set(Object.values(directories).flatMap((d) => d.kinds.map((k) => k.name)))];
  if (long === '--since') return ['last', '0'];
  if (long === '--source') return sources;
  return 'any';
}

function argsFor(cmd: Command, sources: readonly string[]): readonly string[] {
  const first = cmd.registeredArguments[0]?.name();
  if (first === 'source') return sources;
  if (first === 'provider') return providerIds;
  if (first === 'shell') return shells;
  return [];
}

/** The command tree as data, from commander's own registrations: nothing to keep in step by hand. */
export function completionModel(program: Command, sources: readonly string[]): CommandModel[] {
  const out: CommandModel[] = [];
  const visit = (cmd: Command, path: string, inherited: OptionModel[]) => {
    const own: OptionModel[] = cmd.options
      .filter((o) => o.long && !o.hidden)
      .map((o) => ({
        long: o.long as string,
        ...(o.short ? { short: o.short } : {}),
        description: o.description,
        ...(o.required || o.optional ? { value: valuesFor(path, o.long as string, sources) } : {}),
      }));
    const options = [...own, ...inherited, { long: '--help', short: '-h', description: 'display help for command' }];
    const subcommands = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
    out.push({ path, description: cmd.description(), subcommands, options, args: argsFor(cmd, sources) });
    // -q and --verbose are the program's: they work after any subcommand too.
    const passDown = path === '' ? own.filter((o) => o.long !== '--version') : inherited;
    for (const sub of cmd.commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name(), passDown);
  };
  visit(program, '', []);
  return out;
}
