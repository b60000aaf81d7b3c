import { wait } from './retry.js';

/**
 * Spaces request starts so a run stays under a platform's published rate (Tongji: 50 requests/s
 * per application and IP) instead of provoking 429s and their back-off.
 */
export class RateLimiter {
  readonly #intervalMs: number;
  #nextAt = 0;

  constructor(perSecond: number) {
    this.#intervalMs = 1000 / perSecond;
  }

  async take(signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.#nextAt);
    this.#nextAt = at + this.#intervalMs;
    await wait(at - now, signal);
  }
}
