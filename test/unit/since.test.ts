import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/core/since.js';
import { UsageError } from '../../src/core/errors.js';

const now = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('parseSince', () => {
  it.each([
    [undefined, { kind: 'full' }],
    ['0', { kind: 'full' }],
    ['last', { kind: 'last' }],
    ['1623161010', { kind: 'at', unix: 1623161010 }],
    ['2021-06-08 22:03:30', { kind: 'at', unix: 1623161010 }],
    ['2021-06-08', { kind: 'at', unix: 1623081600 }],
  ])('%s', (raw, expected) => {
    expect(parseSince(raw, now)).toEqual(expected);
  });

  it.each(['yesterday', '-5', '1.5', '2021-13-01', '1700000000000', '2099-01-01', '', 'LAST'])('refuses %j', (raw) => {
    expect(() => parseSince(raw, now)).toThrow(UsageError);
  });
});
