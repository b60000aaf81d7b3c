/**
 * A throwaway PostgreSQL server for the tests and the bench: initdb into a temp folder, listen on 127.0.0.1
 * (and a socket inside that folder) on a free port, password authentication (SCRAM) so that a
 * wrong password is really refused. PostgreSQL refuses to run as root, so under root the server
 * runs as an unprivileged existing user through setpriv (which execs: the pid we hold is the
 * postmaster itself, and our signals reach it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgServer {
  /** URL without password: postgresql://USER@127.0.0.1:PORT/postgres */
  url: string;
  user: string;
  password: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

function findBinDir(): string {
  const candidates = [
    process.env['IDSYNC_TEST_PG_BINDIR'],
    '/usr/lib/postgresql/15/bin',
    ...(fs.existsSync('/usr/lib/postgresql')
      ? fs
          .readdirSync('/usr/lib/postgresql')
          .sort()
          .reverse()
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : []),
    '/usr/local/bin',
    '/usr/bin',
  ];
  for (const dir of candidates) if (dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'))) return dir;
  throw new Error('PostgreSQL binaries (initdb, postgres) not found; set IDSYNC_TEST_PG_BINDIR or IDSYNC_TEST_DATABASE_URL');
}

/** uid/gid of an unprivileged user to run the server as, when we are root. */
async function unprivilegedUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number((await run('id', ['-u', name])).stdout.trim());
      const gid = Number((await run('id', ['-g', name])).stdout.trim());
      if (uid > 0) return { uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error('running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as');
}

function asUser(user: { uid: number; gid: number } | undefined, cmd: string, args: string[]): [string, string[]] {
  if (!user) return [cmd, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', cmd, ...args]];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once the postmaster logs that it accepts connections; rejects if it exits first. */
function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (buf: Buffer): void => {
      log += buf.toString();
      if (log.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        child.stderr?.resume();
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`postgres exited (${code}) before it was ready:\n${log}`));
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * `durable: false` (the tests) turns fsync off; the bench keeps PostgreSQL's defaults so that
 * COMMIT costs what it costs on a real server.
 */
export async function startPgServer(opts: { durable?: boolean } = {}): Promise<PgServer> {
  const bin = findBinDir();
  const user = await unprivilegedUser();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'idsync-pg-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = path.join(dir, 'pw');
  await fsp.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    await fsp.chown(dir, user.uid, user.gid);
    await fsp.chown(pwfile, user.uid, user.gid);
  }
  const dbUser = 'idsync';
  const [initCmd, initArgs] = asUser(user, path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    dbUser,
    '--auth=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  await run(initCmd, initArgs, { env: { PATH: process.env['PATH'] ?? '', LC_ALL: 'C' } });
  await fsp.rm(pwfile);

  let child: ChildProcess | undefined;
  let port = 0;
  // Another process may take the free port between our probe and the bind: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const [cmd, args] = asUser(user, path.join(bin, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=60',
      ...(opts.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ]);
    child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '', LC_ALL: 'C' } });
    try {
      await waitReady(child);
      break;
    } catch (err) {
      if (attempt >= 4) throw err;
    }
  }
  const postmaster = child;
  const exited = new Promise<void>((resolve) => postmaster.once('exit', () => resolve()));
  return {
    url: `postgresql://${dbUser}@127.0.0.1:${port}/postgres`,
    user: dbUser,
    password,
    host: '127.0.0.1',
    port,
    async stop() {
      // SIGINT: fast shutdown (rolls back open transactions, does not wait for clients).
      if (postmaster.exitCode === null) postmaster.kill('SIGINT');
      await exited;
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}
