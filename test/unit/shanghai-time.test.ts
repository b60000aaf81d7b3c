import { describe, expect, it } from 'vitest';
import { formatShanghai, parseShanghai, parseShanghaiFast, startOfShanghaiDay } from '../../src/core/sync/shanghai-time.js';

describe('Asia/Shanghai wall time', () => {
  it('matches the ECNU document example: ts=1623161010 is 2021-06-08 22:03:30', () => {
    expect(parseShanghai('2021-06-08 22:03:30')).toBe(1623161010);
    expect(parseShanghaiFast('2021-06-08 22:03:30')).toBe(1623161010);
    expect(formatShanghai(1623161010)).toBe('2021-06-08 22:03:30');
  });

  it('does not depend on the machine time zone', () => {
    const before = process.env['TZ'];
    process.env['TZ'] = 'America/Los_Angeles';
    try {
      expect(parseShanghai('2024-01-01 00:00:00')).toBe(Date.UTC(2023, 11, 31, 16, 0, 0) / 1000);
    } finally {
      if (before === undefined) delete process.env['TZ'];
      else process.env['TZ'] = before;
    }
  });

  it('reads a bare date as midnight and refuses impossible dates', () => {
    expect(parseShanghai('2024-03-01')).toBe(parseShanghai('2024-03-01 00:00:00'));
    expect(parseShanghai('2023-02-30')).toBeUndefined();
    expect(parseShanghai('2023-13-01 00:00:00')).toBeUndefined();
    expect(parseShanghai('yesterday')).toBeUndefined();
    expect(parseShanghaiFast('2023-01-01T00:00:00Z')).toBeUndefined();
    expect(parseShanghaiFast(12)).toBeUndefined();
  });

  it('finds the start of the Shanghai day', () => {
    const t = parseShanghai('2022-12-07 15:30:00')!;
    expect(formatShanghai(startOfShanghaiDay(t))).toBe('2022-12-07 00:00:00');
    const midnight = parseShanghai('2022-12-07 00:00:00')!;
    expect(startOfShanghaiDay(midnight)).toBe(midnight);
    // 07:59 Shanghai is still the previous day in UTC.
    expect(formatShanghai(startOfShanghaiDay(parseShanghai('2022-12-07 07:59:00')!))).toBe('2022-12-07 00:00:00');
  });
});
