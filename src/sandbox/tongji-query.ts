import { parseShanghai } from './clock.js';
import type { Entry } from './rows.js';
import type { DatasetId } from './types.js';

export type TongjiDataset = Extract<DatasetId, `tongji-${string}`>;

/** Filters each endpoint documents (seeds/002, 003); postdoc_info has none but userId. */
export const tongjiFilters: Record<TongjiDataset, readonly string[]> = {
  'tongji-students': [
    'deptCode',
    'secondDeptCode',
    'userTypeCode',
    'currentGrade',
    'leaveSchoolCode',
    'isMembershipCode',
    'registrationStatusCode',
    'trainingCategoryCode',
  ],
  'tongji-staff': ['deptCode', 'currentStatusCode', 'userTypeCode'],
  'tongji-postdocs': [],
};

export const POSTDOC_ID_LIMIT = 500;

export interface TongjiQuery {
  /** undefined: every row regardless of statusCode. */
  statusCode: '0' | '1' | undefined;
  /** Rows with updateTime (unix seconds) strictly after this. */
  since: number | undefined;
  sinceUserId: string | undefined;
  userIds: Set<string> | undefined;
  filters: [field: string, value: string][];
}

export type QueryResult = { ok: true; query: TongjiQuery } | { ok: false; msg: string };

/**
 * Reads a query the way the platform does. `get` returns a parameter or undefined; an empty
 * value counts as absent (the documents' own examples send every parameter empty).
 * `defaultStatus` is '0' for the API (seeds/002: "不传参数默认为0") and '-1' for truth().
 */
export function parseTongjiQuery(
  dataset: TongjiDataset,
  get: (name: string) => string | undefined,
  defaultStatus: '0' | '-1',
): QueryResult {
  const bad = { ok: false, msg: '参数错误' } as const;
  const value = (name: string): string | undefined => {
    const v = get(name);
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  let statusCode: TongjiQuery['statusCode'];
  if (dataset !== 'tongji-postdocs') {
    const s = value('statusCode') ?? defaultStatus;
    if (s !== '0' && s !== '1' && s !== '-1') return bad;
    statusCode = s === '-1' ? undefined : s;
  }
  let since: number | undefined;
  const rawSince = value('sinceUpdateTime');
  if (rawSince !== undefined) {
    // "此字段格式支持YYYY-MM-DD HH:mm:ss 和 unix时间戳"; 13 digits read as milliseconds.
    if (/^\d{1,13}$/.test(rawSince)) since = rawSince.length > 11 ? Math.floor(Number(rawSince) / 1000) : Number(rawSince);
    else since = parseShanghai(rawSince);
    if (since === undefined) return bad;
  }
  let userIds: Set<string> | undefined;
  const rawIds = value('userId');
  if (rawIds !== undefined) {
    const ids =
      dataset === 'tongji-postdocs'
        ? rawIds
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [rawIds];
    if (ids.length > POSTDOC_ID_LIMIT) return { ok: false, msg: `userId 超过 ${POSTDOC_ID_LIMIT} 个` };
    userIds = new Set(ids);
  }
  const filters: [string, string][] = [];
  for (const name of tongjiFilters[dataset]) {
    const v = value(name);
    if (v !== undefined) filters.push([name, v]);
  }
  return { ok: true, query: { statusCode, since, sinceUserId: value('sinceUserId'), userIds, filters } };
}

/** Whether a row answers the query, cursor aside. */
export function matchesTongji(entry: Entry, q: TongjiQuery): boolean {
  const row = entry.row;
  if (q.statusCode !== undefined && row['statusCode'] !== q.statusCode) return false;
  if (q.since !== undefined && entry.updatedSec <= q.since) return false;
  if (q.userIds !== undefined && !q.userIds.has(entry.key)) return false;
  for (const [field, v] of q.filters) {
    // currentGrade is a number in the rows (seeds/002 example) but a string in the query.
    if (String(row[field]) !== v) return false;
  }
  return true;
}
