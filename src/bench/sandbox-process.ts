import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SandboxInfo } from './sandbox-server.js';

export interface SandboxProcess {
  info: SandboxInfo;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./sandbox-server.js', import.meta.url));

/** Starts sandbox-server.js and waits for the JSON line it prints once it listens. */
export async function startSandboxProcess(records: number, latencyMs: number): Promise<SandboxProcess> {
  // The heap limit is the sandbox's, for a million generated rows; it never applies to a contender.
  const child = spawn(
    process.execPath,
    ['--max-old-space-size=8192', script, '--records', String(records), '--latency', String(latencyMs)],
    {
      cwd: path.dirname(script),
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string | undefined>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(undefined));
  });
  if (!first) throw new Error('the sandbox process ended before it printed its address');
  const info = JSON.parse(first) as SandboxInfo;
  return {
    info,
    stop: async () => {
      child.stdin?.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}
