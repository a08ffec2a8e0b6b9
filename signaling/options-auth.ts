/** The server's options for authenticating joins with JWTs, with their defaults and checks. */

/** Whether joins need a JWT, and how a token is verified. */
export interface AuthOptions {
  /**
   * `jwt`: every join must carry a JWT naming its room(s) and identity; `none`: no authentication.
   * @default 'none'
   */
  auth?: 'none' | 'jwt';
  /** HS256 shared secret (at least 32 bytes of UTF-8); with `auth: 'jwt'`, this or `jwksUrl`. */
  jwtSecret?: string;
  /** URL of a JSON Web Key Set to verify tokens with; with `auth: 'jwt'`, this or `jwtSecret`. */
  jwksUrl?: string;
  /**
   * Accepted JWS algorithms.
   * @default ['HS256'] with jwtSecret, ['RS256', 'ES256', 'EdDSA'] with jwksUrl
   */
  jwtAlgorithms?: string[];
  /** Required `iss` claim; not checked when absent. */
  jwtIssuer?: string;
  /**
   * Required `aud` claim.
   * @default 'roommesh'
   */
  jwtAudience?: string;
  /**
   * Clock skew tolerated when checking `exp` and `nbf`.
   * @default 5000
   */
  jwtClockToleranceMs?: number;
}

/** Defaults of {@link AuthOptions}; `jwtAlgorithms` depends on the key kind, see {@link DEFAULT_JWT_ALGORITHMS}. */
export const AUTH_DEFAULTS = Object.freeze({
  auth: 'none',
  jwtAlgorithms: undefined as string[] | undefined,
  jwtAudience: 'roommesh',
  jwtClockToleranceMs: 5000,
});

/** Inclusive ranges of the integer {@link AuthOptions}. */
export const AUTH_RANGES = Object.freeze({
  jwtClockToleranceMs: [0, 600_000],
} satisfies Partial<Record<keyof AuthOptions, [number, number]>>);

/** Accepted JWS algorithms by key kind, when `jwtAlgorithms` is not given. */
export const DEFAULT_JWT_ALGORITHMS = Object.freeze({ secret: ['HS256'], jwks: ['RS256', 'ES256', 'EdDSA'] });

const HMAC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512']);
const ASYMMETRIC_ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/**
 * Checks the auth mode and, with `jwt`, the key, algorithms and claims; calls `fail` for the first bad one.
 * `given`: the options as given, before defaults (a JWT setting given without `auth: 'jwt'` is refused).
 * Returns the accepted algorithms (the key kind's defaults when none were given; empty without auth).
 */
export function checkAuthOptions(
  o: Omit<AuthOptions, 'jwtAlgorithms'> &
    Required<Pick<AuthOptions, 'auth' | 'jwtAudience' | 'jwtClockToleranceMs'>> & {
      jwtAlgorithms?: string[] | undefined;
    },
  fail: (key: keyof AuthOptions, message: string) => never,
  given: Partial<Record<keyof AuthOptions, unknown>>,
): string[] {
  if (o.auth !== 'none' && o.auth !== 'jwt') fail('auth', `must be none or jwt, got ${JSON.stringify(o.auth)}`);
  let jwtAlgorithms: string[] = o.jwtAlgorithms ?? [];
  if (o.auth !== 'jwt') {
    // A JWT setting without --auth jwt: most likely ROOMMESH_AUTH=jwt was forgotten, and the server would
    // run open to anyone, with no word of it.
    const jwtKeys = [
      'jwtSecret',
      'jwksUrl',
      'jwtAlgorithms',
      'jwtIssuer',
      'jwtAudience',
      'jwtClockToleranceMs',
    ] as const;
    const jwtKey = jwtKeys.find((k) => given[k] !== undefined);
    if (jwtKey !== undefined)
      fail(
        jwtKey,
        'is for auth jwt, and auth is none: set auth to jwt to require tokens (--resume-secret keys resume tokens)',
      );
  }
  if (o.auth === 'jwt') {
    const hasSecret = o.jwtSecret !== undefined;
    const hasJwks = o.jwksUrl !== undefined;
    if (hasSecret === hasJwks)
      fail(hasSecret ? 'jwksUrl' : 'jwtSecret', 'with auth jwt, give exactly one of a JWT secret and a JWKS URL');
    if (hasSecret && (typeof o.jwtSecret !== 'string' || Buffer.byteLength(o.jwtSecret) < 32))
      fail('jwtSecret', 'must be at least 32 bytes long (HS256 needs a 256-bit key)');
    if (hasJwks) {
      let url: URL | undefined;
      try {
        url = new URL(String(o.jwksUrl));
      } catch {
        url = undefined;
      }
      if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:'))
        fail('jwksUrl', `must be an http(s) URL, got "${String(o.jwksUrl)}"`);
    }
    jwtAlgorithms = o.jwtAlgorithms ?? (hasSecret ? DEFAULT_JWT_ALGORITHMS.secret : DEFAULT_JWT_ALGORITHMS.jwks);
    const allowed = hasSecret ? HMAC_ALGORITHMS : ASYMMETRIC_ALGORITHMS;
    if (!Array.isArray(jwtAlgorithms) || jwtAlgorithms.length === 0 || !jwtAlgorithms.every((a) => allowed.has(a))) {
      fail(
        'jwtAlgorithms',
        `must list algorithms among ${[...allowed].join(', ')} for ${hasSecret ? 'a shared secret' : 'a JWKS'}, got ${JSON.stringify(jwtAlgorithms)}`,
      );
    }
    if (typeof o.jwtAudience !== 'string' || o.jwtAudience.length === 0)
      fail('jwtAudience', 'must be a non-empty string');
    if (o.jwtIssuer !== undefined && (typeof o.jwtIssuer !== 'string' || o.jwtIssuer.length === 0))
      fail('jwtIssuer', 'must be a non-empty string');
  }
  return jwtAlgorithms;
}
