import type { DatasetStore } from './datasets.js';
import {
  basicCredentials,
  bearerToken,
  empty,
  formBody,
  json,
  methodNotAllowed,
  notFound,
  queryOrHeader,
  type Reply,
  type SandboxRequest,
} from './http-util.js';
import type { Entry, Row } from './rows.js';
import { matchesTongji, parseTongjiQuery, type TongjiDataset, type TongjiQuery } from './tongji-query.js';
import type { TokenStore } from './tokens.js';
import { SANDBOX_CREDENTIALS } from './types.js';

const paths: Record<string, TongjiDataset> = {
  '/v2/dc/user/student_infos': 'tongji-students',
  '/v2/dc/user/teacher_infos': 'tongji-staff',
  '/v2/dc/user/postdoc_info': 'tongji-postdocs',
};

export interface TongjiOptions {
  pageSize: number;
  /** true: the final page still hands back its last userId; the client learns the end from an empty page. */
  trailingCursor: boolean;
  rateLimit: number;
  /** false: postdoc rows without createTime and updateTime, as seeds/004 shows them. */
  postdocTimes: boolean;
  /** The sandbox's clock: a test moves it instead of waiting for the rate window to pass. */
  nowMs: () => number;
}

/** A postdoc row as seeds/004 shows it: the sandbox keeps the times, for sinceUpdateTime. */
function untimed(row: Row): Row {
  const { createTime: _created, updateTime: _updated, ...rest } = row;
  return rest;
}

/** Tongji's data center: client-credentials tokens and cursor-paged sync (seeds/002–004). */
export class Tongji {
  private readonly store: DatasetStore;
  private readonly tokens: TokenStore;
  private readonly opts: TongjiOptions;
  /** Accepted requests per client in the last second (real time: a rate is physical, not skewed). */
  private readonly recent = new Map<string, number[]>();

  constructor(store: DatasetStore, tokens: TokenStore, opts: TongjiOptions) {
    this.store = store;
    this.tokens = tokens;
    this.opts = opts;
  }

  token(req: SandboxRequest): Reply {
    if (req.method !== 'POST') return methodNotAllowed();
    const form = formBody(req);
    const basic = basicCredentials(req);
    const own = SANDBOX_CREDENTIALS.tongji;
    if ((basic?.id ?? form.get('client_id')) !== own.clientId || (basic?.secret ?? form.get('client_secret')) !== own.clientSecret) {
      return json(401, { error: 'unauthorized_client' });
    }
    if (form.get('grant_type') !== 'client_credentials') return json(400, { error: 'unsupported_grant_type' });
    return json(200, {
      access_token: this.tokens.issue('tongji', own.clientId),
      expires_in: this.tokens.lifetime,
      refresh_expires_in: 0,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope: 'profile',
    });
  }

  handle(req: SandboxRequest): Reply {
    const dataset = paths[req.url.pathname];
    if (!dataset) return notFound();
    if (req.method !== 'GET') return methodNotAllowed();
    const grant = this.tokens.check(bearerToken(req), 'tongji');
    // API.md: "401 with an empty body for a missing, expired or invalid token".
    if (!grant) return empty(401);
    if (!this.admit(grant.clientId)) return empty(429, { 'retry-after': '1' });
    const parsed = parseTongjiQuery(dataset, (name) => queryOrHeader(req, name), '0');
    if (!parsed.ok) return json(200, { code: 'A00400', msg: parsed.msg, data: null });
    return json(200, { code: 'A00000', data: this.page(dataset, parsed.query), msg: '成功' });
  }

  private page(dataset: TongjiDataset, q: TongjiQuery): { count: number; sinceUserId: string; userInfos: unknown[] } {
    const table = this.store.table(dataset);
    let candidates: Entry[] = table.entries;
    let i = q.sinceUserId === undefined ? 0 : table.indexAfter(q.sinceUserId);
    if (q.userIds) {
      candidates = [...q.userIds].flatMap((id) => table.get(id) ?? []).sort((a, b) => (a.key < b.key ? -1 : 1));
      i = q.sinceUserId === undefined ? 0 : candidates.filter((e) => e.key <= (q.sinceUserId as string)).length;
    }
    const out: Entry[] = [];
    for (; i < candidates.length && out.length < this.opts.pageSize; i++) {
      if (matchesTongji(candidates[i] as Entry, q)) out.push(candidates[i] as Entry);
    }
    let more = false;
    for (; i < candidates.length && !more; i++) more = matchesTongji(candidates[i] as Entry, q);
    const last = out[out.length - 1];
    const cursor = last && (more || this.opts.trailingCursor) ? last.key : '';
    const served = dataset === 'tongji-postdocs' && !this.opts.postdocTimes ? untimed : (row: Row) => row;
    return { count: out.length, sinceUserId: cursor, userInfos: out.map((e) => served(e.row)) };
  }

  /** A sliding one-second window per client (API.md: 429 above 50 requests/s). */
  private admit(clientId: string): boolean {
    const now = this.opts.nowMs();
    const times = (this.recent.get(clientId) ?? []).filter((t) => now - t < 1000);
    const ok = times.length < this.opts.rateLimit;
    if (ok) times.push(now);
    this.recent.set(clientId, times);
    return ok;
  }
}
