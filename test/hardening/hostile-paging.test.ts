import fs from 'node:fs/promises';
import path from 'node:path';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idsync } from '../support/cli.js';
import { tempDir } from '../support/env.js';
import { readNdjson } from '../support/ndjson.js';
import { ecnuOk, hostileEnv, sendJson, startHostile, type HostileServer } from './hostile-server.js';

/**
 * Paging answers that cannot be whole (found by probing with a fake platform): each must end
 * the run with exit 4 and one line, leaving the snapshot, the change feed and the state as
 * they were, rather than lose rows quietly or page forever.
 */

let h: HostileServer;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(() => h.close());

const SYNC = '/api/v1/sync/userinfo';
const person = (i: number) => ({ userId: String(100000 + i), name: `p${i}`, updated_at: '2025-01-01 08:00:00', deleted_mark: 0 });
const query = (req: http.IncomingMessage) => new URL(req.url ?? '/', 'http://x').searchParams;

/** ECNU pages of `size` from `rows` people, with `total(page)` as totalNum and `count(page)` rows. */
function ecnu(rows: number, total: (page: number) => unknown, count?: (page: number) => number): void {
  h.route(SYNC, (req, res) => {
    const q = query(req);
    const size = Number(q.get('pageSize'));
    const page = Number(q.get('pageNum'));
    const from = (page - 1) * size;
    const n = count ? count(page) : Math.max(0, Math.min(size, rows - from));
    const data = Array.from({ length: n }, (_, i) => person(from + i));
    sendJson(res, 200, ecnuOk({ totalNum: total(page), pageSize: size, pageNum: page, rows: data }));
  });
}

/** A job with a good first run into a snapshot with a change feed; then the hostile run. */
async function jobThenHostile(setup: () => void) {
  const home = await tempDir();
  const env = hostileEnv(h, home);
  const snap = path.join(home, 's.ndjson');
  const args = (changes: string) => [
    'pull',
    'ecnu-users',
    '--since',
    '0',
    '--snapshot',
    snap,
    '--changes',
    path.join(home, changes),
    '--page-size',
    '10',
  ];
  ecnu(25, () => 25);
  const good = await idsync(args('c1.ndjson'), env);
  expect(good.exitCode, String(good.stderr)).toBe(0);
  const before = { snap: await fs.readFile(snap, 'utf8'), state: await fs.readFile(path.join(home, 'state', 'ecnu-users.json'), 'utf8') };
  setup();
  // --retries 0: an answer that fails its schema counts as transient, and is retried otherwise.
  const r = await idsync([...args('c2.ndjson'), '--retries', '0'], env);
  return {
    r,
    home,
    snap,
    stderr: String(r.stderr),
    unchanged: async () => {
      expect(await fs.readFile(snap, 'utf8')).toBe(before.snap);
      expect(await fs.readFile(path.join(home, 'state', 'ecnu-users.json'), 'utf8')).toBe(before.state);
      await expect(fs.stat(path.join(home, 'c2.ndjson'))).rejects.toThrow();
    },
  };
}

describe('ECNU paging that cannot be whole', () => {
  it.each([
    ['null', null],
    ['empty', ''],
    ['zero', 0],
    ['smaller than the page', 5],
  ])('a full first page with a totalNum of %s is refused; the refresh deletes nobody', async (_name, totalNum) => {
    const { r, stderr, unchanged } = await jobThenHostile(() => ecnu(25, () => totalNum));
    expect(r.exitCode, stderr).toBe(4);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    await unchanged();
  });

  it('a short page in the middle with a steady totalNum is refused', async () => {
    const { r, stderr, unchanged } = await jobThenHostile(() =>
      ecnu(
        25,
        () => 25,
        (page) => (page === 2 ? 3 : page === 3 ? 5 : 10),
      ),
    );
    expect(r.exitCode, stderr).toBe(4);
    expect(stderr).toMatch(
      /ecnu page 2 of \/api\/v1\/sync\/userinfo has 3 rows where totalNum 25 and pageSize 10 say 10; the answer is incomplete/,
    );
    await unchanged();
  });

  it('a totalNum that grows on every page warns once and stops instead of paging forever', async () => {
    const { r, stderr, unchanged } = await jobThenHostile(() => ecnu(1e9, (page) => 25 + page * 10));
    expect(r.exitCode, stderr).toBe(4);
    expect(stderr.match(/totalNum changed/g)).toHaveLength(1);
    expect(stderr).toMatch(/grew from 35 to \d+ during one scan; stopping/);
    await unchanged();
  });
});

describe('a full refresh during which rows moved', () => {
  it('keeps the person who slipped past instead of reporting them gone', async () => {
    const { r, home, snap } = await jobThenHostile(() => {
      // Someone before the second page left the platform's list while it was paged: totalNum
      // drops to 24 and the second page starts one row later, so person 10 is on no page read.
      h.route(SYNC, (req, res) => {
        const page = Number(query(req).get('pageNum'));
        const ids = page === 1 ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : page === 2 ? [11, 12, 13, 14, 15, 16, 17, 18, 19, 20] : [21, 22, 23, 24];
        sendJson(res, 200, ecnuOk({ totalNum: page === 1 ? 25 : 24, pageSize: 10, pageNum: page, rows: ids.map(person) }));
      });
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(/rows moved during this full pull, so the people it did not see are kept this time/);
    const events = (await readNdjson(path.join(home, 'c2.ndjson'))) as { op: string; key: string }[];
    expect(events.filter((e) => e.op === 'delete')).toEqual([]);
    expect((await readNdjson(snap)).map((row) => row['userId'])).toContain('100010');
  });
});

describe('Tongji cursors', () => {
  it('a cursor that comes back (A, B, A, …) stops the run instead of looping', async () => {
    let pages = 0;
    h.route('/v2/dc/user/teacher_infos', (req, res) => {
      pages += 1;
      const since = query(req).get('sinceUserId') ?? '';
      const next = since === 'A' ? 'B' : 'A';
      sendJson(res, 200, {
        code: 'A00000',
        msg: 'ok',
        data: { count: 2, sinceUserId: next, userInfos: [{ userId: `${next}1`, updateTime: '2025-01-01 08:00:00' }] },
      });
    });
    const home = await tempDir();
    const r = await idsync(['pull', 'tongji-staff', '-o', path.join(home, 'out.ndjson')], hostileEnv(h, home));
    expect(r.exitCode, String(r.stderr)).toBe(4);
    expect(String(r.stderr)).toMatch(/tongji returned a cursor it had returned before \(sinceUserId A, page 3\)/);
    expect(pages).toBeLessThanOrEqual(4);
    await expect(fs.stat(path.join(home, 'out.ndjson'))).rejects.toThrow();
  });
});

describe('a platform clock that cannot be trusted', () => {
  it("a row stamped in 2099, with no Date header, does not carry the watermark past this machine's clock", async () => {
    h.route(SYNC, (_req, res) => {
      res.sendDate = false;
      sendJson(
        res,
        200,
        ecnuOk({ totalNum: 2, pageSize: 10, pageNum: 1, rows: [person(1), { ...person(2), updated_at: '2099-01-01 00:00:00' }] }),
      );
    });
    const home = await tempDir();
    const before = Math.floor(Date.now() / 1000);
    const r = await idsync(['pull', 'ecnu-users', '--since', 'last', '-o', path.join(home, 'o.ndjson')], hostileEnv(h, home));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).toMatch(/stamped after this machine's clock \(newest 2099-01-01 00:00:00\)/);
    const state = JSON.parse(await fs.readFile(path.join(home, 'state', 'ecnu-users.json'), 'utf8')) as {
      jobs: Record<string, { watermark: number }>;
    };
    const [job] = Object.values(state.jobs);
    expect(job!.watermark).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(job!.watermark).toBeGreaterThan(before - 3600);
  });
});
