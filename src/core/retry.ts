import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamError } from './errors.js';
import { formatSeconds } from './http.js';

/** Bounded retries with exponential backoff and full jitter (AWS architecture blog's "full jitter"). */
export interface RetryPolicy {
  /** Attempts in all, the first included (`--retries N` means N + 1 attempts). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The whole retry budget: no wait may end later than this after the first attempt started. */
  totalMs: number;
  /** Each request as a whole: connecting, headers and the complete body. */
  timeoutMs: number;
  /**
   * The longest Retry-After honoured. A platform asking for more ends the run with a clear
   * error instead: a 429 with `Retry-After: 2000000` once slept 23 days holding the lock.
   */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  totalMs: 5 * 60_000,
  timeoutMs: 60_000,
  maxRetryAfterMs: 60_000,
};

export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Reads Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function wait(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, signal ? { signal } : undefined);
}

/** One retry about to happen: what failed, and how long the wait is and why. */
export interface RetryEvent {
  /** This retry's number, from 1. */
  retry: number;
  /** Retries allowed in all (`--retries`). */
  retries: number;
  delayMs: number;
  /** The platform's Retry-After, when it set the wait. */
  retryAfterMs: number | undefined;
  /** A few words: "connection refused", "HTTP 503". */
  reason: string;
  error: Error;
}

/** "connection refused, retry 2/5 in 4.0 s": the spinner's line. */
export function retrySummary(e: RetryEvent): string {
  return `${e.reason}, retry ${e.retry}/${e.retries} in ${formatSeconds(e.delayMs)}`;
}

/** The --verbose line: the wait, why that long, and the failure in full. */
export function retryDetail(e: RetryEvent): string {
  const why =
    e.retryAfterMs !== undefined && e.retryAfterMs >= e.delayMs
      ? ` (the platform asked: Retry-After ${formatSeconds(e.retryAfterMs)})`
      : '';
  return `retry ${e.retry}/${e.retries} in ${formatSeconds(e.delayMs)}${why}: ${e.error.message}`;
}

/** An attempt's failure as the loop sees it. */
export interface RetryableError extends Error {
  /** Another attempt may succeed. */
  transient?: boolean;
  retryAfterMs?: number | undefined;
  reason?: string;
}

export interface RetryLoopOptions {
  policy: RetryPolicy;
  signal?: AbortSignal;
  now?: () => number;
  /** Injected in tests: no real time passes. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onRetry?: (event: RetryEvent) => void;
}

/** Lets an attempt take time out of the budget that is not the platform's (waiting its turn). */
export interface AttemptContext {
  attempt: number;
  excludeFromBudget(ms: number): void;
}

/**
 * The one retry loop. An attempt throws an Error whose `transient` says whether to try again
 * (UpstreamError, NetworkError, a twice-rejected token); anything else fails at once. Each wait
 * is the backoff or the platform's Retry-After, whichever is longer; a Retry-After beyond
 * `maxRetryAfterMs`, or a wait that would end past the budget, ends the loop without waiting.
 */
export async function retrying<T>(o: RetryLoopOptions, attempt: (ctx: AttemptContext) => Promise<T>): Promise<T> {
  const { policy } = o;
  const now = o.now ?? Date.now;
  const pause = o.sleep ?? wait;
  let started = now();
  const retries = Math.max(0, policy.attempts - 1);
  for (let n = 1; ; n += 1) {
    let failure: RetryableError;
    try {
      return await attempt({ attempt: n, excludeFromBudget: (ms) => (started += ms) });
    } catch (err) {
      if (o.signal?.aborted || !(err instanceof Error)) throw err;
      failure = err;
      if (failure.transient !== true) throw failure;
    }
    const gaveUp = (why: string) => {
      // Several requests may share one failure (a token fetch they all waited on): say it once.
      if ((n > 1 || why) && !failure.message.includes('(gave up after'))
        failure.message += ` (gave up after ${n} attempt${n === 1 ? '' : 's'}${why})`;
      return failure;
    };
    if (n > retries) throw gaveUp('');
    const retryAfterMs = failure.retryAfterMs;
    if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
      throw new UpstreamError(
        `${failure.message}; the platform asks to wait ${formatSeconds(retryAfterMs)} before trying again (Retry-After), more than the ${formatSeconds(policy.maxRetryAfterMs)} idsync waits: try again later`,
        { reason: 'asked to wait too long', cause: failure },
      );
    }
    const delay = Math.max(backoffDelay(policy, n, o.random), retryAfterMs ?? 0);
    if (now() + delay - started > policy.totalMs) {
      throw gaveUp(`: the next retry would pass the ${formatSeconds(policy.totalMs)} retry budget`);
    }
    o.onRetry?.({ retry: n, retries, delayMs: delay, retryAfterMs, reason: failure.reason ?? 'failed', error: failure });
    await pause(delay, o.signal);
  }
}
