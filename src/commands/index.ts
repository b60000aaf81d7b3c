import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { addExamples } from './help-examples.js';

type Register = (program: Command, ctx: CliContext) => void;

/**
 * Each command lives in its own module and registers itself; this table only wires them, in the
 * order help lists them. The modules load lazily: importing them all costs ~150 ms (undici, zod,
 * conf, ora), which `idsync --version` or `idsync sources` should not pay.
 */
const commands = {
  auth: async () => (await import('./auth.js')).registerAuth,
  sources: async () => (await import('./sources.js')).registerSources,
  pull: async () => (await import('./pull.js')).registerPull,
  state: async () => (await import('./state.js')).registerState,
  lookup: async () => (await import('./lookup.js')).registerLookup,
  photo: async () => (await import('./photo.js')).registerPhoto,
  api: async () => (await import('./api.js')).registerApi,
  sandbox: async () => (await import('./sandbox.js')).registerSandbox,
  completion: async () => (await import('./completion.js')).registerCompletion,
} satisfies Record<string, () => Promise<Register>>;

type CommandName = keyof typeof commands;
const names = Object.keys(commands) as CommandName[];

/**
 * Registers the commands a command line can reach: all of them without `args` (tests, help),
 * else only the one it names. A line that names none (help, a typo commander will suggest a
 * fix for) gets all; a bare `--version` gets none.
 */
export async function registerCommands(program: Command, ctx: CliContext, args?: readonly string[]): Promise<void> {
  const wanted = args === undefined ? names : reachable(args);
  const registers = await Promise.all(wanted.map((name) => commands[name]()));
  for (const register of registers) register(program, ctx);
  addExamples(program);
}

/** Commands that describe the others (a shell completion script, help) need all of them. */
const describesOthers = new Set(['help', 'completion']);

function reachable(args: readonly string[]): CommandName[] {
  // The global options take no value, so the first operand is the command's name.
  const first = args.find((a) => !a.startsWith('-'));
  if (first === undefined) return args.includes('-V') || args.includes('--version') ? [] : names;
  if (describesOthers.has(first)) return names;
  return (names as string[]).includes(first) ? [first as CommandName] : names;
}
