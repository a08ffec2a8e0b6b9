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

/**
 * One token bucket per key, holding at most `maxKeys` buckets so that many distinct keys (addresses on
 * the server, participants in the mesh) cannot grow memory without bound. Buckets are kept in least-recently-used order; when the map is full
 * the least recently used one is dropped, which at worst lets that key start again with a full bucket.
 */
export class KeyedRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    readonly maxKeys: number,
  ) {}

  /** Takes a token from `key`'s bucket; false means `key` is over the limit. */
  take(key: string, nowMs: number): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket !== undefined)
      this.#buckets.delete(key); // re-inserted below: most recently used last
    else {
      if (this.#buckets.size >= this.maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      bucket = new TokenBucket(this.ratePerSecond, this.burst, nowMs);
    }
    const ok = bucket.take(nowMs);
    this.#buckets.set(key, bucket);
    return ok;
  }

  /** Number of keys tracked. */
  get size(): number {
    return this.#buckets.size;
  }
}
