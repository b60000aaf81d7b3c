import fs from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../src/sandbox/index.js';
import { sandboxEnv, startWorld, tempDir, type TestWorld } from '../support/env.js';
import { runInProcess } from '../support/in-process.js';

/**
 * `auth login` through the real program in-process. Standard input is the one thing replaced:
 * the secret that `--client-secret-stdin` would read is given per case.
 */
const stdin = vi.hoisted(() => ({ text: '' }));
vi.mock('../../src/commands/secret-prompt.js', async (original) => ({
  ...(await original<typeof import('../../src/commands/secret-prompt.js')>()),
  readSecretFromStdin: () => Promise.resolve(stdin.text.split(/\r?\n/)[0]?.trim() ?? ''),
}));

let w: TestWorld;
let home: string;
let env: Record<string, string>;
beforeAll(async () => {
  w = await startWorld({ seed: 9, people: { 'ecnu-users': 5 } });
});
afterAll(() => w.close());
beforeEach(async () => {
  // A home of its own and no credentials from the environment: only what login stores counts.
  home = await tempDir('idsync-login-');
  const all = sandboxEnv(w.sb, home);
  env = Object.fromEntries(Object.entries(all).filter(([k]) => !/_CLIENT_(ID|SECRET)$/.test(k)));
});

const ecnu = () => SANDBOX_CREDENTIALS.ecnu;
const stored = async () => (await runInProcess(['auth', 'status', '--json'], env)).stdout;

interface Case {
  name: string;
  args: () => string[];
  secret?: string;
  exitCode: number;
  stderr: RegExp;
  /** Whether the platform's token endpoint is asked (the check of the secret). */
  asks: boolean;
  stores: boolean;
}

const cases: Case[] = [
  {
    name: 'a right secret is checked and stored',
    args: () => ['auth', 'login', 'ecnu', '--client-id', ecnu().clientId, '--client-secret-stdin'],
    secret: `${ecnu().clientSecret}\n`,
    exitCode: 0,
    stderr: /^ecnu: credentials for client sandbox-ecnu verified and stored in /,
    asks: true,
    stores: true,
  },
  {
    name: '--no-verify stores without asking the platform',
    args: () => ['auth', 'login', 'ecnu', '--client-id', ecnu().clientId, '--client-secret-stdin', '--no-verify'],
    secret: 'anything',
    exitCode: 0,
    stderr: /^ecnu: credentials for client sandbox-ecnu stored in /,
    asks: false,
    stores: true,
  },
  {
    name: 'a wrong secret is refused, not stored and not echoed',
    args: () => ['auth', 'login', 'ecnu', '--client-id', ecnu().clientId, '--client-secret-stdin'],
    secret: 'wrong-secret-xyz\n',
    exitCode: 3,
    stderr: /^idsync: (?!.*wrong-secret-xyz)/,
    asks: true,
    stores: false,
  },
  {
    name: 'an empty secret',
    args: () => ['auth', 'login', 'ecnu', '--client-id', ecnu().clientId, '--client-secret-stdin'],
    secret: '\n',
    exitCode: 2,
    stderr: /^idsync: the client secret is empty$/,
    asks: false,
    stores: false,
  },
  {
    name: 'no terminal to ask on',
    args: () => ['auth', 'login', 'ecnu', '--client-id', ecnu().clientId],
    exitCode: 2,
    stderr: /^idsync: no terminal to ask for the client secret on; pipe it in with --client-secret-stdin$/,
    asks: false,
    stores: false,
  },
  {
    name: 'an empty --client-id',
    args: () => ['auth', 'login', 'ecnu', '--client-id', '  ', '--client-secret-stdin'],
    secret: 'x',
    exitCode: 2,
    stderr: /^idsync: --client-id must not be empty$/,
    asks: false,
    stores: false,
  },
  {
    name: 'no --client-id',
    args: () => ['auth', 'login', 'ecnu', '--client-secret-stdin'],
    exitCode: 2,
    stderr: /^idsync: .*--client-id/,
    asks: false,
    stores: false,
  },
  {
    name: 'an unknown provider',
    args: () => ['auth', 'login', 'fudan', '--client-id', 'x', '--client-secret-stdin'],
    exitCode: 2,
    stderr: /^idsync: .*fudan/,
    asks: false,
    stores: false,
  },
];

describe('auth login', () => {
  it.each(cases)('$name', async ({ args, secret, exitCode, stderr, asks, stores }) => {
    stdin.text = secret ?? '';
    const tokenRequests = w.sb.stats().byPath['/oauth2/token'] ?? 0;
    const r = await runInProcess(args(), env);
    expect(r.exitCode, r.stderr).toBe(exitCode);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(stderr)]);
    expect((w.sb.stats().byPath['/oauth2/token'] ?? 0) > tokenRequests).toBe(asks);
    const status = await stored();
    expect(status).not.toContain(ecnu().clientSecret);
    expect(status).not.toContain('wrong-secret-xyz');
    const providers = (JSON.parse(status) as { providers: Array<{ provider: string; credentials: { origin: string } | null }> }).providers;
    expect(providers.find((p) => p.provider === 'ecnu')?.credentials !== null).toBe(stores);
    await fs.rm(home, { recursive: true, force: true });
  });
});
