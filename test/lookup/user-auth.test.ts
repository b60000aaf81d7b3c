import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeInBrowser, startLoopbackRedirect } from '../../src/core/auth/loopback-redirect.js';
import { TokenCache } from '../../src/core/auth/token-cache.js';
import { exchangeCode, passwordGrant, type UserGrantOptions } from '../../src/core/auth/user-token.js';
import { AuthError } from '../../src/core/errors.js';
import { createDispatcher } from '../../src/core/http.js';
import { SANDBOX_PASSWORD } from '../../src/sandbox/index.js';
import { startWorld, type TestWorld } from '../support/env.js';
import { Buffered, runInProcess } from '../support/in-process.js';
import { parseNdjson } from '../support/ndjson.js';

function grantOptions(w: TestWorld): UserGrantOptions & { close(): Promise<void> } {
  const dispatcher = createDispatcher(2);
  return {
    provider: 'ecnu',
    baseUrl: new URL(w.sb.url),
    tokenUrl: new URL('/oauth2/token', w.sb.url),
    credentials: w.sb.credentials.ecnu,
    cache: new TokenCache(w.home),
    dispatcher,
    timeoutMs: 10_000,
    close: () => dispatcher.close(),
  };
}

/** Plays the browser: the authorize URL answers 302 to the loopback callback, which we follow. */
async function actAsBrowser(authorizeUrl: string, loginHint?: string): Promise<Response> {
  const url = new URL(authorizeUrl);
  if (loginHint) url.searchParams.set('login_hint', loginHint);
  const first = await fetch(url, { redirect: 'manual' });
  expect(first.status).toBe(302);
  const location = first.headers.get('location') as string;
  expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
  return fetch(location);
}

describe('signing in as a person', () => {
  let w: TestWorld;
  let person: string;
  beforeAll(async () => {
    w = await startWorld({ seed: 51 });
    person = String(w.sb.truth('ecnu-users').find((r) => r['active'] === '1')?.['userId']);
  });
  afterAll(() => w.close());
  const cli = (args: string[]) => runInProcess(args, w.env);

  it('password grant: lookups and photos without a userId answer for that person', async () => {
    const o = grantOptions(w);
    await expect(passwordGrant(o, person, 'wrong')).rejects.toThrow(/refused the sign-in \(HTTP 400, invalid_grant/);
    await expect(passwordGrant(o, person, 'wrong')).rejects.not.toThrow(/wrong/);
    const token = await passwordGrant(o, person, SANDBOX_PASSWORD);
    await o.close();
    expect(token).toMatchObject({ kind: 'user', subject: person });
    expect(fs.statSync(path.join(w.home, 'tokens.json')).mode & 0o077).toBe(0);

    const me = await cli(['lookup', '--provider', 'ecnu']);
    expect(me.exitCode).toBe(0);
    expect(parseNdjson(me.stdout).map((r) => r['userId'])).toEqual([person]);
    const card = await cli(['lookup', '--provider', 'ecnu', '--kind', 'idcard']);
    expect(parseNdjson(card.stdout)[0]).toMatchObject({ userId: person, zjhm: expect.stringMatching(/^\d{3}\*{11}[\dX]{4}$/) });
    const dir = path.join(w.home, 'me');
    const photo = await cli(['photo', '--provider', 'ecnu', '--out-dir', dir]);
    expect(photo.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(dir, `${person}.jpg`)).toString('latin1')).toContain(`photo of ${person}`);

    const status = await cli(['auth', 'status', '--json']);
    const ecnu = (JSON.parse(status.stdout) as { providers: Array<{ provider: string; user: unknown }> }).providers[0];
    expect(ecnu?.user).toMatchObject({ subject: person, valid: true });
    expect(status.stdout).not.toContain(token.accessToken);
    expect((await cli(['auth', 'status'])).stdout).toMatch(new RegExp(`ecnu: .*; signed in as ${person} until `));

    const api = await cli(['api', '/api/v1/user/info', '--provider', 'ecnu', '--as-user']);
    expect((JSON.parse(api.stdout) as { data: Array<{ userId: string }> }).data.map((r) => r.userId)).toEqual([person]);

    const out = await cli(['auth', 'user-logout', 'ecnu']);
    expect(out.stderr).toMatch(/ecnu: signed out/);
    const after = await cli(['lookup', '--provider', 'ecnu']);
    expect(after.exitCode).toBe(2);
    expect(after.stderr).toMatch(/give at least one userId, or sign in as a person first: 'idsync auth user-login ecnu --web'/);
  });

  it('authorization code with PKCE through the loopback redirect, exchanged at once', async () => {
    const o = grantOptions(w);
    let answered: Promise<Response> | undefined;
    const authorizeUrl = new URL('/oauth2/authorize', w.sb.url);
    const code = await authorizeInBrowser({
      authorizeEndpoint: authorizeUrl,
      clientId: w.sb.credentials.ecnu.clientId,
      scope: 'ECNU-Basic',
      timeoutMs: 10_000,
      onUrl: (url) => {
        expect(url.searchParams.get('code_challenge_method')).toBe('S256');
        expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
        answered = actAsBrowser(url.href, person);
      },
    });
    expect((await answered)?.status).toBe(200);
    const token = await exchangeCode(o, code);
    expect(token.kind).toBe('user');
    // Single use: the same code cannot be exchanged twice; without the verifier it fails too.
    await expect(exchangeCode(o, code)).rejects.toThrow(AuthError);
    await o.close();
    const me = await cli(['lookup', '--provider', 'ecnu']);
    expect(parseNdjson(me.stdout).map((r) => r['userId'])).toEqual([person]);
  });

  it('info answers only for people in school: a departed signed-in person is not found (exit 7)', async () => {
    const gone = String(w.sb.truth('ecnu-users').find((r) => r['active'] === '0')?.['userId']);
    const o = grantOptions(w);
    await passwordGrant(o, gone, SANDBOX_PASSWORD);
    await o.close();
    const r = await cli(['lookup', '--provider', 'ecnu']);
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`idsync: not found: ${gone} (signed in)`);
  });

  it('ignores a redirect that carries another state and keeps waiting for the real one', async () => {
    const loopback = await startLoopbackRedirect({ state: 'expected', timeoutMs: 5000 });
    const forged = await fetch(`${loopback.redirectUri}?code=forged&state=forged`);
    expect(forged.status).toBe(400);
    const refusal = await fetch(`${loopback.redirectUri}?error=access_denied&state=forged`);
    expect(refusal.status).toBe(400);
    const real = await fetch(`${loopback.redirectUri}?code=abc&state=expected`);
    expect(real.status).toBe(200);
    await expect(loopback.code).resolves.toBe('abc');
    await loopback.close();
  });

  it('`auth user-login ecnu --web --no-browser` prints the URL, waits, and stores who signed in', async () => {
    const stderr = new Buffered();
    const run = runInProcess(['auth', 'user-login', 'ecnu', '--web', '--no-browser', '--timeout', '20'], w.env, { stderr });
    const url = (await stderr.whenWritten(/^(http:\/\/\S+\/oauth2\/authorize\?\S+)$/m))[1];
    expect(url).toBeDefined();
    // No login_hint: the sandbox signs in its demo staff member.
    expect((await actAsBrowser(url as string)).status).toBe(200);
    const result = await run;
    expect(result.exitCode).toBe(0);
    const signedIn = /ecnu: signed in as (\S+) until/.exec(result.stderr)?.[1];
    expect(signedIn).toBeDefined();
    const me = await cli(['lookup', '--provider', 'ecnu']);
    expect(parseNdjson(me.stdout)[0]?.['userId']).toBe(signedIn);
    const bad = await cli(['auth', 'user-login', 'tongji', '--web']);
    expect(bad.exitCode).toBe(2);
    expect((await cli(['auth', 'user-login', 'ecnu'])).stderr).toMatch(/either --username USERID .* or --web/);
  });
});

describe('an expired signed-in session', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await startWorld({ seed: 52, tokenLifetimeSeconds: 1 });
  });
  afterAll(() => w.close());

  it('asks the person to sign in again (ECNU has no refresh token)', async () => {
    const person = String(w.sb.truth('ecnu-users').find((r) => r['active'] === '1')?.['userId']);
    // Signed in a minute ago (the grant's clock): the 1 s session is long over by now.
    const o = { ...grantOptions(w), now: () => Date.now() - 60_000 };
    await passwordGrant(o, person, SANDBOX_PASSWORD);
    await o.close();
    const r = await runInProcess(['lookup', '--provider', 'ecnu'], w.env);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/ecnu: signed-in session expired; run 'idsync auth user-login ecnu --web'/);
    const status = await runInProcess(['auth', 'status'], w.env);
    expect(status.stdout).toMatch(new RegExp(`signed-in session of ${person} expired`));
    // `auth logout` removes the person's token along with the client's.
    await runInProcess(['auth', 'logout', 'ecnu'], w.env);
    const cleared = await runInProcess(['auth', 'status', '--json'], w.env);
    expect((JSON.parse(cleared.stdout) as { providers: Array<{ user: unknown }> }).providers[0]?.user).toBeNull();
  });
});
