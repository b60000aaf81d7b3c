// One-off measurement for issue 11, item 2 (not a test: peak memory and time are machine facts,
// so they are measured and reported rather than asserted). Run after `npm run build`:
//   node test/hardening/measure-hostile.mjs
// For each hostile answer it runs `idsync pull` under /usr/bin/time and prints the exit code,
// the first line of stderr, the peak RSS of the CLI, the time until it gave up and how many
// bytes the server managed to send before the client dropped the connection.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { clearInterval, setInterval } from 'node:timers';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/idsync.js');
const chunk = Buffer.alloc(256 * 1024, 0x20);

const scenarios = {
  'declared 1 GB body': (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 ** 3) });
    pump(res);
  },
  'endless chunked body': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    pump(res);
  },
  'body dripping a byte every 0.5 s, --timeout 5': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 500);
    res.on('close', () => clearInterval(t));
  },
};

function pump(res) {
  const go = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', go);
  };
  go();
}

for (const [name, handler] of Object.entries(scenarios)) {
  let sent = 0;
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/oauth2/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ access_token: 't', expires_in: 7200 }));
    }
    const write = res.write.bind(res);
    res.write = (c, ...rest) => ((sent += c.length), write(c, ...rest));
    handler(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'idsync-measure-'));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    IDSYNC_HOME: home,
    IDSYNC_ECNU_BASE_URL: `http://127.0.0.1:${server.address().port}`,
    IDSYNC_ECNU_CLIENT_ID: 'id',
    IDSYNC_ECNU_CLIENT_SECRET: 'secret',
  };
  const args = ['pull', 'ecnu-users', '-o', '-', '--retries', '0', ...(name.includes('--timeout') ? ['--timeout', '5'] : [])];
  const started = Date.now();
  const child = spawn('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, bin, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((r) => child.on('close', r));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const rss = /maxrss_kb=(\d+)/.exec(stderr)?.[1];
  const message = stderr.split('\n').find((l) => l.startsWith('idsync:')) ?? stderr.trim();
  console.log(
    `${name}\n  exit ${code}, ${seconds} s, peak RSS ${Math.round(Number(rss) / 1024)} MB, server sent ${Math.round(sent / 1024 / 1024)} MiB\n  ${message}`,
  );
  server.closeAllConnections();
  server.close();
  fs.rmSync(home, { recursive: true, force: true });
}
