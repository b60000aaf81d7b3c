import { ExitCode, IdsyncError, UsageError } from '../core/errors.js';

/** Reads a secret from the terminal without echoing it (like `gh auth login`). */
export async function promptSecret(question: string, signal?: AbortSignal): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    throw new UsageError('no terminal to ask for the client secret on; pipe it in with --client-secret-stdin');
  }
  // Raw mode before the question: a key pressed as soon as it shows is never echoed.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise<string>((resolve, reject) => {
    let secret = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      signal?.removeEventListener('abort', onAbort);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(secret);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        // Raw mode turns Ctrl-C into a character: answer it as the shell would answer SIGINT.
        if (ch === '\u0003') return done(new IdsyncError('cancelled; nothing stored', ExitCode.interrupted));
        if (ch === '\u0004' && secret === '') return done(new UsageError('cancelled; nothing stored'));
        if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
        else if (ch >= ' ') secret += ch;
      }
    };
    // A Ctrl-C typed before raw mode took over arrives as SIGINT, which aborts the signal.
    const onAbort = () => done(new IdsyncError('cancelled; nothing stored', ExitCode.interrupted));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stdin.on('data', onData);
  });
}

/** --client-secret-stdin: the first line of standard input, for scripts and secret managers. */
export async function readSecretFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]?.trim() ?? '';
}
