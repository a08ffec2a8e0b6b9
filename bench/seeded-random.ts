/** A seeded pseudo-random number generator (xorshift32), so that a soak participant's choices can be replayed from its seed. */

/** Returns a function giving numbers in [0, 1) from `seed` (any integer; 0 is taken as 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}
