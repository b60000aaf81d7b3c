import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli.js';
import { Console } from '../../src/core/console.js';
import { repoRoot } from '../support/cli.js';
import { Buffered, runInProcess } from '../support/in-process.js';

const ctx = () => ({
  console: new Console({ stdout: new Buffered(), stderr: new Buffered() }),
  env: {},
  signal: new AbortController().signal,
});
const commandNames = async (args?: string[]) => (await createProgram(ctx(), args)).commands.map((c) => c.name());

describe('createProgram loads the commands a command line can reach', () => {
  it.each([
    { args: undefined, expected: 'all' },
    { args: ['--version'], expected: [] },
    { args: ['-q', 'pull', 'ecnu-users'], expected: ['pull'] },
    { args: ['lookup', '--help'], expected: ['lookup'] },
    { args: ['--help'], expected: 'all' },
    { args: [], expected: 'all' },
    { args: ['help', 'pull'], expected: 'all' },
    { args: ['pul'], expected: 'all' },
  ])('$args → $expected', async ({ args, expected }) => {
    const all = await commandNames();
    expect(all).toEqual(expect.arrayContaining(['auth', 'sources', 'pull', 'state', 'lookup', 'photo', 'api', 'sandbox']));
    expect(await commandNames(args)).toEqual(expected === 'all' ? all : expected);
  });

  it('a typo still gets a suggestion, and usage errors exit 2 with one line', async () => {
    const r = await runInProcess(['pul', 'ecnu-users'], {});
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^idsync: unknown command 'pul'\n\(Did you mean pull\?\)\n$/);
  });

  it('--version prints the package version and exits 0', async () => {
    const r = await runInProcess(['--version'], {});
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(r).toEqual({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
  });
});
