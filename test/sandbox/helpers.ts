import type { Sandbox } from '../../src/sandbox/index.js';

/** Test-side helpers; they avoid the sandbox's own code so the tests check it independently. */

/** 'YYYY-MM-DD HH:mm:ss' read as Asia/Shanghai time, to unix seconds. */
export function shanghaiToUnix(stamp: string): number {
  return Date.parse(`${stamp.replace(' ', 'T')}+08:00`) / 1000;
}

export function unixToShanghai(sec: number): string {
  return new Date((sec + 8 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export type Json = Record<string, any>;

export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(form), headers });
}

export async function ecnuToken(sb: Sandbox, extra: Record<string, string> = { grant_type: 'client_credentials' }): Promise<string> {
  const res = await postForm(`${sb.url}/oauth2/token`, {
    client_id: sb.credentials.ecnu.clientId,
    client_secret: sb.credentials.ecnu.clientSecret,
    ...extra,
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as Json)['access_token'];
}

export async function tongjiToken(sb: Sandbox): Promise<string> {
  const res = await postForm(`${sb.url}/v1/token`, {
    grant_type: 'client_credentials',
    client_id: sb.credentials.tongji.clientId,
    client_secret: sb.credentials.tongji.clientSecret,
  });
  if (res.status !== 200) throw new Error(`token: ${res.status}`);
  return ((await res.json()) as Json)['access_token'];
}

export async function getJson(url: string, token: string, headers: Record<string, string> = {}): Promise<Json> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as Json;
}

/** Every row of an ECNU sync endpoint, page by page. */
export async function ecnuAll(sb: Sandbox, token: string, path: string, query: string, pageSize = 500): Promise<Json[]> {
  const rows: Json[] = [];
  for (let page = 1; ; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const body = await getJson(`${sb.url}${path}${sep}pageSize=${pageSize}&pageNum=${page}&${query}`, token);
    if (body['errCode'] !== 0) throw new Error(JSON.stringify(body));
    rows.push(...body['data'].rows);
    if (page * pageSize >= body['data'].totalNum) return rows;
  }
}

/** Every row of a Tongji endpoint following sinceUserId until it runs out; also the answers seen. */
export async function tongjiAll(sb: Sandbox, token: string, path: string, query = ''): Promise<{ rows: Json[]; pages: Json[] }> {
  const rows: Json[] = [];
  const pages: Json[] = [];
  let cursor = '';
  for (let i = 0; i < 100; i++) {
    const body = await getJson(`${sb.url}${path}?${query}&sinceUserId=${encodeURIComponent(cursor)}`, token);
    pages.push(body);
    rows.push(...body['data'].userInfos);
    cursor = body['data'].sinceUserId;
    if (!cursor || body['data'].count === 0) return { rows, pages };
  }
  throw new Error('cursor never ended');
}
