import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { idProblem, readIds } from '../../src/lookup/id-input.js';
import { isIdNumberField, maskIdNumber, maskSensitive } from '../../src/lookup/mask-id-number.js';
import { chunk, mapOrdered } from '../../src/lookup/ordered-pool.js';
import { renderTable } from '../../src/lookup/record-output.js';

describe('ID-card masking', () => {
  it('keeps the first 3 and last 4 characters', () => {
    expect(maskIdNumber('310104199001011234')).toBe('310***********1234');
    expect(maskIdNumber('33010620030123772X')).toBe('330***********772X');
    // multisearch sends only the last six digits: too short to show any of it.
    expect(maskIdNumber('23772X')).toBe('******');
  });

  it('masks ID-number fields at any depth, and nothing else', () => {
    const row = {
      zjhm: '310104199001011234',
      sfzx: '1', // 是否在校, not an ID number
      nested: [{ id_card_number: '420106197211201712', name: '王伟' }],
      userId: '10210000001',
    };
    const { value, masked } = maskSensitive(row);
    expect(masked).toBe(2);
    expect(value).toEqual({
      zjhm: '310***********1234',
      sfzx: '1',
      nested: [{ id_card_number: '420***********1712', name: '王伟' }],
      userId: '10210000001',
    });
    expect(row.zjhm).toBe('310104199001011234'); // the input is left alone
    expect(['zjhm', 'ZJHM', 'sfzh', 'idNumber', 'id_no'].every(isIdNumberField)).toBe(true);
    expect(['sfzx', 'zjlx', 'userId'].some(isIdNumberField)).toBe(false);
  });
});

describe('id input', () => {
  const noStdin = async () => {
    throw new Error('stdin must not be read');
  };

  it('refuses ids that would change a query, a batch or a file name', () => {
    expect(idProblem('')).toMatch(/empty/);
    expect(idProblem('a b')).toMatch(/white space/);
    expect(idProblem('a\u0000b')).toMatch(/control/);
    expect(idProblem('a,b')).toMatch(/comma/);
    expect(idProblem('x'.repeat(65))).toMatch(/longer/);
    expect(idProblem('../x', true)).toMatch(/dot/);
    expect(idProblem('a/b', true)).toMatch(/separator/);
    expect(idProblem('a\\b', true)).toMatch(/separator/);
    expect(idProblem('a..b', true)).toMatch(/'\.\.'/);
    expect(idProblem('.hidden', true)).toMatch(/dot/);
    expect(idProblem('10210000001', true)).toBeUndefined();
    expect(idProblem('a/b')).toBeUndefined(); // fine in a query string, not as a file name
  });

  it('reads arguments, a file and stdin, de-duplicated in order, with line numbers in errors', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idsync-ids-'));
    const file = path.join(dir, 'ids.txt');
    fs.writeFileSync(file, '\uFEFF# people\n  3 \n\n4\n1\n');
    const ids = await readIds({ args: ['1', '-', '2'], idsFile: file, readStdin: async () => '5\r\n2\n' }, { what: 'userId' });
    expect(ids).toEqual(['1', '5', '2', '3', '4']);
    fs.writeFileSync(file, '1\nbad id\n');
    await expect(readIds({ args: [], idsFile: file, readStdin: noStdin }, { what: 'userId' })).rejects.toThrow(
      `${file}:2: userId "bad id" contains white space`,
    );
    await expect(readIds({ args: [], idsFile: path.join(dir, 'none'), readStdin: noStdin }, { what: 'userId' })).rejects.toThrow(
      UsageError,
    );
    await expect(readIds({ args: ['-'], readStdin: async () => '\n' }, { what: 'userId' })).rejects.toThrow(/no userIds on standard input/);
    expect(await readIds({ args: [], readStdin: noStdin }, { what: 'userId' })).toEqual([]);
    fs.rmSync(dir, { recursive: true });
  });

  it('masks an ID-card number it refuses', async () => {
    const show = (v: string) => maskIdNumber(v);
    await expect(readIds({ args: ['310104199001011234 '], readStdin: noStdin }, { what: 'ID-card number', show })).rejects.toThrow(
      'ID-card number "310************234 " contains white space',
    );
  });
});

describe('ordered pool', () => {
  it('keeps at most `limit` calls in flight and yields in input order', async () => {
    let inflight = 0;
    let peak = 0;
    const delays = [30, 5, 20, 1, 15, 2, 8];
    const results: number[] = [];
    for await (const r of mapOrdered(delays, 3, async (ms, i) => {
      inflight += 1;
      peak = Math.max(peak, inflight);
      await new Promise((res) => setTimeout(res, ms));
      inflight -= 1;
      return i;
    })) {
      results.push(r);
    }
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(peak).toBe(3);
  });

  it('throws a failure at its position', async () => {
    const seen: number[] = [];
    const run = async () => {
      for await (const r of mapOrdered([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error('boom');
        return n;
      })) {
        seen.push(r);
      }
    };
    await expect(run()).rejects.toThrow('boom');
    expect(seen).toEqual([1]);
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe('table output', () => {
  it('turns one record on its side and escapes control characters', () => {
    const text = renderTable([{ userId: '1', name: 'a\u001b[31mb\nc' }]);
    expect(text).toBe('FIELD   VALUE\nuserId  1\nname    a\\u001b[31mb\\nc\n');
  });

  it('gives several records one line each, with the union of their fields', () => {
    const text = renderTable([
      { userId: '1', name: '王伟' },
      { userId: '22', post: [{ a: 1 }] },
    ]);
    expect(text.split('\n')).toEqual(['userId  name  post', '1       王伟', '22            [{"a":1}]', '']);
  });
});
