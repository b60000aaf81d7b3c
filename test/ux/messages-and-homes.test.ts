import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxBanner } from '../../src/commands/sandbox.js';
import { spinnerOptions } from '../../src/commands/progress.js';
import { Console } from '../../src/core/console.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { binPath, idsync, repoRoot } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { Buffered } from '../support/in-process.js';

let sandbox: Sandbox;
let root: string;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 3, people: { 'ecnu-staff': 20 } });
  root = await tempDir();
});
afterAll(async () => {
  await sandbox.close();
  await fs.rm(root, { recursive: true, force: true });
});

async function listTree(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort();
}

describe('no surprise folders', () => {
  it('auth status, sources and state show create nothing, even in the default home', async () => {
    const home = path.join(root, 'user');
    await fs.mkdir(home);
    const env = { PATH: process.env['PATH'] ?? '', HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
    for (const args of [['auth', 'status'], ['auth', 'status', '--json'], ['sources'], ['state', 'show'], ['state', 'show', '--json']]) {
      const r = await idsync(args, env);
      expect(r.exitCode, args.join(' ')).toBe(0);
    }
    expect(await listTree(home)).toEqual([]);
  });

  it('idsync sandbox prints a home of its own', () => {
    const banner = sandboxBanner(sandbox, 1, '/tmp/idsync-sandbox-home-x');
    expect(banner).toContain('\nexport IDSYNC_HOME=/tmp/idsync-sandbox-home-x\n');
    expect(banner).toContain(`export IDSYNC_ECNU_BASE_URL=${sandbox.url}`);
  });
});

describe('messages', () => {
  it('an unwritable IDSYNC_HOME gets one friendly line, like an unwritable -o folder', async () => {
    // root ignores permission bits; sysfs refuses new folders whoever asks.
    const unwritable = process.getuid?.() === 0 ? '/sys/idsync-test-home' : path.join(root, 'ro', 'home');
    if (process.getuid?.() !== 0) {
      await fs.mkdir(path.join(root, 'ro'));
      await fs.chmod(path.join(root, 'ro'), 0o500);
    }
    const env = { ...sandboxEnv(sandbox, unwritable) };
    const r = await idsync(['pull', 'ecnu-staff', '-o', path.join(root, 'x.ndjson')], env);
    expect(r.stderr).toMatch(
      /^idsync: cannot write \/\S+: permission denied \(IDSYNC_HOME is \S+; point IDSYNC_HOME at a folder you can write\)$/,
    );
    expect(r.stderr).not.toContain('unexpected');
    expect(r.exitCode).toBe(1);
  });

  it('-o into a folder that refuses new files says "cannot write", not that the folder is missing', async () => {
    const home = await tempDir();
    const r = await idsync(['pull', 'ecnu-staff', '-o', '/proc/x.ndjson'], sandboxEnv(sandbox, home));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('cannot write /proc/x.ndjson');
    expect(r.stderr).not.toContain('does not exist');
  });
});

describe('sign-in', () => {
  it('auth login warns when the environment overrides the stored credentials', async () => {
    const home = await tempDir();
    const env = sandboxEnv(sandbox, home);
    const r = await idsync(['auth', 'login', 'ecnu', '--client-id', 'other', '--client-secret-stdin', '--no-verify'], env, {
      input: 's3cret\n',
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(
      'IDSYNC_ECNU_CLIENT_ID and IDSYNC_ECNU_CLIENT_SECRET are set in the environment and override the stored credentials',
    );
    const quiet = await idsync(
      ['auth', 'login', 'tongji', '--client-id', 'x', '--client-secret-stdin', '--no-verify'],
      { PATH: env.PATH ?? '', HOME: home, IDSYNC_HOME: home },
      { input: 's\n' },
    );
    expect(quiet.stderr).not.toContain('warning');
  });

  // A real terminal: util-linux `script` runs the CLI on a pseudo-terminal.
  it.runIf(Boolean(process.env['PATH']?.split(':').some((d) => existsSync(path.join(d, 'script')))))(
    'Ctrl-C at the secret prompt exits 130 and stores nothing',
    async () => {
      const home = await tempDir();
      // script's own log of the session goes to a file of the test's, outside the home it checks.
      const typescript = path.join(await tempDir(), 'typescript');
      const child = spawn(
        'script',
        ['-qec', `"${process.execPath}" "${binPath}" auth login ecnu --client-id x; echo "EXIT=$?"`, typescript],
        {
          cwd: repoRoot,
          env: { PATH: process.env['PATH'] ?? '', HOME: home, IDSYNC_HOME: home, TERM: 'dumb' },
        },
      );
      let out = '';
      let sent = false;
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (!sent && out.includes('client secret for x: ')) {
          sent = true;
          child.stdin.write('\u0003');
        }
      });
      await new Promise((resolve) => child.on('close', resolve));
      expect(out).toContain('idsync: cancelled; nothing stored');
      expect(out).toContain('EXIT=130');
      expect(await listTree(home)).toEqual([]);
    },
  );
});

describe('spinner', () => {
  // util-linux `script` with no terminal around it opens a pseudo-terminal of 0 columns.
  it.runIf(Boolean(process.env['PATH']?.split(':').some((d) => existsSync(path.join(d, 'script')))))(
    'a run on a terminal of no width finishes (no spinner)',
    async () => {
      // Slow enough (5 pages, 100 ms each) for the spinner to redraw a few times.
      const sb = await startSandbox({ port: 0, people: { 'ecnu-postdocs': 50 }, latencyMs: 100 });
      try {
        const home = await tempDir();
        const out = path.join(home, 'pd.ndjson');
        const typescript = path.join(await tempDir(), 'typescript');
        const cmd = `stty cols 0 rows 0; "${process.execPath}" "${binPath}" pull ecnu-postdocs --page-size 10 --concurrency 1 -o "${out}"; echo "EXIT=$?"`;
        // A person's terminal: ora draws nothing when CI is set.
        const { CI: _ci, ...env } = sandboxEnv(sb, home, { TERM: 'xterm' });
        const r = await execa('script', ['-qec', cmd, typescript], {
          env,
          extendEnv: false,
          reject: false,
          stdin: 'ignore',
          timeout: 30_000,
        });
        expect(r.timedOut, 'the run hung').toBe(false);
        expect(String(r.stdout)).toContain('EXIT=0');
        expect((await fs.readFile(out, 'utf8')).trim().split('\n').length).toBeGreaterThan(0);
      } finally {
        await sb.close();
      }
    },
  );

  const consoleWith = (stdoutTTY: boolean) => new Console({ stdout: new Buffered(stdoutTTY), stderr: new Buffered(true) });

  it('draws in colour unless NO_COLOR is set', () => {
    expect(spinnerOptions(consoleWith(false), { env: {} })).toEqual({});
    expect(spinnerOptions(consoleWith(false), { env: { NO_COLOR: '1' } })).toEqual({ color: false });
  });

  it('stays off a terminal that is also receiving the data (-o -)', () => {
    expect(spinnerOptions(consoleWith(true), { dataOnStdout: true, env: {} })).toBeUndefined();
    expect(spinnerOptions(consoleWith(false), { dataOnStdout: true, env: {} })).toEqual({});
    expect(spinnerOptions(consoleWith(true), { dataOnStdout: false, env: {} })).toEqual({});
  });
});
