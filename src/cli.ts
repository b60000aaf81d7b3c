import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { processConsole } from './core/console.js';
import { ExitCode, isIdsyncError } from './core/errors.js';
import { resolveHome } from './core/home.js';
import { systemErrorMessage } from './commands/system-error.js';
import type { CliContext } from './cli-context.js';
import { registerCommands } from './commands/index.js';

const console_ = processConsole();
const controller = new AbortController();
const ctx: CliContext = { console: console_, env: process.env, signal: controller.signal, stdin: process.stdin };

// First signal: let the running command stop cleanly (remove temp files, keep state).
// Second signal: the user insists, so leave at once.
let signalled = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  // conf → atomically → when-exit hooks these signals at import time and re-raises each one
  // at the process itself: that echo counted as the user's second signal, so every Ctrl-C or
  // TERM exited 130 at once, leaving temp files behind. The CLI owns these two signals; the
  // libraries' cleanup still runs from their 'exit' listeners.
  process.removeAllListeners(sig);
  process.on(sig, () => {
    signalled += 1;
    if (signalled > 1) process.exit(sig === 'SIGTERM' ? 143 : ExitCode.interrupted);
    controller.abort(sig);
  });
}
// Node ignores SIGXFSZ so that a write past a file-size limit (ulimit -f, systemd LimitFSIZE)
// fails with EFBIG and is reported like a full disk; when-exit's listener undid that and
// re-raised it, killing the run without a word. A no-op listener keeps the write failing.
process.removeAllListeners('SIGXFSZ');
process.on('SIGXFSZ', () => undefined);

// A reader that goes away (`idsync pull -o - | head`) is not an error worth a stack trace:
// stop the run (the state does not move) and leave quietly, as git does.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') controller.abort('EPIPE');
});

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
    writeOut: (s) => process.stdout.write(s),
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(`idsync: ${s.replace(/^error: /, '')}`),
  })
  .hook('preAction', (_this, action) => {
    const opts = program.opts<{ quiet?: boolean; verbose?: boolean }>();
    const own = action.opts<{ quiet?: boolean; verbose?: boolean }>();
    console_.quiet = Boolean(opts.quiet ?? own.quiet);
    console_.verbose = Boolean(opts.verbose ?? own.verbose);
  });

registerCommands(program, ctx);

try {
  // A bare `idsync` is a request for help, as with gh: print it on stdout and succeed.
  if (process.argv.length <= 2) program.outputHelp();
  else await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = report(err);
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has already printed its one-line message; help and version exit 0.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (ctx.signal.reason === 'EPIPE') return 141;
  if (ctx.signal.aborted) {
    // 128 + signal number, as shells report it: 130 for SIGINT, 143 for SIGTERM.
    console_.error(`interrupted by ${String(ctx.signal.reason)}; previous outputs and state left as they were`);
    return ctx.signal.reason === 'SIGTERM' ? 143 : ExitCode.interrupted;
  }
  if (isIdsyncError(err)) {
    console_.error(err.message);
    if (console_.verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const friendly = systemErrorMessage(err, resolveHome(ctx.env));
  if (friendly) return report(friendly);
  const message = err instanceof Error ? err.message : String(err);
  console_.error(`unexpected error: ${message.split('\n')[0]}${console_.verbose ? '' : ' (run with --verbose for details)'}`);
  if (console_.verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return ExitCode.failure;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
