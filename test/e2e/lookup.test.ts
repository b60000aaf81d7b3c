import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_PASSWORD } from '../../src/sandbox/index.js';
import { binPath, idsync } from '../support/cli.js';
import { startWorld, type TestWorld } from '../support/env.js';
import { parseNdjson } from '../support/ndjson.js';

// Spawns the built CLI (`npx tsc -p .` first) against the sandbox, as a user's script would.
describe('idsync lookup, photo, api and user sign-in, end to end', () => {
  let w: TestWorld;
  let active: string[];
  beforeAll(async () => {
    w = await startWorld({ seed: 61, people: { 'tongji-postdocs': 700 } });
    active = w.sb
      .truth('ecnu-users')
      .filter((r) => r['active'] === '1')
      .map((r) => String(r['userId']));
  });
  afterAll(() => w.close());

  it('lookup: NDJSON for known ids, "not found" on stderr and exit 7 for an unknown one', async () => {
    const r = await idsync(['lookup', active[0] as string, '404404', active[1] as string, '--provider', 'ecnu'], w.env);
    expect(r.exitCode).toBe(7);
    expect(parseNdjson(r.stdout).map((x) => x['userId'])).toEqual(active.slice(0, 2));
    expect(r.stderr).toMatch(/^idsync: not found: 404404$/m);
    const ok = await idsync(['lookup', '--provider', 'ecnu', '--kind', 'multi', '-'], w.env, { input: `${active[0]}\n` });
    expect(ok.exitCode).toBe(0);
    expect(parseNdjson(ok.stdout).length).toBeGreaterThan(0);
  });

  it('lookup --kind idcard masks the number unless --reveal, which warns', async () => {
    const masked = await idsync(['lookup', active[2] as string, '--provider', 'ecnu', '--kind', 'idcard'], w.env);
    expect(masked.exitCode).toBe(0);
    expect(parseNdjson(masked.stdout)[0]?.['zjhm']).toMatch(/^\d{3}\*{11}[\dX]{4}$/);
    const shown = await idsync(['lookup', active[2] as string, '--provider', 'ecnu', '--kind', 'idcard', '--reveal'], w.env);
    expect(parseNdjson(shown.stdout)[0]?.['zjhm']).toMatch(/^\d{17}[\dX]$/);
    expect(shown.stderr).toMatch(/idsync: warning: .*only with the person’s consent/);
  });

  it('lookup --kind postdoc: 600 Tongji ids from stdin in two batches', async () => {
    const ids = w.sb
      .truth('tongji-postdocs')
      .slice(0, 600)
      .map((r) => String(r['userId']));
    const before = w.sb.stats().byPath['/v2/dc/user/postdoc_info'] ?? 0;
    const r = await idsync(['lookup', '-', '--provider', 'tongji', '--kind', 'postdoc', '--format', 'json'], w.env, {
      input: ids.join('\n'),
    });
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ userId: string }>).map((x) => x.userId)).toEqual(ids);
    expect((w.sb.stats().byPath['/v2/dc/user/postdoc_info'] ?? 0) - before).toBe(2);
  });

  it('lookup with an unknown kind is a usage error before any request', async () => {
    const before = w.sb.stats().requests;
    const r = await idsync(['lookup', '1', '--provider', 'ecnu', '--kind', 'nope'], w.env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "idsync: unknown --kind 'nope' for ecnu; expected one of info, staff, student, undergrad, grad, idcard, multi",
    ]);
    expect(w.sb.stats().requests).toBe(before);
  });

  it('photo: saves JPEGs, skips existing ones, refuses hostile ids, never saves an error answer', async () => {
    const dir = path.join(w.home, 'photos');
    const first = await idsync(['photo', active[0] as string, active[1] as string, '--provider', 'ecnu', '--out-dir', dir], w.env);
    expect(first.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dir, `${active[0]}.jpg`)).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const again = await idsync(['photo', active[0] as string, '404404', '--provider', 'ecnu', '--out-dir', dir], w.env);
    expect(again.exitCode).toBe(7);
    expect(again.stderr).toMatch(/photos: 0 saved, 1 skipped .*1 failed/);
    expect(again.stderr).toMatch(/^idsync: 404404: no photo: ecnu errCode \d+/m);
    expect(fs.existsSync(path.join(dir, '404404.jpg'))).toBe(false);
    for (const bad of ['../x', 'a/b']) {
      const r = await idsync(['photo', bad, '--provider', 'ecnu', '--out-dir', dir], w.env);
      expect(r.exitCode, bad).toBe(2);
      expect(r.stderr).toMatch(/^idsync: userId ".*" (starts with a dot|contains a path separator)$/m);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(
      active
        .slice(0, 2)
        .map((id) => `${id}.jpg`)
        .sort(),
    );
  });

  it('api: one GET, and --paginate printing one record a line', async () => {
    const one = await idsync(['api', '/api/v1/user/info', '--provider', 'ecnu', '--param', `userId=${active[0]}`], w.env);
    expect(one.exitCode).toBe(0);
    expect((JSON.parse(one.stdout) as { data: Array<{ userId: string }> }).data[0]?.userId).toBe(active[0]);
    const all = await idsync(['api', '/v2/dc/user/postdoc_info', '--provider', 'tongji', '--paginate'], w.env);
    expect(all.exitCode).toBe(0);
    expect(parseNdjson(all.stdout)).toHaveLength(700);
    const off = await idsync(['api', 'https://example.com/api', '--provider', 'ecnu'], w.env);
    expect(off.exitCode).toBe(2);
  });

  it('auth user-login --password-stdin, then lookup and status for the signed-in person', async () => {
    const env = { ...w.env, IDSYNC_HOME: path.join(w.home, 'pw') };
    const login = await idsync(['auth', 'user-login', 'ecnu', '--username', active[3] as string, '--password-stdin'], env, {
      input: `${SANDBOX_PASSWORD}\n`,
    });
    expect(login.exitCode).toBe(0);
    expect(login.stderr).toContain(`ecnu: signed in as ${active[3]}`);
    expect(login.stderr).not.toContain(SANDBOX_PASSWORD);
    const me = await idsync(['lookup', '--provider', 'ecnu'], env);
    expect(parseNdjson(me.stdout).map((x) => x['userId'])).toEqual([active[3]]);
    const status = await idsync(['auth', 'status'], env);
    expect(status.stdout).toContain(`signed in as ${active[3]}`);
    const wrong = await idsync(['auth', 'user-login', 'ecnu', '--username', active[3] as string, '--password-stdin'], env, {
      input: 'nope\n',
    });
    expect(wrong.exitCode).toBe(3);
    expect(wrong.stderr).toMatch(/invalid_grant/);
  });

  it('auth user-login --web: the authorization-code grant through the loopback redirect', async () => {
    const env = { ...w.env, IDSYNC_HOME: path.join(w.home, 'web'), CI: '1' };
    const child = execa(process.execPath, [binPath, 'auth', 'user-login', 'ecnu', '--web', '--timeout', '20'], {
      env,
      extendEnv: false,
      reject: false,
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const m = /^(http:\/\/\S+\/oauth2\/authorize\?\S+)$/m.exec(stderr);
        if (m) resolve(m[1] as string);
      });
      child.catch(reject);
      setTimeout(() => reject(new Error(`no URL printed: ${stderr}`)), 10_000);
    });
    const authorize = new URL(url);
    authorize.searchParams.set('login_hint', active[4] as string);
    const redirect = await fetch(authorize, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const callback = await fetch(redirect.headers.get('location') as string);
    expect(callback.status).toBe(200);
    const done = await child;
    expect(done.exitCode).toBe(0);
    expect(done.stderr).toContain(`ecnu: signed in as ${active[4]}`);
    const me = await idsync(['lookup', '--provider', 'ecnu', '--kind', 'staff'], env);
    expect([0, 7]).toContain(me.exitCode);
  });
});
