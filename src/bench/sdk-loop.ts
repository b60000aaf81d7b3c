/**
 * Contender "sdk-loop": one page at a time, the way the official ECNU Go SDK's full sync
 * loops (pageSize 2000; fetch, parse, write, next page until a short page).
 * `node dist/bench/sdk-loop.js <base-url> <client-id> <client-secret> <out-file>`
 */
import fs from 'node:fs/promises';
import { Agent } from 'undici';
import { fetchPage, fetchToken, leanArgs, pageLines, SDK_PAGE_SIZE } from './lean-http.js';

const { base, clientId, clientSecret, out } = leanArgs(process.argv.slice(2));
const dispatcher = new Agent({ connections: 1 });
const file = await fs.open(out, 'w');
const token = await fetchToken(dispatcher, base, clientId, clientSecret);
for (let pageNum = 1; ; pageNum += 1) {
  const page = await fetchPage(dispatcher, base, token, SDK_PAGE_SIZE, pageNum);
  await file.write(pageLines(page.rows));
  if (page.rows.length < SDK_PAGE_SIZE) break;
}
await file.close();
await dispatcher.close();
