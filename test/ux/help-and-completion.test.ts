import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli-context.js';
import { commandPath } from '../../src/commands/help-examples.js';
import { registerCommands } from '../../src/commands/index.js';
import { Console } from '../../src/core/console.js';
import { Buffered } from '../support/in-process.js';
import { idsync } from '../support/cli.js';
import { tempDir } from '../support/env.js';

const run = promisify(execFile);

async function program(): Promise<Command> {
  const ctx: CliContext = {
    console: new Console({ stdout: new Buffered(), stderr: new Buffered() }),
    env: {},
    signal: new AbortController().signal,
  };
  const p = new Command('idsync');
  await registerCommands(p, ctx);
  return p;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

let home: string;
let env: Record<string, string>;
beforeAll(async () => {
  home = await tempDir();
  env = { PATH: process.env['PATH'] ?? '', HOME: home, IDSYNC_HOME: home };
});
afterAll(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('help', () => {
  it('every command ends its help with examples of itself', async () => {
    const commands = allCommands(await program());
    expect(commands.length).toBeGreaterThan(15);
    for (const cmd of commands) {
      const text = helpOf(cmd);
      const name = commandPath(cmd);
      expect(text, name || 'idsync').toMatch(/\nExamples:\n {2}# .+\n {2}\$ .*idsync /);
      if (name) expect(text, name).toContain(`idsync ${name}`);
    }
  });

  it('pull --help shows -q and --verbose, the defaults, and examples', async () => {
    const r = await idsync(['pull', '--help'], env);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Global Options:');
    expect(r.stdout).toMatch(/-q, --quiet/);
    expect(r.stdout).toMatch(/--verbose/);
    expect(r.stdout).toMatch(/\(default:\s+300\)/); // --overlap
    expect(r.stdout).toMatch(
      /--concurrency <n>\s+pages fetched at once, page-numbered sources \(default 4;\s+fewer for pages\s+over 5000 rows\)/,
    );
    expect(r.stdout).toContain('$ idsync pull ecnu-staff --since last');
  });

  it('a bare idsync prints the help on stdout and succeeds', async () => {
    const r = await idsync([], env);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: idsync /);
    expect(r.stdout).toContain('Examples:');
  });
});

describe('completion', () => {
  let script: string;
  beforeAll(async () => {
    const r = await idsync(['completion', 'bash'], env);
    expect(r.exitCode).toBe(0);
    script = path.join(home, 'idsync.bash');
    await fs.writeFile(script, r.stdout);
  });

  /** What bash offers after the words typed, the last one being completed. */
  async function complete(...words: string[]): Promise<string[]> {
    const array = words.map((w) => `'${w}'`).join(' ');
    const { stdout } = await run('bash', [
      '-c',
      `source "$1"; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _idsync; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'bash',
      script,
    ]);
    return stdout.split('\n').filter(Boolean);
  }

  it.each([
    [
      ['idsync', ''],
      ['auth', 'sources', 'pull', 'state', 'lookup', 'photo', 'api', 'sandbox', 'completion'],
    ],
    [['idsync', 'pu'], ['pull']],
    [
      ['idsync', 'pull', 'ecnu-st'],
      ['ecnu-staff', 'ecnu-students'],
    ],
    [
      ['idsync', 'pull', '--format', ''],
      ['ndjson', 'csv', 'xlsx'],
    ],
    [['idsync', 'pull', 'tongji-staff', '--form'], ['--format']],
    [['idsync', 'pull', '--since', 'l'], ['last']],
    [
      ['idsync', 'auth', 'login', ''],
      ['ecnu', 'tongji'],
    ],
    [
      ['idsync', 'auth', ''],
      ['login', 'status', 'logout', 'user-login', 'user-logout'],
    ],
    [
      ['idsync', 'state', 'reset', 'tongji-s'],
      ['tongji-students', 'tongji-staff'],
    ],
    [['idsync', 'lookup', '--provider', 't'], ['tongji']],
    [
      ['idsync', 'lookup', '--format', 'json', '--f'],
      ['--format', '--fields'],
    ],
    [['idsync', 'pull', '--verb'], ['--verbose']],
    [
      ['idsync', 'completion', ''],
      ['bash', 'zsh', 'fish'],
    ],
  ])('%j → %j', async (words, expected) => {
    expect(await complete(...words)).toEqual(expected);
  });

  it('zsh and fish scripts are generated from the same tree', async () => {
    const zsh = await idsync(['completion', 'zsh'], env);
    expect(zsh.stdout).toMatch(/^#compdef idsync\n/);
    expect(zsh.stdout).toContain("'pull') echo 'ecnu-users' 'ecnu-staff'");
    const fish = await idsync(['completion', 'fish'], env);
    expect(fish.stdout).toContain("complete -c idsync -f -a '(__idsync_complete)'");
    expect(fish.stdout).toContain("case 'state reset'");
    // bash parses the shared case functions of the zsh script too
    await expect(run('bash', ['-n', '-c', zsh.stdout.split('\n_idsync() {')[0] ?? ''])).resolves.toBeDefined();
  });

  it('refuses an unknown shell with a suggestion', async () => {
    const r = await idsync(['completion', 'bsh'], env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("(did you mean 'bash'?)");
  });
});
