/**
 * The sandbox in a process of its own, so that its memory and CPU are not counted as the
 * contenders': `node dist/bench/sandbox-server.js --records N --latency MS`. Prints one JSON
 * line (url, ECNU credentials, how many records a correct pull writes) and serves until its
 * stdin closes or it gets SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startSandbox } from '../sandbox/index.js';

export interface SandboxInfo {
  url: string;
  clientId: string;
  clientSecret: string;
  /** ecnu-users rows that are not tombstones: the lines a full pull writes. */
  live: number;
}

const { values } = parseArgs({ options: { records: { type: 'string' }, latency: { type: 'string', default: '0' } } });
const records = Number(values.records);
const latencyMs = Number(values.latency);
if (!Number.isInteger(records) || records < 1 || !Number.isInteger(latencyMs) || latencyMs < 0) {
  process.stderr.write('usage: sandbox-server --records N [--latency MS]\n');
  process.exit(2);
}

const sandbox = await startSandbox({ port: 0, people: { 'ecnu-users': records }, latencyMs });
const info: SandboxInfo = {
  url: sandbox.url,
  clientId: sandbox.credentials.ecnu.clientId,
  clientSecret: sandbox.credentials.ecnu.clientSecret,
  live: sandbox.truth('ecnu-users').length,
};
process.stdout.write(`${JSON.stringify(info)}\n`);

const stop = (): void => {
  void sandbox.close().then(() => process.exit(0));
};
process.stdin.on('end', stop).on('close', stop).resume();
process.on('SIGTERM', stop);
