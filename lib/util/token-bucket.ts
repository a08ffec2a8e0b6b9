/** A token bucket: rate limiting on the server, pacing on the client (so the server never has to refuse). */

/** A token bucket: `ratePerSecond` tokens flow in, at most `burst` are held; each event takes one. */
export class TokenBucket {
  #tokens: number;
  #atMs: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    nowMs: number,
  ) {
    this.#tokens = burst;
    this.#atMs = nowMs;
  }

  /** Takes `count` tokens if there are that many; false (nothing taken) means the event is over the limit. */
  take(nowMs: number, count = 1): boolean {
    this.#refill(nowMs);
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }

  /** Milliseconds until `count` tokens will be there (0: now); Infinity when `count` is over the burst. */
  msUntil(nowMs: number, count = 1): number {
    this.#refill(nowMs);
    if (this.#tokens >= count) return 0;
    if (count > this.burst || this.ratePerSecond <= 0) return Infinity;
    return ((count - this.#tokens) * 1000) / this.ratePerSecond;
  }

  #refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.#atMs);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsedMs * this.ratePerSecond) / 1000);
    this.#atMs = nowMs;
  }
}
