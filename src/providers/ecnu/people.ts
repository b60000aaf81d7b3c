import type { ApiClient, JsonAnswer } from '../../core/api-client.js';
import { UsageError } from '../../core/errors.js';
import type { LookupAnswer, LookupBatch, PeopleDirectory } from '../../core/people.js';
import type { Row } from '../../core/provider.js';
import { checkEnvelope } from './envelope.js';
import { ecnuIdSearch, ecnuLookupKinds } from './lookup-kinds.js';
import { fetchSyncPage } from './pages.js';
import { ecnuPhoto } from './photo.js';
import { recordsOf } from '../records.js';

/** One ECNU lookup: `data` is an array, empty for an unknown person (seeds/001). */
async function lookUp(client: ApiClient, { kind, ids }: LookupBatch): Promise<LookupAnswer> {
  const id = ids?.[0];
  const query: Record<string, string> = { ...kind.fixedParams, ...(id !== undefined ? { [kind.idParam]: id } : {}) };
  let rows: Row[] = [];
  await client.getJson(kind.path, query, (answer: JsonAnswer) => {
    const env = checkEnvelope(answer, kind.path);
    rows = recordsOf(env.data, kind.path, 'ecnu');
  });
  return { rows, missing: id !== undefined && rows.length === 0 ? [id] : [] };
}

/**
 * `idsync api --paginate` (seeds/000): pageNum from 1, pageSize, totalNum, data.rows. A pageNum
 * given by the user is where paging starts.
 */
async function* paginate(client: ApiClient, path: string, given: Readonly<Record<string, string>>): AsyncGenerator<Row> {
  const query: Record<string, string> = { ...given, pageSize: given['pageSize'] ?? '1000' };
  const first = Number(query['pageNum'] ?? '1');
  if (!Number.isInteger(first) || first < 1) throw new UsageError(`pageNum must be a whole number from 1, not '${query['pageNum']}'`);
  delete query['pageNum'];
  for (let pageNum = first; ; pageNum += 1) {
    const page = await fetchSyncPage(client, path, query, pageNum);
    yield* page.rows;
    const size = page.pageSize ?? Number(query['pageSize']);
    if (page.rows.length === 0 || pageNum * size >= page.total) return;
  }
}

export const ecnuPeople: PeopleDirectory = {
  provider: 'ecnu',
  kinds: ecnuLookupKinds,
  defaultKind: 'info',
  idSearch: ecnuIdSearch,
  selfKind: 'info',
  lookUp,
  // Only answers that carry the envelope are judged; other JSON passes through as it came.
  checkAnswer: (answer, path) => {
    if ('errCode' in (answer.body as object)) checkEnvelope(answer, path);
  },
  paginate,
  photo: ecnuPhoto,
};
