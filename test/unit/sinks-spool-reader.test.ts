import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Row } from '../../src/core/provider.js';
import { ByteLineReader } from '../../src/core/fs/byte-line-reader.js';
import { readLines, uniqueLines } from '../../src/core/sync/spool-reader.js';
import type { Spool } from '../../src/core/sync/writers.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-spool-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function byteLines(file: string, bufferSize?: number): Promise<string[]> {
  const r = await ByteLineReader.open(file, bufferSize);
  const out: string[] = [];
  try {
    while (r.line !== undefined) {
      out.push(r.line.toString('utf8'));
      await r.next();
    }
  } finally {
    await r.close();
  }
  return out;
}

function spoolOf(file: string, rows: Row[], hasDuplicateKeys: boolean): Spool {
  return {
    path: file,
    count: rows.length,
    fields: ['userId', 'v'],
    hasDuplicateKeys,
    keyField: 'userId',
    keyOf: (r) => String(r['userId']),
    isDeleted: () => false,
  };
}

describe('readLines and ByteLineReader', () => {
  it('split on \\n, drop a trailing \\r, skip empty lines, keep a last line without \\n', async () => {
    const file = path.join(dir, 'a');
    await fs.writeFile(file, 'one\r\ntwo\n\n三\r\n\nlast');
    expect(await collect(readLines(file))).toEqual(['one', 'two', '三', 'last']);
    expect(await byteLines(file)).toEqual(['one', 'two', '三', 'last']);
    expect(await byteLines(file, 2)).toEqual(['one', 'two', '三', 'last']);
  });

  it('keep multi-byte characters intact across read boundaries and long lines', async () => {
    // 1 MB chunks (readLines) and tiny buffers (ByteLineReader) both cut through characters.
    const lines = Array.from({ length: 3000 }, (_, i) => `{"name":"${'张伟王芳'.repeat(i % 200)}${i}"}`);
    lines.push('长'.repeat(700_000)); // longer than any buffer
    lines.push('end');
    const file = path.join(dir, 'b');
    await fs.writeFile(file, lines.join('\n') + '\n');
    expect(await collect(readLines(file))).toEqual(lines);
    expect(await byteLines(file)).toEqual(lines);
    expect(await byteLines(file, 7)).toEqual(lines);
  });

  it('an empty file has no lines', async () => {
    const file = path.join(dir, 'empty');
    await fs.writeFile(file, '');
    expect(await collect(readLines(file))).toEqual([]);
    expect(await byteLines(file)).toEqual([]);
  });
});

describe('uniqueLines', () => {
  it('keeps only the last occurrence of each key, in file order', async () => {
    const rows = [
      { userId: '1', v: 'a' },
      { userId: '2', v: 'b' },
      { userId: '1', v: 'c' },
      { userId: '3', v: 'd' },
      { userId: '2', v: 'e' },
    ];
    const file = path.join(dir, 'spool');
    await fs.writeFile(file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    const got = (await collect(uniqueLines(spoolOf(file, rows, true)))).map((l) => JSON.parse(l) as Row);
    expect(got).toEqual([
      { userId: '1', v: 'c' },
      { userId: '3', v: 'd' },
      { userId: '2', v: 'e' },
    ]);
  });

  it('tells keys apart whose fingerprints collide', async () => {
    // 'u31992' and 'u605430' have the same 32-bit FNV-1a fingerprint.
    const rows = [
      { userId: 'u31992', v: 1 },
      { userId: 'u605430', v: 1 },
      { userId: 'x', v: 1 },
      { userId: 'u31992', v: 2 },
      { userId: 'x', v: 2 },
    ];
    const file = path.join(dir, 'spool');
    await fs.writeFile(file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    const got = (await collect(uniqueLines(spoolOf(file, rows, true)))).map((l) => JSON.parse(l) as Row);
    expect(got).toEqual([
      { userId: 'u605430', v: 1 },
      { userId: 'u31992', v: 2 },
      { userId: 'x', v: 2 },
    ]);
  });

  it('matches a Map of every key on 50k records with duplicates', async () => {
    let seed = 3;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const rows = Array.from({ length: 50_000 }, (_, i) => ({ userId: `k${random(40_000)}`, v: i }));
    const file = path.join(dir, 'spool');
    await fs.writeFile(file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    const last = new Map(rows.map((r, i) => [r.userId, i]));
    const want = rows.filter((r, i) => last.get(r.userId) === i);
    const got = (await collect(uniqueLines(spoolOf(file, rows, true)))).map((l) => JSON.parse(l) as Row);
    expect(got).toEqual(want);
  });

  it('returns every line untouched when the spool says there are no duplicates', async () => {
    const file = path.join(dir, 'spool');
    const text = '{"userId":"1", "v" : 1}\n{"userId":"2","v":2}\n';
    await fs.writeFile(file, text);
    const lines = await collect(uniqueLines(spoolOf(file, [], false)));
    expect(lines.join('\n') + '\n').toBe(text);
  });
});
