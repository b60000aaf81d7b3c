import { escapeTerminal } from './terminal-text.js';

/**
 * The one way the program talks to the user: stdout carries data, stderr carries messages.
 * Tests construct their own instance over string buffers.
 */
export interface Output {
  write(chunk: string): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener?(event: 'drain' | 'close', listener: () => void): unknown;
  isTTY?: boolean;
  /** A terminal's width in cells (process.stdout has it). */
  columns?: number;
}

export interface ConsoleOptions {
  stdout: Output;
  stderr: Output;
  quiet?: boolean;
  verbose?: boolean;
}

export class Console {
  readonly stdout: Output;
  readonly stderr: Output;
  quiet: boolean;
  verbose: boolean;

  constructor(opts: ConsoleOptions) {
    this.stdout = opts.stdout;
    this.stderr = opts.stderr;
    this.quiet = opts.quiet ?? false;
    this.verbose = opts.verbose ?? false;
  }

  /** Data for stdout, honouring back-pressure so piping a million lines stays flat in memory. */
  async data(text: string): Promise<void> {
    if (this.stdout.write(text)) return;
    // A reader that went away never drains: fail instead of waiting forever.
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.stdout.removeListener?.('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.stdout.removeListener?.('drain', onDrain);
        reject(new Error('standard output was closed'));
      };
      this.stdout.once('drain', onDrain);
      this.stdout.once('close', onClose);
    });
  }

  /** A message that is part of the normal result (summaries); silenced by --quiet. */
  info(message: string): void {
    if (!this.quiet) this.stderr.write(`${escapeTerminal(message)}\n`);
  }

  /** Something the user must hear even with --quiet (a --since last run doing a full pull). */
  notice(message: string): void {
    this.stderr.write(`idsync: ${escapeTerminal(message)}\n`);
  }

  // Messages are one line each and may quote a platform: whatever a caller
  // forgot to escape cannot drive the terminal or forge a second `idsync:` line.
  //
  // --quiet means "nothing on stderr but errors" (its help), so it silences warnings too, but
  // for those about a person's privacy or the machine's safety (`always`).
  warn(message: string, opts: { always?: boolean } = {}): void {
    if (this.quiet && !opts.always) return;
    this.stderr.write(`idsync: warning: ${escapeTerminal(message)}\n`);
  }

  error(message: string): void {
    this.stderr.write(`idsync: ${escapeTerminal(message)}\n`);
  }

  /** Detail for --verbose only (each retry, each request). */
  debug(message: string): void {
    if (this.verbose) this.stderr.write(`idsync: ${escapeTerminal(message)}\n`);
  }

  get interactive(): boolean {
    return Boolean(this.stderr.isTTY) && !this.quiet;
  }
}

export function processConsole(): Console {
  return new Console({ stdout: process.stdout, stderr: process.stderr });
}
