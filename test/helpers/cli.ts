import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options, type Result } from 'execa';
import { sandboxClientEnv, type Sandbox } from '../../src/sandbox/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binPath = path.join(repoRoot, 'bin', 'idsync.js');

/** A fresh IDSYNC_HOME (and a work folder beside it) per test; nothing touches the real home. */
export async function tempDir(prefix = 'idsync-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Environment that points the CLI at a sandbox, with no trace of the developer's own setup. */
export function sandboxEnv(sandbox: Sandbox, home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    IDSYNC_HOME: home,
    ...sandboxClientEnv(sandbox),
    ...extra,
  };
}

/** Spawns bin/idsync.js like a user's shell or cron would: no TTY, never throws on exit code. */
export async function idsync(args: string[], env: Record<string, string>, opts: Options = {}): Promise<Result> {
  return execa(process.execPath, [binPath, ...args], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 60_000,
    stdin: 'ignore',
    ...opts,
  } as Options) as Promise<Result>;
}

export async function readNdjson(file: string): Promise<Record<string, unknown>[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function byKey(rows: Record<string, unknown>[], key: string): Map<string, Record<string, unknown>> {
  return new Map(rows.map((r) => [String(r[key]), r]));
}
