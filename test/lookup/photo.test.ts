import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/core/api-client.js';
import { createDispatcher } from '../../src/core/http.js';
import { defaultRetryPolicy } from '../../src/core/retry.js';
import { savePhoto } from '../../src/lookup/save-photo.js';
import { ecnuPhoto } from '../../src/providers/ecnu/photo.js';
import { startWorld, type TestWorld } from '../support/env.js';
import { runInProcess } from '../support/in-process.js';

const isJpeg = (file: string) =>
  fs
    .readFileSync(file)
    .subarray(0, 3)
    .equals(Buffer.from([0xff, 0xd8, 0xff]));

describe('photos', () => {
  let w: TestWorld;
  let ids: string[];
  beforeAll(async () => {
    w = await startWorld({ seed: 31 });
    ids = w.sb
      .truth('ecnu-users')
      .slice(0, 6)
      .map((r) => String(r['userId']));
  });
  afterAll(() => w.close());
  const photo = (args: string[]) => runInProcess(['photo', ...args], w.env);
  const photoRequests = () => w.sb.stats().byPath['/api/v1/user/photo'] ?? 0;

  it('saves DIR/<userId>.jpg, each person’s own JPEG, creating DIR', async () => {
    const dir = path.join(w.home, 'photos', 'nested');
    const r = await photo([ids[0] as string, ids[1] as string, '--provider', 'ecnu', '--out-dir', dir]);
    expect(r.exitCode).toBe(0);
    for (const id of ids.slice(0, 2)) {
      const file = path.join(dir, `${id}.jpg`);
      expect(isJpeg(file)).toBe(true);
      // The sandbox names the person in a COM segment: the right photo under the right name.
      expect(fs.readFileSync(file).toString('latin1')).toContain(`photo of ${id}`);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(
      ids
        .slice(0, 2)
        .map((id) => `${id}.jpg`)
        .sort(),
    ); // no temp files left
    expect(r.stderr).toMatch(/photos: 2 saved, 0 skipped, 0 failed/);
  });

  it('skips photos already there without asking, and --force replaces them', async () => {
    const dir = path.join(w.home, 'skip');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, `${ids[2]}.jpg`), 'old');
    const before = photoRequests();
    const r = await photo([ids[2] as string, ids[3] as string, '--provider', 'ecnu', '--out-dir', dir]);
    expect(r.exitCode).toBe(0);
    expect(photoRequests() - before).toBe(1);
    expect(fs.readFileSync(path.join(dir, `${ids[2]}.jpg`), 'utf8')).toBe('old');
    expect(r.stderr).toMatch(/photos: 1 saved, 1 skipped/);
    const forced = await photo([ids[2] as string, '--provider', 'ecnu', '--out-dir', dir, '--force']);
    expect(forced.exitCode).toBe(0);
    expect(isJpeg(path.join(dir, `${ids[2]}.jpg`))).toBe(true);
  });

  it('never saves the JSON errCode answer for an unknown id, and exits 7', async () => {
    const dir = path.join(w.home, 'unknown');
    const r = await photo([ids[4] as string, '99999999', '--provider', 'ecnu', '--out-dir', dir]);
    expect(r.exitCode).toBe(7);
    expect(fs.readdirSync(dir)).toEqual([`${ids[4]}.jpg`]);
    expect(r.stderr).toMatch(/photos: 1 saved, 0 skipped, 1 failed/);
    expect(r.stderr).toMatch(/idsync: 99999999: no photo: ecnu errCode 1108110304/);
  });

  it('refuses hostile ids before any request', async () => {
    const dir = path.join(w.home, 'hostile');
    const before = w.sb.stats().requests;
    for (const bad of ['../x', 'a/b', 'a\\b', '.hidden', '..', 'a..b']) {
      const r = await photo([ids[0] as string, bad, '--provider', 'ecnu', '--out-dir', dir]);
      expect(r.exitCode, bad).toBe(2);
      expect(r.stderr, bad).toMatch(/userId ".*" (starts with a dot|contains)/);
    }
    const empty = await photo([ids[0] as string, '--provider', 'ecnu', '--out-dir', '']);
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toMatch(/--out-dir <dir>' argument '' is invalid. expected a name/);
    expect(w.sb.stats().requests).toBe(before);
    expect(fs.existsSync(path.join(w.home, 'x'))).toBe(false);
    const tongji = await photo([ids[0] as string, '--provider', 'tongji', '--out-dir', dir]);
    expect(tongji.exitCode).toBe(2);
    expect(tongji.stderr).toMatch(/photos are only available from ecnu/);
  });

  it('does not write through a symlink planted at the target', async () => {
    const dir = path.join(w.home, 'links');
    fs.mkdirSync(dir);
    const victim = path.join(w.home, 'victim.txt');
    fs.writeFileSync(victim, 'keep me');
    const target = path.join(dir, `${ids[5]}.jpg`);
    fs.symlinkSync(victim, target);
    const session = w.session('ecnu');
    const skipped = await savePhoto(session.client, ecnuPhoto, { dir, userId: ids[5], fileId: ids[5] as string, force: false });
    expect(skipped.status).toBe('skipped');
    const forced = await savePhoto(session.client, ecnuPhoto, { dir, userId: ids[5], fileId: ids[5] as string, force: true });
    expect(forced.status).toBe('saved');
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep me');
    expect(fs.lstatSync(target).isSymbolicLink()).toBe(false);
    expect(isJpeg(target)).toBe(true);
  });

  it('checks both the Content-Type and the JPEG magic bytes', async () => {
    // A platform that mislabels its answers (a gateway error page, a JPEG sent as text).
    const answers: Record<string, [string, Buffer]> = {
      html: ['image/jpeg', Buffer.from('<html>gateway error</html>')],
      text: ['text/plain', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])],
      good: ['image/jpeg; charset=binary', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])],
    };
    const server = http.createServer((req, res) => {
      const id = new URL(req.url ?? '/', 'http://x').searchParams.get('userId') ?? '';
      const [type, body] = answers[id] ?? ['application/json', Buffer.from('{}')];
      res.writeHead(200, { 'content-type': type }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dispatcher = createDispatcher(2);
    const client = new ApiClient({
      provider: 'ecnu',
      baseUrl: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      tokens: { get: async () => 'token', invalidate: () => undefined },
      dispatcher,
      retry: { ...defaultRetryPolicy, attempts: 1 },
      log: () => undefined,
    });
    const dir = path.join(w.home, 'lies');
    fs.mkdirSync(dir);
    try {
      const html = await savePhoto(client, ecnuPhoto, { dir, userId: 'html', fileId: 'html', force: false });
      expect(html).toMatchObject({ status: 'failed', reason: expect.stringMatching(/not a JPEG/) });
      const text = await savePhoto(client, ecnuPhoto, { dir, userId: 'text', fileId: 'text', force: false });
      expect(text).toMatchObject({ status: 'failed', reason: expect.stringMatching(/text\/plain, not image\/jpeg/) });
      const good = await savePhoto(client, ecnuPhoto, { dir, userId: 'good', fileId: 'good', force: false });
      expect(good.status).toBe('saved');
      expect(fs.readdirSync(dir)).toEqual(['good.jpg']);
    } finally {
      await dispatcher.close();
      server.close();
    }
  });
});
