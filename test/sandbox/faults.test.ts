import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { ecnuToken, tongjiToken, type Json } from './helpers.js';

let sb: Sandbox;
let ecnu: string;
let tongji: string;
beforeAll(async () => {
  sb = await startSandbox({ seed: 2, people: { 'ecnu-users': 100 } });
  ecnu = await ecnuToken(sb);
  tongji = await tongjiToken(sb);
});
afterEach(() => sb.setFaults({}));
afterAll(() => sb.close());

const ecnuPage = () => fetch(`${sb.url}/api/v1/sync/userinfo?ts=0&pageSize=50&pageNum=1`, { headers: { authorization: `Bearer ${ecnu}` } });
const tongjiPage = () => fetch(`${sb.url}/v2/dc/user/postdoc_info`, { headers: { authorization: `Bearer ${tongji}` } });

describe('fault injection', () => {
  it.each([
    ['http500', 500],
    ['http503', 503],
    ['http429', 429],
  ] as const)('%s answers HTTP %i', async (fault, status) => {
    sb.setFaults({ [fault]: 1 });
    const res = await ecnuPage();
    expect(res.status).toBe(status);
    if (status === 429) expect(res.headers.get('retry-after')).toBe('1');
  });

  it('reset destroys the connection without an answer', async () => {
    sb.setFaults({ reset: 1 });
    await expect(ecnuPage()).rejects.toThrow();
  });

  it('truncated sends half the body and closes the connection', async () => {
    sb.setFaults({ truncated: 1 });
    const res = await ecnuPage();
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('stall holds the body back for stallMs, then finishes it', async () => {
    sb.setFaults({ stall: 1, stallMs: 300 });
    const started = Date.now();
    const res = await ecnuPage();
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(body['errCode']).toBe(0);
  });

  it('a long stall looks like a hung response to a client with a timeout', async () => {
    sb.setFaults({ stall: 1 });
    const res = await fetch(`${sb.url}/v2/dc/user/postdoc_info`, {
      headers: { authorization: `Bearer ${tongji}` },
      signal: AbortSignal.timeout(300),
    });
    await expect(res.text()).rejects.toThrow();
  });

  it('malformed answers 200 with a body that is not JSON', async () => {
    sb.setFaults({ malformed: 1 });
    const res = await tongjiPage();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toBe('<html>gateway error</html>');
  });

  it('ecnuTransientErr is an errCode on ECNU only', async () => {
    sb.setFaults({ ecnuTransientErr: 1 });
    expect(await (await ecnuPage()).json()).toMatchObject({ errCode: 1108110525, errMsg: 'internal error', data: null });
    expect(await (await tongjiPage()).json()).toMatchObject({ code: 'A00000' });
  });

  it('revokeTokens invalidates issued tokens, so the client must re-authenticate', async () => {
    sb.setFaults({ revokeTokens: 1 });
    const res = await ecnuPage();
    expect(res.status).toBe(401);
    expect(res.headers.get('x-ca-error-code')).toBe('A401OT');
    sb.setFaults({});
    const fresh = await ecnuToken(sb);
    ecnu = fresh;
    expect((await ecnuPage()).status).toBe(200);
    tongji = await tongjiToken(sb);
  });

  it('draws faults deterministically from the seed', async () => {
    const statuses = async (s: Sandbox) => {
      const token = await ecnuToken(s);
      s.setFaults({ http503: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 24; i++) {
        out.push((await fetch(`${s.url}/api/v1/user/info?userId=x`, { headers: { authorization: `Bearer ${token}` } })).status);
      }
      return out;
    };
    const [a, b] = await Promise.all([
      startSandbox({ seed: 9, people: { 'ecnu-users': 5 } }),
      startSandbox({ seed: 9, people: { 'ecnu-users': 5 } }),
    ]);
    try {
      const first = await statuses(a);
      expect(await statuses(b)).toEqual(first);
      expect(new Set(first)).toEqual(new Set([200, 503]));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('latencyMs delays API requests but not admin ones', async () => {
    const slow = await startSandbox({ latencyMs: 400, people: { 'ecnu-users': 5 } });
    try {
      let t = Date.now();
      await fetch(`${slow.url}/v2/none`);
      const api = Date.now() - t;
      expect(api).toBeGreaterThanOrEqual(390);
      t = Date.now();
      await fetch(`${slow.url}/__sandbox/stats`);
      expect(Date.now() - t).toBeLessThan(api - 200);
    } finally {
      await slow.close();
    }
  });

  it('the Date header follows the skewed server clock', async () => {
    const skewed = await startSandbox({ clockSkewSeconds: -3600, people: { 'ecnu-users': 5 } });
    try {
      const date = Date.parse((await fetch(`${skewed.url}/v2/none`)).headers.get('date') as string);
      expect(Math.abs(date - (Date.now() - 3_600_000))).toBeLessThan(3000);
    } finally {
      await skewed.close();
    }
  });
});
