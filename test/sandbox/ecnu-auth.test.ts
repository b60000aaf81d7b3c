import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, SANDBOX_PASSWORD, type Sandbox } from '../../src/sandbox/index.js';
import { ecnuToken, getJson, postForm, tongjiToken, type Json } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ tokenLifetimeSeconds: 60 });
});
afterAll(() => sb.close());

const info = (userId = '') => `${sb.url}/api/v1/user/info${userId ? `?userId=${userId}` : ''}`;

async function authorize(params: Record<string, string>): Promise<URL> {
  const q = new URLSearchParams({ response_type: 'code', client_id: 'sandbox-ecnu', redirect_uri: 'http://127.0.0.1:9/cb', ...params });
  const res = await fetch(`${sb.url}/oauth2/authorize?${q.toString()}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') as string);
}

function exchange(code: string, verifier?: string): Promise<Response> {
  const form: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: 'http://127.0.0.1:9/cb',
    client_id: 'sandbox-ecnu',
    client_secret: 'sandbox-ecnu-secret',
  };
  if (verifier) form['code_verifier'] = verifier;
  return postForm(`${sb.url}/oauth2/token`, form);
}

describe('ECNU token endpoint', () => {
  it('issues client-credentials tokens from a form body', async () => {
    const res = await postForm(`${sb.url}/oauth2/token`, {
      grant_type: 'client_credentials',
      client_id: 'sandbox-ecnu',
      client_secret: 'sandbox-ecnu-secret',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 60, scope: 'ECNU-Basic' });
    expect(body['access_token']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('accepts the client through HTTP Basic', async () => {
    const basic = Buffer.from('sandbox-ecnu:sandbox-ecnu-secret').toString('base64');
    const res = await postForm(`${sb.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` });
    expect(res.status).toBe(200);
  });

  it('refuses a bad client with 401 invalid_client', async () => {
    const res = await postForm(`${sb.url}/oauth2/token`, {
      grant_type: 'client_credentials',
      client_id: 'sandbox-ecnu',
      client_secret: 'wrong',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses an unknown grant type', async () => {
    const res = await postForm(`${sb.url}/oauth2/token`, {
      grant_type: 'refresh_token',
      client_id: 'sandbox-ecnu',
      client_secret: 'sandbox-ecnu-secret',
    });
    expect(res.status).toBe(400);
  });
});

describe('ECNU gateway auth', () => {
  it.each([
    ['no token', undefined],
    ['an unknown token', 'Bearer 0123456789abcdef0123456789abcdef'],
  ])('answers %s with 401 A401OT and an empty body', async (_what, authorization) => {
    const res = await fetch(info('201001'), { headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-ca-error-code')).toBe('A401OT');
    expect(res.headers.get('x-ca-error-message')).toBe('Invalid OAuth Token');
    expect(res.headers.get('x-ca-request-id')).toBeTruthy();
    expect(await res.text()).toBe('');
  });

  it('does not take a Tongji token', async () => {
    const res = await fetch(info('201001'), { headers: { authorization: `Bearer ${await tongjiToken(sb)}` } });
    expect(res.status).toBe(401);
  });

  it('expires tokens by the server clock', async () => {
    const token = await ecnuToken(sb);
    expect((await fetch(info('201001'), { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    sb.setClockSkew(61);
    try {
      const res = await fetch(info('201001'), { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-ca-error-code')).toBe('A401OT');
    } finally {
      sb.setClockSkew(0);
    }
  });
});

describe('person-bound grants', () => {
  it('password grant: userId may be omitted and means "me"', async () => {
    const me = sb.truth('ecnu-users', { active: '1' })[0]?.['userId'] as string;
    const token = await ecnuToken(sb, { grant_type: 'password', username: me, password: SANDBOX_PASSWORD });
    const body = await getJson(info(), token);
    expect(body['data']).toHaveLength(1);
    expect(body['data'][0].userId).toBe(me);
  });

  it('password grant refuses a wrong password', async () => {
    const me = sb.truth('ecnu-users')[0]?.['userId'] as string;
    const res = await postForm(`${sb.url}/oauth2/token`, {
      grant_type: 'password',
      username: me,
      password: 'nope',
      client_id: 'sandbox-ecnu',
      client_secret: 'sandbox-ecnu-secret',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('a client token without userId is a missing parameter', async () => {
    const body = await getJson(info(), await ecnuToken(sb));
    expect(body).toMatchObject({ errCode: 1108110519, data: null });
  });

  it('authorization code with PKCE S256: verified, single-use, bound to the person', async () => {
    const verifier = 'a-very-long-random-verifier-string-0123456789';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const pkce = { code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz' };

    const first = await authorize(pkce);
    expect(first.searchParams.get('state')).toBe('xyz');
    const wrong = await exchange(first.searchParams.get('code') as string, 'not-the-verifier');
    expect(wrong.status).toBe(400);
    // A failed redemption burns the code too.
    expect((await exchange(first.searchParams.get('code') as string, verifier)).status).toBe(400);

    const second = await authorize(pkce);
    const code = second.searchParams.get('code') as string;
    const ok = await exchange(code, verifier);
    expect(ok.status).toBe(200);
    const token = ((await ok.json()) as Json)['access_token'];
    const me = await getJson(info(), token);
    expect(me['data'][0].userId).toBe(((await (await fetch(`${sb.url}/__sandbox/info`)).json()) as Json)['demoUserId']);
    expect((await exchange(code, verifier)).status).toBe(400);
  });

  it('login_hint picks the person; codes expire after 10 s', async () => {
    const person = sb.truth('ecnu-users', { active: '1' })[5]?.['userId'] as string;
    const hinted = await authorize({ login_hint: person });
    const token = ((await (await exchange(hinted.searchParams.get('code') as string)).json()) as Json)['access_token'];
    expect((await getJson(info(), token))['data'][0].userId).toBe(person);

    const late = await authorize({});
    sb.setClockSkew(11);
    try {
      expect((await exchange(late.searchParams.get('code') as string)).status).toBe(400);
    } finally {
      sb.setClockSkew(0);
    }
  });
});
