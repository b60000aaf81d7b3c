/**
 * Contender "minimal": the least a competent Node client does for a full pull, with idsync's
 * default page size and concurrency (5000 rows, 4 pages in flight): token, first page for
 * totalNum, the rest through a sliding window, each page JSON.parse'd and its records written
 * as lines in page order. No validation, no spool, no state, no retries.
 * `node dist/bench/minimal-client.js <base-url> <client-id> <client-secret> <out-file> [page-size]`
 */
import fs from 'node:fs/promises';
import { Agent } from 'undici';
import { fetchPage, fetchToken, leanArgs, MINIMAL_CONCURRENCY, MINIMAL_PAGE_SIZE, pageLines, type SyncPage } from './lean-http.js';

const args = leanArgs(process.argv.slice(2));
const { base, clientId, clientSecret, out } = args;
const pageSize = args.pageSize ?? MINIMAL_PAGE_SIZE;
const dispatcher = new Agent({ connections: MINIMAL_CONCURRENCY * 2 });
const file = await fs.open(out, 'w');
const token = await fetchToken(dispatcher, base, clientId, clientSecret);
const first = await fetchPage(dispatcher, base, token, pageSize, 1);
await file.write(pageLines(first.rows));
const last = Math.ceil(first.totalNum / pageSize);
const inflight = new Map<number, Promise<SyncPage>>();
let next = 2;
for (let n = 2; n <= last; n += 1) {
  while (inflight.size < MINIMAL_CONCURRENCY && next <= last) {
    inflight.set(next, fetchPage(dispatcher, base, token, pageSize, next));
    next += 1;
  }
  const page = await (inflight.get(n) as Promise<SyncPage>);
  inflight.delete(n);
  await file.write(pageLines(page.rows));
}
await file.close();
await dispatcher.close();
