import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeTestSpool } from '../support/spool.js';
import { IdsyncError } from '../../src/core/errors.js';
import type { Row } from '../../src/core/provider.js';
import { prepareOutput } from '../../src/sinks/output.js';
import { sheetNameFor } from '../../src/sinks/output-xlsx.js';
import type { Spool } from '../../src/core/sync/writers.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-out-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function writeSpool(rows: Row[], text?: string): Promise<Spool> {
  return writeTestSpool(dir, rows, text === undefined ? {} : { text });
}

const people: Row[] = [
  { userId: '00123', name: '张伟', dept: '计算机, 软件学院', note: 'says "hi"', active: true, score: 12.5 },
  { userId: '20210001', name: "O'Brien", dept: null, note: 'line 1\nline 2\rline 3', active: false, score: 0 },
  { userId: '123456789012345678', name: '王芳', tags: ['a', 'b'], extra: { k: 1 }, deleted_mark: 1 },
];

async function commitOutput(spool: Spool, name: string, format: 'ndjson' | 'csv' | 'xlsx'): Promise<string> {
  const dest = path.join(dir, name);
  const p = await prepareOutput(spool, dest, format, { sheetName: 'ecnu-users' });
  await expect(fs.access(dest)).rejects.toThrow(); // not visible before commit
  await p.commit();
  return dest;
}

describe('ndjson output', () => {
  it('copies the spool byte for byte when no key came twice', async () => {
    const text = '{"userId":"1","名字":"李娜"}\n{"userId":"2", "spacing":"kept"}\n';
    const spool = await writeSpool([{ userId: '1' }, { userId: '2' }], text);
    const dest = await commitOutput(spool, 'out.ndjson', 'ndjson');
    expect(await fs.readFile(dest, 'utf8')).toBe(text);
  });

  it('keeps the last occurrence of a duplicated key, tombstones included', async () => {
    const rows = [
      { userId: '1', v: 'old' },
      { userId: '2', v: 'x' },
      { userId: '1', v: 'new' },
      { userId: '3', deleted_mark: 1 },
    ];
    const dest = await commitOutput(await writeSpool(rows), 'out.ndjson', 'ndjson');
    const lines = (await fs.readFile(dest, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Row);
    expect(lines).toEqual([
      { userId: '2', v: 'x' },
      { userId: '1', v: 'new' },
      { userId: '3', deleted_mark: 1 },
    ]);
  });
});

describe('csv output', () => {
  it('starts with a BOM, uses CRLF, and reads back with every value as text', async () => {
    const spool = await writeSpool(people);
    const dest = await commitOutput(spool, 'out.csv', 'csv');
    const raw = await fs.readFile(dest);
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = raw.toString('utf8');
    expect(text.startsWith('\uFEFFuserId,name,dept,note,active,score,tags,extra,deleted_mark\r\n')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    // A lone LF or CR inside a value is quoted too, or line-based readers would split the record.
    expect(text).toContain(',"line 1\nline 2\rline 3",');
    const records = parse<Record<string, string>>(text, { bom: true, columns: true });
    expect(records).toEqual([
      {
        userId: '00123',
        name: '张伟',
        dept: '计算机, 软件学院',
        note: 'says "hi"',
        active: 'true',
        score: '12.5',
        tags: '',
        extra: '',
        deleted_mark: '',
      },
      {
        userId: '20210001',
        name: "O'Brien",
        dept: '',
        note: 'line 1\nline 2\rline 3',
        active: 'false',
        score: '0',
        tags: '',
        extra: '',
        deleted_mark: '',
      },
      {
        userId: '123456789012345678',
        name: '王芳',
        dept: '',
        note: '',
        active: '',
        score: '',
        tags: '["a","b"]',
        extra: '{"k":1}',
        deleted_mark: '1',
      },
    ]);
  });

  const python = spawnSync('python3', ['-c', 'import csv'], { encoding: 'utf8' }).status === 0;
  it.runIf(python)("round-trips through Python's csv module", async () => {
    const dest = await commitOutput(await writeSpool(people), 'out.csv', 'csv');
    const script = [
      'import csv, json, sys',
      "with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:",
      '    print(json.dumps(list(csv.reader(f)), ensure_ascii=False))',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, dest], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const rows = JSON.parse(run.stdout) as string[][];
    expect(rows).toHaveLength(4);
    expect(rows[1]).toEqual(['00123', '张伟', '计算机, 软件学院', 'says "hi"', 'true', '12.5', '', '', '']);
    expect(rows[2]![3]).toBe('line 1\nline 2\rline 3');
  });

  it('writes only a BOM when the run fetched nothing', async () => {
    const dest = await commitOutput(await writeSpool([]), 'empty.csv', 'csv');
    expect(await fs.readFile(dest, 'utf8')).toBe('\uFEFF');
  });
});

describe('xlsx output', () => {
  it('writes one named sheet, a header row, and every cell as a string', async () => {
    const spool = await writeSpool(people);
    const dest = await commitOutput(spool, 'out.xlsx', 'xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(dest);
    expect(wb.worksheets).toHaveLength(1);
    const ws = wb.worksheets[0]!;
    expect(ws.name).toBe('ecnu-users');
    // Strings are inline rich-text runs (space preserved, see test/ux/xlsx-presentation): read their text.
    expect(spool.fields.map((_, i) => ws.getRow(1).getCell(i + 1).text)).toEqual([...spool.fields]);
    expect(ws.rowCount).toBe(4);
    const isText = (ref: string) => [ExcelJS.ValueType.String, ExcelJS.ValueType.RichText].includes(ws.getCell(ref).type);
    expect(isText('A2')).toBe(true);
    expect(ws.getCell('A2').text).toBe('00123');
    expect(isText('A4')).toBe(true);
    expect(ws.getCell('A4').text).toBe('123456789012345678');
    expect(ws.getCell('F2').text).toBe('12.5'); // a number from the platform, as its text
    expect(isText('F2')).toBe(true);
    expect(ws.getCell('E3').text).toBe('false');
    expect(ws.getCell('C3').value).toBeNull(); // null → empty cell
    // The CR kept (as `_x000D_`: XML itself reads a raw CR inside text as LF, XML 1.0 §2.11).
    expect(ws.getCell('D3').text).toBe('line 1\nline 2\rline 3');
    expect(ws.getCell('G4').text).toBe('["a","b"]');
  });

  it.each([
    ['ecnu-users', 'ecnu-users'],
    ['a[b]c:d*e?f/g\\h', 'a_b_c_d_e_f_g_h'],
    ['x'.repeat(40), 'x'.repeat(31)],
    ["'quoted'", 'quoted'],
    ['', 'Sheet1'],
    ['History', 'Sheet1'],
  ])('sanitises the sheet name %j to %j', (name, expected) => {
    expect(sheetNameFor(name)).toBe(expected);
  });

  it('refuses more records than a worksheet holds, before writing anything', async () => {
    const spool = { ...(await writeSpool([{ userId: '1' }])), count: 1_048_576 };
    const dest = path.join(dir, 'big.xlsx');
    await expect(prepareOutput(spool, dest, 'xlsx', { sheetName: 's' })).rejects.toThrow(IdsyncError);
    await expect(prepareOutput(spool, dest, 'xlsx', { sheetName: 's' })).rejects.toThrow(/1048576 records do not fit/);
    expect(await fs.readdir(dir)).toEqual(['run.spool']);
  });
});

describe('abort', () => {
  it.each(['ndjson', 'csv', 'xlsx'] as const)('leaves the previous %s output exactly as it was', async (format) => {
    const dest = path.join(dir, `out.${format}`);
    const before = Buffer.from('previous output\n');
    await fs.writeFile(dest, before);
    const p = await prepareOutput(await writeSpool(people), dest, format, { sheetName: 's' });
    await p.abort();
    expect(await fs.readFile(dest)).toEqual(before);
    expect((await fs.readdir(dir)).sort()).toEqual([`out.${format}`, 'run.spool']);
  });
});

describe('a key that came twice', () => {
  // `-o -` with CSV or XLSX writes this same file and copies it to standard output.
  it.each(['csv', 'xlsx'] as const)('leaves only its last copy in the %s output', async (format) => {
    const spool = await writeSpool([...people, { ...people[0]!, name: '张伟 (updated)' }]);
    const dest = await commitOutput(spool, `out.${format}`, format);
    if (format === 'xlsx') {
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.readFile(dest);
      expect(wb.worksheets[0]!.rowCount).toBe(4);
      expect(wb.worksheets[0]!.getCell('B4').text).toBe('张伟 (updated)');
    } else {
      const records = parse<Record<string, string>>(await fs.readFile(dest, 'utf8'), { bom: true, columns: true });
      expect(records.map((r) => r['name'])).toEqual(["O'Brien", '王芳', '张伟 (updated)']);
    }
  });
});
