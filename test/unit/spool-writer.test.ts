import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/core/errors.js';
import { KeyHashes } from '../../src/core/sync/key-hashes.js';
import { parseShanghaiFast } from '../../src/core/sync/shanghai-time.js';
import { resumeSpool, SpoolWriter, type SpoolSpec } from '../../src/core/sync/spool-writer.js';
import type { Row } from '../../src/core/provider.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-spool-writer-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const spec = (over: Partial<SpoolSpec> = {}): SpoolSpec => ({
  keyFields: ['userId', 'userid'],
  updateField: 'updated_at',
  isDeleted: (row) => row['deleted_mark'] === 1,
  dropDeleted: false,
  ...over,
});

const person = (userId: string, extra: Row = {}): Row => ({
  updated_at: '2024-01-02 03:04:05',
  deleted_mark: 0,
  userId,
  name: '张三',
  ...extra,
});

describe('KeyHashes', () => {
  it('tells a new key from one seen before, through many growths', () => {
    const keys = new KeyHashes(4);
    const id = (i: number) => `1020${String(i).padStart(7, '0')}`;
    let added = 0;
    for (let i = 0; i < 300_000; i += 1) if (keys.add(id(i))) added += 1;
    expect(added).toBe(300_000);
    let again = 0;
    for (let i = 0; i < 300_000; i += 1) if (!keys.add(id(i))) again += 1;
    expect(again).toBe(300_000);
    expect(keys.add('')).toBe(true);
    expect(keys.add('')).toBe(false);
    expect(keys.add('学号-1')).toBe(true);
    expect(keys.add('学号-1')).toBe(false);
    expect(keys.size).toBe(300_002);
  });
});

describe('parseShanghaiFast', () => {
  // The implementation before the char-code fast path: the new one must agree on every input.
  const sliced = (text: unknown): number | undefined => {
    if (typeof text !== 'string' || text.length !== 19) return undefined;
    const [y, mo, d, h, mi, s] = [
      [0, 4],
      [5, 7],
      [8, 10],
      [11, 13],
      [14, 16],
      [17, 19],
    ].map(([a, b]) => +text.slice(a as number, b)) as [number, number, number, number, number, number];
    if (!(y > 1900 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 59)) return undefined;
    return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - 8 * 3600;
  };

  it('agrees with the sliced reading on canonical, odd and broken stamps', () => {
    const base = '2021-06-08 22:03:30';
    const odd = [
      '2021/06/08T22:03:30',
      '2021- 6-08 22:03:30',
      '+021-06-08 22:03:30',
      '2021-06-08 22:03:3 ',
      '2021-13-08 22:03:30',
      '1900-01-01 00:00:00',
      '2021-06-08 24:00:00',
      '0x15-06-08 22:03:30',
      '2021-06-08 22:03:3e',
      'abcdefghijklmnopqrs',
    ];
    const chars = '0123456789 +-.eExX:T/';
    let seed = 42;
    const rand = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    for (let i = 0; i < 20_000; i += 1) {
      const at = rand(19);
      odd.push(base.slice(0, at) + chars[rand(chars.length)] + base.slice(at + 1));
    }
    for (const text of [base, ...odd]) expect(parseShanghaiFast(text), text).toBe(sliced(text));
  });
});

describe('SpoolWriter', () => {
  it('writes each record as a JSON line and counts what it wrote', async () => {
    const file = path.join(dir, 'spool.ndjson');
    const w = await SpoolWriter.open(file, spec({ dropDeleted: true }));
    const rows = [person('a'), person('b', { deleted_mark: 1 }), person('c', { updated_at: '2024-05-06 07:08:09' })];
    expect(await w.append(rows, 'page 1')).toBe('');
    const echoed = await w.append([person('d')], 'page 2', true);
    await w.close();
    const text = await fs.readFile(file, 'utf8');
    expect(text).toBe([rows[0], rows[2], person('d')].map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect(echoed).toBe(`${JSON.stringify(person('d'))}\n`);
    expect(w.bytes).toBe(Buffer.byteLength(text));
    expect([w.count, w.received, w.deleted, w.hasDuplicateKeys]).toEqual([3, 4, 1, false]);
    expect(w.maxUpdatedText).toBe('2024-05-06 07:08:09');
  });

  it('sees a key twice even when the first copy was a dropped tombstone', async () => {
    const w = await SpoolWriter.open(path.join(dir, 's'), spec({ dropDeleted: true }));
    await w.append([person('a', { deleted_mark: 1 }), person('b')], 'page 1');
    expect(w.hasDuplicateKeys).toBe(false);
    await w.append([person('a')], 'page 2');
    await w.close();
    expect(w.hasDuplicateKeys).toBe(true);
  });

  it('keeps the union of fields in first-seen order, whatever order each row has', async () => {
    const w = await SpoolWriter.open(path.join(dir, 's'), spec());
    await w.append(
      [{ userId: '1', a: 1 }, { userId: '2', a: 1 }, { a: 1, userId: '3', b: 2 }, { userId: '4' }, { c: 3, userId: '5' }],
      'p',
    );
    await w.close();
    expect(w.fields).toEqual(['userId', 'a', 'b', 'c']);
  });

  it('names the key field most records use, the first seen on a tie', async () => {
    const w = await SpoolWriter.open(path.join(dir, 's'), spec());
    await w.append([{ userid: 'x' }, { userId: 'y' }], 'p');
    expect(w.toSpool().keyField).toBe('userid');
    await w.append([{ userId: 'z' }], 'p');
    expect(w.toSpool().keyField).toBe('userId');
    await w.close();
  });

  it('refuses a record without a key, naming it', async () => {
    const w = await SpoolWriter.open(path.join(dir, 's'), spec());
    await expect(w.append([person('a'), { name: 'nobody' }], 'ecnu-users page 3')).rejects.toThrow(
      new UpstreamError('ecnu-users page 3: record 2 has no key field (userId or userid)'),
    );
    await w.close();
  });

  it('still sees duplicates after resuming a spool', async () => {
    const file = path.join(dir, 'spool.ndjson');
    const w = await SpoolWriter.open(file, spec());
    await w.append([person('a'), person('b')], 'page 1');
    await w.close();
    const resumed = await resumeSpool(file, spec(), w.bytes);
    expect(resumed?.count).toBe(2);
    await resumed?.append([person('c')], 'page 2');
    expect(resumed?.hasDuplicateKeys).toBe(false);
    await resumed?.append([person('a')], 'page 3');
    expect(resumed?.hasDuplicateKeys).toBe(true);
    await resumed?.close();
    expect((await fs.readFile(file, 'utf8')).split('\n').length).toBe(5);
  });
});
