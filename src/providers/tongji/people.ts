import type { ApiClient, JsonAnswer } from '../../core/api-client.js';
import type { LookupAnswer, LookupBatch, PeopleDirectory } from '../../core/people.js';
import type { Row } from '../../core/provider.js';
import { checkTongji } from './envelope.js';
import { tongjiLookupKinds } from './lookup-kinds.js';
import { cursorPages, fetchCursorPage, REQUESTS_PER_SECOND } from './pages.js';

/**
 * Tongji: the sync endpoint filtered by userId (comma-separated for postdoc_info). A batch fits
 * one page (500 ids, 1000 rows a page), but should the platform page anyway, the cursor is
 * followed while asked ids are still missing. Rows are matched to the ids asked: were the filter
 * ignored, the endpoint would answer with everybody. (ECNU rows are not matched: multisearch and
 * idsearch rightly answer with other userIds, the same person's other identities.)
 */
async function lookUp(client: ApiClient, { kind, ids = [], pace }: LookupBatch): Promise<LookupAnswer> {
  const byId = new Map<string, Row[]>(ids.map((id) => [id, []]));
  let foreign = 0;
  let cursor: string | undefined;
  for (let page = 1; ; page += 1) {
    if (page > 1) await pace();
    const query: Record<string, string> = {
      ...kind.fixedParams,
      [kind.idParam]: ids.join(','),
      ...(cursor ? { sinceUserId: cursor } : {}),
    };
    const { rows, next } = await fetchCursorPage(client, kind.path, query);
    for (const row of rows) {
      const list = byId.get(String(row['userId']));
      if (list) list.push(row);
      else foreign += 1;
    }
    const stillMissing = [...byId.values()].some((list) => list.length === 0);
    if (rows.length === 0 || next === undefined || next === cursor || !stillMissing) break;
    cursor = next;
  }
  return {
    rows: ids.flatMap((id) => byId.get(id) ?? []),
    missing: ids.filter((id) => (byId.get(id) ?? []).length === 0),
    ...(foreign > 0 ? { warning: `tongji answered ${foreign} row(s) for people not asked for (${kind.path}); left out` } : {}),
  };
}

/** `idsync api --paginate` (seeds/002): a sinceUserId given by the user is where paging starts. */
async function* paginate(
  client: ApiClient,
  path: string,
  query: Readonly<Record<string, string>>,
  signal?: AbortSignal,
): AsyncGenerator<Row> {
  const { sinceUserId, ...params } = query;
  for await (const page of cursorPages(client, path, params, sinceUserId || undefined, signal)) yield* page.rows;
}

export const tongjiPeople: PeopleDirectory = {
  provider: 'tongji',
  kinds: tongjiLookupKinds,
  defaultKind: 'student',
  requestsPerSecond: REQUESTS_PER_SECOND,
  lookUp,
  // Only answers that carry the envelope are judged; other JSON passes through as it came.
  checkAnswer: (answer: JsonAnswer, path) => {
    if ('code' in (answer.body as object)) checkTongji(answer, path);
  },
  paginate,
};
