import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Measured {
  wallMs: number;
  /** Peak resident set of the process (getrusage ru_maxrss), in KiB. */
  maxRssKb: number;
}

const MARK = 'IDSYNC_BENCH_MAXRSS_KB';
const GNU_TIME = '/usr/bin/time';
/** Fallback where GNU time is missing: a preload that reports the same figure at exit. */
const reporter = fileURLToPath(new URL('./report-rss.js', import.meta.url));

function hasGnuTime(): boolean {
  try {
    accessSync(GNU_TIME, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
const useTime = hasGnuTime();

export const rssSource = useTime ? `${GNU_TIME} -f %M (ru_maxrss)` : 'process.resourceUsage().maxRSS at exit (preload)';

/**
 * Runs `node <args>` as its own process and measures it from outside: wall time from spawn to
 * exit (node's start-up included, the same for every contender) and peak RSS. Fails with the
 * end of its stderr when it exits non-zero: a contender that fails must not count as fast.
 */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Measured> {
  const argv = useTime ? [GNU_TIME, '-f', `${MARK} %M`, process.execPath, ...args] : [process.execPath, '--import', reporter, ...args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0] as string, argv.slice(1), { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-8000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      const m = new RegExp(`${MARK} (\\d+)`).exec(stderr);
      if (code !== 0 || !m) {
        reject(new Error(`node ${args.join(' ')} exited ${signal ?? code}:\n${stderr.replace(new RegExp(`.*${MARK}.*\\n?`), '').trim()}`));
        return;
      }
      resolve({ wallMs, maxRssKb: Number(m[1]) });
    });
  });
}

/** Lines and SHA-256 of a file: a contender that fetched nothing, or the wrong thing, shows. */
export async function digestFile(file: string): Promise<{ lines: number; sha256: string }> {
  const hash = createHash('sha256');
  let lines = 0;
  for await (const buf of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(buf);
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines += 1;
  }
  return { lines, sha256: hash.digest('hex') };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
