import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeTestSpool } from '../support/spool.js';
import type { Row } from '../../src/core/provider.js';
import { prepareOutput } from '../../src/sinks/index.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'idsync-xlsx-ux-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

// Tongji puts its key late (column 33 of 40 on the real platform) and sends many single spaces.
const rows: Row[] = [
  { deptName: '计算机科学与技术学院', phone: ' ', updateTime: '2026-01-01 00:00:00', name: '张伟', userId: '00123' },
  { deptName: ' ', phone: '  two  ', updateTime: '2026-01-02 00:00:00', name: 'Li', userId: '20210001' },
];

async function workbook(data: Row[]): Promise<string> {
  const spool = await writeTestSpool(dir, data, { keyField: 'userId' });
  const dest = path.join(dir, 'out.xlsx');
  await (await prepareOutput(spool, dest, 'xlsx', { sheetName: 'tongji-staff' })).commit();
  return dest;
}

function part(file: string, name: string): string {
  return execFileSync('unzip', ['-p', file, name], { encoding: 'utf8' });
}

describe('xlsx workbooks a person can open anywhere', () => {
  it('keeps a value of one space: preserved in the XML and read back exactly', async () => {
    const file = await workbook(rows);
    const xml = part(file, 'xl/worksheets/sheet1.xml');
    expect(xml).toContain('<t xml:space="preserve"> </t>');
    expect(xml).toContain('<t xml:space="preserve">  two  </t>');
    // The form LibreOffice reads as an empty cell must not appear.
    expect(xml).not.toMatch(/<v> <\/v>/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.worksheets[0]!;
    const header = (ws.getRow(1).values as unknown[]).slice(1).map((_, i) => ws.getRow(1).getCell(i + 1).text);
    const col = (name: string) => header.indexOf(name) + 1;
    expect(ws.getRow(2).getCell(col('phone')).text).toBe(' ');
    expect(ws.getRow(3).getCell(col('deptName')).text).toBe(' ');
    expect(ws.getRow(3).getCell(col('phone')).text).toBe('  two  ');
    expect(ws.getRow(2).getCell(col('userId')).text).toBe('00123');
  });

  it('keeps control characters and CR as OOXML escapes instead of dropping them', async () => {
    const file = await workbook([{ userId: '1', name: 'a\u001b[31mRED', note: 'line\r\nnext', raw: 'x_x0041_y\u0007' }]);
    const xml = part(file, 'xl/worksheets/sheet1.xml');
    expect(xml).toContain('a_x001B_[31mRED');
    expect(xml).toContain('line_x000D_\nnext');
    expect(xml).toContain('x_x005F_x0041_y_x0007_');
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B-\u001F]/);
  });

  it('puts key and name first, then the rest in the order sent', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(await workbook(rows));
    const ws = wb.worksheets[0]!;
    const header = [1, 2, 3, 4, 5].map((i) => ws.getRow(1).getCell(i).text);
    expect(header).toEqual(['userId', 'name', 'deptName', 'phone', 'updateTime']);
  });

  it('has a bold frozen header with a filter over every row, Text cells, fitted widths, fit-to-width printing', async () => {
    const file = await workbook(rows);
    const xml = part(file, 'xl/worksheets/sheet1.xml');
    expect(xml).toMatch(/<pane [^>]*ySplit="1"[^>]*state="frozen"/);
    expect(xml).toContain('<autoFilter ref="A1:E3"/>');
    expect(xml).toMatch(/<pageSetUpPr fitToPage="1"\/>/);
    expect(xml).toMatch(/<pageSetup [^>]*fitToWidth="1"[^>]*fitToHeight="0"/);
    const styles = part(file, 'xl/styles.xml');
    expect(styles).toMatch(/<numFmt numFmtId="\d+" formatCode="@"\/>|numFmtId="49"/);

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(ws.getRow(2).getCell(1).numFmt).toBe('@');
    const widths = [1, 2, 3, 4, 5].map((i) => ws.getColumn(i).width ?? 0);
    // deptName holds 10 CJK characters (20 cells wide); updateTime 19 characters; bounded below.
    expect(widths[2]).toBeGreaterThanOrEqual(20);
    expect(widths[4]).toBeGreaterThanOrEqual(19);
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(6);
  });

  it('bounds the width of a column of very long text', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(await workbook([{ userId: '1', note: 'x'.repeat(500) }]));
    expect(wb.worksheets[0]!.getColumn(2).width).toBeLessThanOrEqual(60);
  });
});
