import type { DatasetStore } from './datasets.js';
import { EcnuErr, ecnuError, ecnuOk } from './ecnu-envelope.js';
import { methodNotAllowed, type Reply, type SandboxRequest } from './http-util.js';
import type { DatasetId } from './types.js';

const MAX_PAGE_SIZE = 10_000;
const SYNC = '/api/v1/sync/userinfo';

const fixedPaths: Record<string, DatasetId> = {
  [SYNC]: 'ecnu-users',
  [`${SYNC}/rsuserinfo`]: 'ecnu-staff',
  [`${SYNC}/bsh`]: 'ecnu-postdocs',
  [`${SYNC}/studentinfo_bk`]: 'ecnu-undergrads',
  // The real platform's test endpoint (API.md); it serves the customised dataset here.
  '/api/v1/sync/fakewithts': 'ecnu-customized',
};
const STUDENTS = `${SYNC}/studentinfo`;
const CUSTOMIZED = /^\/api\/v1\/customized\/[^/]+$/;

/** Whether a path is one of the sync endpoints (seeds/000). */
export function isEcnuSyncPath(path: string): boolean {
  return path in fixedPaths || path === STUDENTS || CUSTOMIZED.test(path);
}

/** The page-number protocol of seeds/000: ts, pageSize, pageNum required; full optional. */
export function ecnuSync(req: SandboxRequest, store: DatasetStore, compare: '>' | '>='): Reply {
  if (req.method !== 'GET') return methodNotAllowed();
  const path = req.url.pathname;
  const q = req.url.searchParams;
  const required = path === STUDENTS ? ['ts', 'pageSize', 'pageNum', 'type'] : ['ts', 'pageSize', 'pageNum'];
  for (const name of required) {
    if (!q.get(name)) return ecnuError(EcnuErr.missing, `缺少参数 ${name}`);
  }
  const numbers: Record<string, number> = {};
  for (const name of ['ts', 'pageSize', 'pageNum']) {
    const raw = (q.get(name) as string).trim();
    if (!/^-?\d+$/.test(raw)) return ecnuError(EcnuErr.validation, `参数 ${name} 必须是整数`);
    numbers[name] = Number(raw);
  }
  const { ts, pageSize, pageNum } = numbers as { ts: number; pageSize: number; pageNum: number };
  if (ts < 0) return ecnuError(EcnuErr.badValue, '参数 ts 的值无效');
  if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) return ecnuError(EcnuErr.badValue, `参数 pageSize 的值无效,最大 ${MAX_PAGE_SIZE}`);
  if (pageNum < 1) return ecnuError(EcnuErr.badValue, '参数 pageNum 的值无效');

  let dataset: DatasetId;
  if (path === STUDENTS) {
    const type = q.get('type');
    if (type !== '本科生' && type !== '研究生') return ecnuError(EcnuErr.badValue, `参数 type 的值无效: ${type}`);
    dataset = `ecnu-students:${type}`;
  } else {
    dataset = fixedPaths[path] ?? 'ecnu-customized';
  }
  // "如果 full 参数有值(无论是什么)": presence is what counts.
  const rows = store.ecnuRows(dataset, ts, compare, q.has('full'));
  const start = (pageNum - 1) * pageSize;
  const page = start < rows.length ? rows.slice(start, start + pageSize).map((e) => e.row) : [];
  return ecnuOk({ totalNum: rows.length, pageSize, pageNum, rows: page });
}
