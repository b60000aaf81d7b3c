import type { WatermarkGranularity } from '../provider.js';
import { startOfShanghaiDay } from './shanghai-time.js';

export interface WatermarkInput {
  /** The watermark this run asked from (undefined: a full pull). */
  since: number | undefined;
  /** Latest update time among the rows this run received, unix seconds. */
  maxSeen: number | undefined;
  /** The server's clock when it answered the first page (Date header), unix seconds. */
  serverStart: number | undefined;
  /** The scan may have missed rows (totalNum moved, a key came twice). */
  unstable: boolean;
  granularity: WatermarkGranularity;
  overlapSeconds: number;
}

/**
 * The watermark for the next run: the earliest moment after which this run may not have
 * seen every change. It comes from the platform's own clocks (the local one stands in for the
 * server's Date only where a platform sends none; see runPull):
 * - the newest update time among the rows received (the data's clock), capped by
 * - the server's Date when the scan began, because a row changed while we were paging can
 *   move between pages and be missed, but it is stamped after the scan began;
 * - minus an overlap, because the platforms do not say whether they compare with > or >=,
 *   rows stamped in the same second may still be committing, and the next run's
 *   duplicates are merged by key anyway;
 * - on a platform whose stamps are only precise to the day (Tongji), back to the start of
 *   that day, so that a change later the same day (stamped 00:00:00) is asked for again.
 * With nothing received the watermark stays where it was: an empty answer says nothing
 * about the data's clock.
 *
 * An unstable scan does not move it at all. The server-clock cap covers the rows that changed
 * while we paged, not the rows they pushed aside: on a platform that orders rows by update
 * time (API.md leaves the order open), a row changed mid-scan jumps to the end and the row
 * after its old place slips onto a page already read - an unchanged row, stamped any time
 * since `since`. Only asking for the same window again (or a full pull again) finds it.
 */
export function nextWatermark(input: WatermarkInput): number | undefined {
  const { since, maxSeen, serverStart, unstable } = input;
  if (unstable) return since;
  let mark: number | undefined;
  if (maxSeen === undefined) mark = since ?? serverStart;
  else if (serverStart !== undefined) mark = Math.min(maxSeen, serverStart);
  else mark = maxSeen;
  if (mark === undefined) return undefined;
  if (mark === since) return since;
  // Stamps to the second: at least one second back, since with no overlap a row changed in the
  // very second of the mark, after we read it, is not "after" the mark where the platform
  // compares with > (day stamps reach back to the previous day below anyway).
  mark -= input.granularity === 'second' ? Math.max(1, input.overlapSeconds) : input.overlapSeconds;
  if (input.granularity === 'day') mark = startOfShanghaiDay(mark) - 1;
  return mark > 0 ? mark : undefined;
}
