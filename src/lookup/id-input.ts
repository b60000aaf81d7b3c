import fs_ from 'node:fs';
import fs from 'node:fs/promises';
import { UsageError } from '../core/errors.js';

/** Where ids come from: arguments, `--ids-file FILE` and a lone `-` argument (stdin), one a line. */
export interface IdSources {
  args: readonly string[];
  idsFile?: string;
  readStdin: () => Promise<string>;
}

export interface IdRules {
  /** What the values are, for messages: 'userId' or 'ID-card number'. */
  what: string;
  /** Shows a value in an error message (masked for ID-card numbers). */
  show?: (value: string) => string;
  /** Photos: the id becomes a file name, so only plain ids. */
  plain?: boolean;
}

export const MAX_ID_LENGTH = 64;

/**
 * Ids travel in query strings and, joined by commas, in Tongji batches (seeds/004), and photos
 * use them as file names: anything that could change the meaning of those is refused up front.
 */
export function idProblem(id: string, plain = false): string | undefined {
  if (id.length === 0) return 'is empty';
  if (id.length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id)) return 'contains a control character';
  if (/\s/u.test(id)) return 'contains white space';
  if (id.includes(',')) return 'contains a comma';
  if (plain) {
    if (id.startsWith('.')) return 'starts with a dot';
    if (id.includes('..')) return "contains '..'";
    if (/[/\\]/.test(id)) return 'contains a path separator';
    if (!/^[A-Za-z0-9._-]+$/.test(id)) return 'is not a plain id (letters, digits, . _ - only)';
  }
  return undefined;
}

/** Collects, validates and de-duplicates ids (first occurrence wins); throws UsageError. */
export async function readIds(sources: IdSources, rules: IdRules): Promise<string[]> {
  const show = rules.show ?? ((v: string) => v);
  const seen = new Set<string>();
  const ids: string[] = [];
  const add = (id: string, where: string) => {
    const problem = idProblem(id, rules.plain);
    if (problem) throw new UsageError(`${where}${rules.what} ${JSON.stringify(show(id))} ${problem}`);
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  };
  let stdinUsed = false;
  for (const arg of sources.args) {
    if (arg === '-') {
      if (stdinUsed) continue;
      stdinUsed = true;
      linesOf(await sources.readStdin()).forEach(([line, n]) => add(line, `stdin:${n}: `));
    } else {
      add(arg, '');
    }
  }
  if (sources.idsFile !== undefined) {
    let text: string;
    try {
      text = await fs.readFile(sources.idsFile, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --ids-file ${sources.idsFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const lines = linesOf(text);
    if (lines.length === 0) throw new UsageError(`--ids-file ${sources.idsFile} holds no ${rules.what}s`);
    lines.forEach(([line, n]) => add(line, `${sources.idsFile}:${n}: `));
  }
  if (stdinUsed && ids.length === 0) throw new UsageError(`no ${rules.what}s on standard input`);
  return ids;
}

/** Non-blank lines, trimmed, with their 1-based line numbers; `#` starts a comment line. */
function linesOf(text: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line !== '' && !line.startsWith('#')) out.push([line, i + 1]);
    });
  return out;
}

/** All of standard input as text (ids piped in by a script). */
export async function readAllStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Ids may come unasked from a pipe or a redirected file (`printf '201001\n' | idsync lookup`):
 * read standard input when no ids are given and it is a pipe, socket or file. A terminal waits
 * for typing, and a character device (/dev/null under cron) has nothing to say: neither is read.
 */
export function stdinIsPiped(stdin: NodeJS.ReadStream | undefined): boolean {
  if (!stdin || stdin.isTTY) return false;
  try {
    const fd = (stdin as { fd?: unknown }).fd;
    const st = fs_.fstatSync(typeof fd === 'number' ? fd : 0);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}
