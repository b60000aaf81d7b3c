import { describe, expect, it } from 'vitest';
import { nextWatermark, type WatermarkInput } from '../../src/core/sync/watermark.js';
import { formatShanghai, parseShanghai } from '../../src/core/sync/shanghai-time.js';

const base: WatermarkInput = {
  since: undefined,
  maxSeen: undefined,
  serverStart: undefined,
  unstable: false,
  granularity: 'second',
  overlapSeconds: 300,
};

describe('nextWatermark', () => {
  it('takes the newest row minus the overlap', () => {
    expect(nextWatermark({ ...base, maxSeen: 10_000, serverStart: 20_000 })).toBe(9_700);
  });

  it('is capped by the server clock at the start of the scan (rows changed while paging)', () => {
    // A row changed at 10_500 while the scan ran; another changed at 10_200 could have
    // shifted between pages unseen: the next run must reach back before the scan began.
    expect(nextWatermark({ ...base, maxSeen: 10_500, serverStart: 10_100 })).toBe(9_800);
  });

  it('ignores the local clock entirely: server hours ahead or behind', () => {
    const hoursAhead = nextWatermark({ ...base, maxSeen: 1_700_000_000 + 7200, serverStart: 1_700_000_000 + 7300 });
    expect(hoursAhead).toBe(1_700_000_000 + 7200 - 300);
  });

  it('stays put when nothing came back', () => {
    expect(nextWatermark({ ...base, since: 5_000, serverStart: 99_999 })).toBe(5_000);
  });

  it('a full pull with no rows uses the server clock, or nothing when unstable', () => {
    expect(nextWatermark({ ...base, serverStart: 50_000 })).toBe(49_700);
    expect(nextWatermark({ ...base, unstable: true })).toBeUndefined();
  });

  it('does not advance an unstable scan without a server clock', () => {
    expect(nextWatermark({ ...base, since: 4_000, maxSeen: 9_000, unstable: true })).toBe(4_000);
    expect(nextWatermark({ ...base, maxSeen: 9_000, unstable: true })).toBeUndefined();
  });

  it('does not advance an unstable scan at all, server clock or not: rows pushed aside may be old', () => {
    // Incremental: the same window again. A row that slipped onto a page already read changed
    // some time after 4_000; 9_000 and 8_000 say nothing about it.
    expect(nextWatermark({ ...base, since: 4_000, maxSeen: 9_000, serverStart: 8_000, unstable: true })).toBe(4_000);
    // Full: a full pull again, since the row pushed aside may not have changed in years.
    expect(nextWatermark({ ...base, maxSeen: 9_000, serverStart: 8_000, unstable: true })).toBeUndefined();
    expect(nextWatermark({ ...base, since: 4_000, serverStart: 8_000, unstable: true })).toBe(4_000);
  });

  it('reaches back at least one second even with no overlap (a change later in the same second)', () => {
    expect(nextWatermark({ ...base, maxSeen: 10_000, serverStart: 20_000, overlapSeconds: 0 })).toBe(9_999);
    expect(nextWatermark({ ...base, since: 5_000, maxSeen: 10_000, serverStart: 9_000, overlapSeconds: 0 })).toBe(8_999);
  });

  it('day granularity reaches back to the start of the day, so same-day changes come again', () => {
    const maxSeen = parseShanghai('2022-12-07 00:00:00')!;
    const serverStart = parseShanghai('2022-12-07 10:00:00')!;
    const mark = nextWatermark({ ...base, granularity: 'day', maxSeen, serverStart, overlapSeconds: 0 })!;
    expect(formatShanghai(mark)).toBe('2022-12-06 23:59:59');
    // A change later that day is stamped 2022-12-07 00:00:00, which is after the mark.
    expect(parseShanghai('2022-12-07 00:00:00')!).toBeGreaterThan(mark);
  });

  it('with overlap crossing midnight goes to the previous day', () => {
    const maxSeen = parseShanghai('2022-12-07 00:02:00')!;
    const mark = nextWatermark({ ...base, granularity: 'day', maxSeen, serverStart: maxSeen + 10 })!;
    expect(formatShanghai(mark)).toBe('2022-12-05 23:59:59');
  });

  it('never returns a watermark at or below zero', () => {
    expect(nextWatermark({ ...base, maxSeen: 100, serverStart: 100 })).toBeUndefined();
  });
});
