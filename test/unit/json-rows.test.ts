import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../src/core/json-rows.js';

// A sync page parsed in slices must equal JSON.parse of the whole body, whatever it holds.
const at = ['data', 'rows'] as const;
const row = (i: number) => ({ userId: String(i), name: `王芳 "${i}" \\ \n`, n: i / 7, nested: { a: [i, '{[,]}'] }, nil: null });

function page(n: number, extra = ''): string {
  const rows = Array.from({ length: n }, (_, i) => row(i));
  return `{"errCode":0,"errMsg":"","data":{"totalNum":${n},"rows":${JSON.stringify(rows, null, i2(n))}${extra}},"requestId":"x"}`;
}
const i2 = (n: number) => (n % 2 ? 1 : undefined);

describe('parseJsonBody', () => {
  it('equals JSON.parse for pages of every size and spacing', () => {
    for (const n of [0, 1, 2, 500, 1001, 4000]) {
      const text = page(n);
      expect(parseJsonBody(Buffer.from(text), at)).toEqual(JSON.parse(text));
    }
  });

  it('follows JSON.parse on odd layouts: keys repeated or escaped, rows elsewhere', () => {
    const big = JSON.stringify(Array.from({ length: 2000 }, (_, i) => row(i)));
    const cases = [
      `{"data":{"rows":${big},"rows":[1]}}`,
      `{"data":{"rows":[1]},"data":{"rows":${big}}}`,
      `{"data":{"r\\u006fws":${big}}}`,
      `{"other":{"rows":${big}},"data":{"totalNum":1}}`,
      `[${big}]`,
    ];
    for (const text of cases) expect(parseJsonBody(Buffer.from(text), at)).toEqual(JSON.parse(text));
  });

  it('throws as JSON.parse does on a torn or malformed body', () => {
    const text = page(3000);
    for (const bad of [text.slice(0, -3), text.replace(/\}\]/, '},]'), text.replace('"rows":[', '"rows":[,'), `${text}x`]) {
      expect(() => JSON.parse(bad)).toThrow(SyntaxError);
      expect(() => parseJsonBody(Buffer.from(bad), at)).toThrow(SyntaxError);
    }
  });
});
