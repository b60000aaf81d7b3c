import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { CliContext } from './cli-context.js';
import { registerCommands } from './commands/index.js';
import { processConsole } from './core/console.js';
import { ExitCode, isIdsyncError } from './core/errors.js';
import { resolveHome } from './core/home.js';
import { systemErrorMessage } from './commands/system-error.js';

/**
 * The whole program as a value: tests build it over a captured console and an environment of
 * their own, and parse argv in-process. Nothing here touches process-wide state; `main` does.
 * With `args`, only the commands that command line can reach are loaded (start-up time).
 */
export async function createProgram(ctx: CliContext, args?: readonly string[]): Promise<Command> {
  const { console: con } = ctx;
  const program = new Command('idsync')
    .description('Keep university identity data (ECNU, Tongji) in sync with local files.')
    .version(packageVersion(), '-V, --version')
    .option('-q, --quiet', 'print nothing on stderr but errors')
    .option('--verbose', 'print each request, each retry and stack traces')
    .showSuggestionAfterError(true)
    // -q and --verbose belong to the program but matter most in `pull --help`: show them there.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => con.stdout.write(s),
      writeErr: (s) => con.stderr.write(s),
      outputError: (s, write) => write(`idsync: ${s.replace(/^error: /, '')}`),
    })
    .hook('preAction', (_this, action) => {
      const opts = program.opts<{ quiet?: boolean; verbose?: boolean }>();
      const own = action.opts<{ quiet?: boolean; verbose?: boolean }>();
      con.quiet = Boolean(opts.quiet ?? own.quiet);
      con.verbose = Boolean(opts.verbose ?? own.verbose);
    });
  await registerCommands(program, ctx, args);
  return program;
}

/** The one top-level error handler: prints one line (a stack only with --verbose), returns the exit code. */
export function report(err: unknown, ctx: CliContext): number {
  const { console: con, signal } = ctx;
  if (err instanceof CommanderError) {
    // commander has already printed its one-line message; help and version exit 0.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (signal.reason === 'EPIPE') return 141;
  if (signal.aborted) {
    // 128 + signal number, as shells report it: 130 for SIGINT, 143 for SIGTERM.
    con.error(`interrupted by ${String(signal.reason)}; previous outputs and state left as they were`);
    return signal.reason === 'SIGTERM' ? 143 : ExitCode.interrupted;
  }
  if (isIdsyncError(err)) {
    con.error(err.message);
    if (con.verbose && err.stack) con.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const friendly = systemErrorMessage(err, resolveHome(ctx.env));
  if (friendly) return report(friendly, ctx);
  const message = err instanceof Error ? err.message : String(err);
  con.error(`unexpected error: ${message.split('\n')[0]}${con.verbose ? '' : ' (run with --verbose for details)'}`);
  if (con.verbose && err instanceof Error && err.stack) con.stderr.write(`${err.stack}\n`);
  return ExitCode.failure;
}

/** Runs a program's argv (user arguments, without node and the script) and returns the exit code. */
export async function run(ctx: CliContext, args: readonly string[]): Promise<number> {
  try {
    const program = await createProgram(ctx, args);
    // A bare `idsync` is a request for help, as with gh: print it on stdout and succeed.
    if (args.length === 0) program.outputHelp();
    else await program.parseAsync(args, { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    return report(err, ctx);
  }
}

/** The process entry (bin/idsync.js): owns signals, stdout errors and the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  const controller = new AbortController();
  const ctx: CliContext = { console: processConsole(), env: process.env, signal: controller.signal, stdin: process.stdin };

  // First signal: let the running command stop cleanly (remove temp files, keep state).
  // Second signal: the user insists, so leave at once.
  let signalled = 0;
  const ours = new Map<string, (...args: unknown[]) => void>();
  const own = (sig: NodeJS.Signals, listener: () => void) => {
    process.removeAllListeners(sig);
    process.on(sig, listener);
    ours.set(sig, listener);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    own(sig, () => {
      signalled += 1;
      if (signalled > 1) process.exit(sig === 'SIGTERM' ? 143 : ExitCode.interrupted);
      controller.abort(sig);
    });
  }
  // Node ignores SIGXFSZ so that a write past a file-size limit (ulimit -f, systemd LimitFSIZE)
  // fails with EFBIG and is reported like a full disk. A no-op listener keeps the write failing.
  own('SIGXFSZ', () => undefined);
  // conf → atomically → when-exit hooks every signal when it is first imported (lazily, by the
  // command that needs it) and re-raises each one at the process itself: that echo counted as
  // the user's second signal, so every Ctrl-C or TERM exited 130 at once, leaving temp files
  // behind, and a SIGXFSZ killed the run without a word. The CLI owns these signals, so any
  // later listener for them goes; the libraries' cleanup still runs from their 'exit' listeners.
  // (Removed on the next microtask: 'newListener' fires before the listener is added, and no
  // signal can be delivered in between.)
  process.on('newListener', (event: string | symbol, listener: (...args: unknown[]) => void) => {
    if (typeof event !== 'string' || !ours.has(event) || ours.get(event) === listener) return;
    queueMicrotask(() => process.removeListener(event, listener));
  });

  // A reader that goes away (`idsync pull -o - | head`) is not an error worth a stack trace:
  // stop the run (the state does not move) and leave quietly, as git does.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') controller.abort('EPIPE');
  });

  process.exitCode = await run(ctx, argv.slice(2));
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
