import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { idsync } from '../support/cli.js';

/** Root can make device nodes and give files away; the tests that need it say so. */
export const isRoot = process.getuid?.() === 0;

/** Another user's uid for files a test gives away ("nobody" on most systems). */
export const otherUid = 65534;

/**
 * A character device with /dev/null's numbers (1:3), made in the test's own folder: writing to
 * it discards the bytes, and the real /dev/null is never at risk.
 */
export function makeNullDevice(file: string): fs.Stats {
  execFileSync('mknod', [file, 'c', '1', '3']);
  return fs.lstatSync(file);
}

export function makeFifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

export interface CliRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** The CLI as a user with `umask 022` starts it (the usual default), whatever the test runner's umask. */
export async function idsyncUmask022(args: string[], env: Record<string, string>): Promise<CliRun> {
  const r = await idsync(args, env, { umask: '022' });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

export const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;
