/**
 * The keys of a JSON Web Key Set URL, for verifying join tokens: jose's remote set (cached, refetched on
 * an unknown `kid` at most once per cooldown, fetched with a timeout), kept usable through a key server's
 * outage. jose drops its keys once they are `cacheMaxAge` old and the refetch fails, so a key server down
 * for longer than that refused every join `Unavailable`, the keys of tokens already issued included.
 * Here the last keys fetched stay in use while the key server cannot be reached, up to `staleMaxMs` old,
 * and it is asked again at most once per `cooldownMs` meanwhile (a join does not wait out a fetch
 * timeout each). A token whose `kid` the last keys do not have is refused `Unavailable`, not
 * `TokenInvalid`: its key may be a new one the outage hides.
 *
 * The price is a revocation: a key taken out of the set stays trusted until the key server answers again,
 * or for `staleMaxMs` at most. A key server that answers with a set without it revokes it at once.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwksCache,
  type JSONWebKeySet,
  type JWKSCacheInput,
  type JWTVerifyGetKey,
} from 'jose';
import type { ServerLogger } from './options-serving.js';

/** Timings of a {@link remoteKeys} set. */
export interface JwksTimings {
  /** A fetch is abandoned after this long. */
  timeoutMs: number;
  /** Least time between two fetches after a failed one, and between refetches for an unknown `kid`. */
  cooldownMs: number;
  /** Keys this old are fetched again before use. */
  cacheMaxAgeMs: number;
  /** Keys this old are not used any more, even when the key server cannot be reached. */
  staleMaxMs: number;
}

/** The timings the server uses: a slow key server must not hold joins for long, nor an outage refuse them. */
export const JWKS_TIMINGS: Readonly<JwksTimings> = Object.freeze({
  timeoutMs: 5000,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 10 * 60_000,
  staleMaxMs: 24 * 60 * 60_000,
});

/** A key set over keys in hand. */
type LocalKeys = ReturnType<typeof createLocalJWKSet>;

/** Whether jose's `err`, from getting a key, says that the key set could not be fetched or read. */
function isFetchFailure(err: unknown): boolean {
  return !(err instanceof errors.JWKSNoMatchingKey) && !(err instanceof errors.JWKSMultipleMatchingKeys);
}

/** The key set at `url`, for jose's `jwtVerify`, its last keys kept through an outage (see the file comment). */
export function remoteKeys(url: URL, timings: JwksTimings, logger: ServerLogger): JWTVerifyGetKey {
  // jose writes each fetch's keys and time here (its documented cache export).
  const cache: { jwks?: JSONWebKeySet; uat?: number } = {};
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: timings.timeoutMs,
    cooldownDuration: timings.cooldownMs,
    cacheMaxAge: timings.cacheMaxAgeMs,
    [jwksCache]: cache as JWKSCacheInput,
  });
  /** A local set over the keys of the fetch at `uat`. */
  let last: { uat: number; keys: LocalKeys } | undefined;
  /** When the last fetch failed, while the outage lasts. */
  let failedAtMs: number | undefined;

  /** The keys fetched last, unless older than `staleMaxMs`. */
  const lastKeys = (nowMs: number): LocalKeys | undefined => {
    if (cache.uat === undefined || cache.jwks === undefined || nowMs - cache.uat > timings.staleMaxMs) return undefined;
    if (last?.uat !== cache.uat) last = { uat: cache.uat, keys: createLocalJWKSet(cache.jwks) };
    return last.keys;
  };

  return async (header, token) => {
    const nowMs = Date.now();
    const fallback = lastKeys(nowMs);
    // In an outage, the key server is asked once per cooldown, not by every join.
    if (fallback !== undefined && failedAtMs !== undefined && nowMs - failedAtMs < timings.cooldownMs) {
      try {
        return await fallback(header, token);
      } catch (err) {
        throw unavailable(err);
      }
    }
    try {
      const key = await remote(header, token);
      if (failedAtMs !== undefined) logger.info({ url: url.href }, 'the JWKS key server answers again');
      failedAtMs = undefined;
      return key;
    } catch (err) {
      if (!isFetchFailure(err) || fallback === undefined) throw err;
      if (failedAtMs === undefined)
        logger.warn(
          { url: url.href, keysAgeMs: nowMs - (cache.uat ?? nowMs) },
          'the JWKS key server cannot be reached; verifying with the keys it gave last',
        );
      failedAtMs = Date.now();
      try {
        return await fallback(header, token);
      } catch (lookup) {
        throw unavailable(lookup);
      }
    }
  };
}

/** What a token whose key the last keys lack gets in an outage: the key server's failure, not a bad token. */
function unavailable(err: unknown): unknown {
  return isFetchFailure(err) ? err : new errors.JWKSTimeout('the key server cannot be reached to look up this key');
}
