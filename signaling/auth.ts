/**
 * JWT authentication of joins, with jose: a token names the room(s) it may join and the participant's
 * identity. The server takes the name (and an optional fixed id) from the token, never from the client.
 *
 * Claims: `room` (a string) or `rooms` (strings), or `allRooms: true` for every room; `name` (the
 * participant's name), optional `pid` (a fixed participant id; `sub` is not used because one user often
 * has several tabs or devices in one room, and ids must be unique in a room), and `exp`, which is required.
 *
 * The wildcard is a boolean claim of its own, not a room name: apps copy user-chosen room names into
 * `room` and `rooms`, and a `"*"` there would hand every room to whoever named a room `*`. So `"*"` in
 * `room` or `rooms` refuses the token, and no client may join a room named `*` (checkJoinRequest).
 */
import { errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isName } from '../lib/protocol/signaling-guards.js';
import { MAX_NAME_LENGTH, type SignalingErrorReason } from '../lib/protocol/signaling.js';
import { JWKS_TIMINGS, remoteKeys } from './jwks.js';
import type { ResolvedServerOptions } from './options.js';

/** Who a token says the participant is. */
export interface Identity {
  name: string;
  /** A participant id fixed by the token; the server assigns one when absent. */
  pid?: string;
  /** When the token expires (its `exp`): resume tokens issued to this participant do not outlive it. */
  expiresAtMs: number;
}

/** Why a token was refused. */
export type AuthFailureReason = Extract<
  SignalingErrorReason,
  'TokenMissing' | 'TokenInvalid' | 'TokenExpired' | 'RoomNotAllowed' | 'Unavailable'
>;

/** A join's token was refused; `reason` is what the client is told. */
export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Verifies join tokens. */
export interface Authenticator {
  /** The identity a valid token for `room` names; rejects with {@link AuthError}. */
  verify(token: string | undefined, room: string): Promise<Identity>;
}

/** An authenticator for the options, or undefined when auth is off. */
export function createAuthenticator(opts: ResolvedServerOptions): Authenticator | undefined {
  if (opts.auth !== 'jwt') return undefined;
  const key: Uint8Array | JWTVerifyGetKey =
    opts.jwtSecret !== undefined
      ? new TextEncoder().encode(opts.jwtSecret)
      : remoteKeys(new URL(String(opts.jwksUrl)), JWKS_TIMINGS, opts.logger);
  const verifyOptions = {
    algorithms: opts.jwtAlgorithms,
    audience: opts.jwtAudience,
    ...(opts.jwtIssuer !== undefined ? { issuer: opts.jwtIssuer } : {}),
    clockTolerance: opts.jwtClockToleranceMs / 1000,
    requiredClaims: ['exp'],
  };
  return {
    async verify(token, room) {
      if (token === undefined || token.length === 0)
        throw new AuthError('TokenMissing', 'this server requires a token in the join request');
      let payload: JWTPayload;
      try {
        // Two call shapes because jose overloads on the key kind.
        payload =
          typeof key === 'function'
            ? (await jwtVerify(token, key, verifyOptions)).payload
            : (await jwtVerify(token, key, verifyOptions)).payload;
      } catch (err) {
        throw toAuthError(err);
      }
      return identityFor(payload, room);
    },
  };
}

function toAuthError(err: unknown): AuthError {
  if (err instanceof errors.JWTExpired) return new AuthError('TokenExpired', 'the token has expired');
  if (err instanceof errors.JWKSTimeout)
    return new AuthError('Unavailable', 'the key server did not answer in time; try again');
  if (err instanceof errors.JWTClaimValidationFailed)
    return new AuthError('TokenInvalid', `the token's ${err.claim} claim is not accepted (${err.reason})`);
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new AuthError('TokenInvalid', 'the token is signed with an algorithm this server does not accept');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new AuthError('TokenInvalid', 'the token signature is not valid');
  if (err instanceof errors.JWKSNoMatchingKey)
    return new AuthError('TokenInvalid', 'no key of the key set matches the token');
  // A key set that cannot be fetched or read: not the client's fault.
  if (err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError) || err.code === 'ERR_JOSE_GENERIC') {
    return new AuthError('Unavailable', 'the key server cannot be reached; try again');
  }
  return new AuthError('TokenInvalid', 'the token is not a valid JWT');
}

/** Participant ids fixed by tokens: plain characters only, as they end up in keys and room names. */
const PID_PATTERN = new RegExp(`^[A-Za-z0-9._:@-]{1,${MAX_NAME_LENGTH}}$`);

/** A room name that only ever meant "every room"; refused in the room claims (see the file comment). */
const WILDCARD = '*';

/** The identity the claims give for `room`; throws {@link AuthError} when they do not fit. */
export function identityFor(payload: JWTPayload, room: string): Identity {
  const allRooms = payload.allRooms;
  if (allRooms !== undefined && allRooms !== true)
    throw new AuthError('TokenInvalid', 'the allRooms claim, when present, must be true');
  const rooms: unknown[] =
    payload.rooms !== undefined
      ? Array.isArray(payload.rooms)
        ? payload.rooms
        : [payload.rooms]
      : payload.room !== undefined || allRooms !== true
        ? [payload.room]
        : [];
  if (rooms.includes(WILDCARD)) {
    throw new AuthError(
      'TokenInvalid',
      '"*" in the room or rooms claim is not a wildcard; a token for every room carries allRooms: true',
    );
  }
  if ((rooms.length === 0 && allRooms !== true) || rooms.length > 1000 || !rooms.every(isName)) {
    throw new AuthError(
      'TokenInvalid',
      'the token must name its room in a room claim, its rooms in a rooms claim, or carry allRooms: true',
    );
  }
  if (!isName(payload.name))
    throw new AuthError(
      'TokenInvalid',
      `the token must carry a name claim of 1 to ${MAX_NAME_LENGTH} UTF-16 code units, well-formed`,
    );
  if (payload.pid !== undefined && (typeof payload.pid !== 'string' || !PID_PATTERN.test(payload.pid))) {
    throw new AuthError('TokenInvalid', `the pid claim must be 1 to ${MAX_NAME_LENGTH} letters, digits or . _ : @ -`);
  }
  if (allRooms !== true && !rooms.includes(room))
    throw new AuthError('RoomNotAllowed', 'the token does not allow this room');
  // exp is a required claim: jose has checked it is there and in the future.
  const expiresAtMs = (payload.exp as number) * 1000;
  return payload.pid !== undefined
    ? { name: payload.name, pid: payload.pid, expiresAtMs }
    : { name: payload.name, expiresAtMs };
}

/** What a development token says. */
export interface MintOptions {
  secret: string;
  /** Rooms the token may join; empty with `allRooms`. `"*"` is refused: it is not a wildcard. */
  rooms: string[];
  /**
   * The token may join every room (the `allRooms: true` claim).
   * @default false
   */
  allRooms?: boolean;
  name: string;
  pid?: string;
  /** @default 3600000 */
  ttlMs?: number;
  /** @default 'roommesh' */
  audience?: string;
  issuer?: string;
}

/**
 * Signs an HS256 token for development (`roommesh-signal token`).
 * @example
 * const token = await mintToken({ secret, rooms: ['design-review'], name: 'alice' });
 */
export async function mintToken(o: MintOptions): Promise<string> {
  if (o.rooms.includes(WILDCARD))
    throw new RangeError('"*" is not a wildcard room; set allRooms for a token that joins every room');
  if (o.rooms.length === 0 && o.allRooms !== true)
    throw new RangeError('a token names at least one room, or sets allRooms');
  // What identityFor would refuse at join: a token minted here always works there.
  if (!o.rooms.every(isName))
    throw new RangeError(`every room is 1 to ${MAX_NAME_LENGTH} UTF-16 code units, well-formed, not blank`);
  if (!isName(o.name))
    throw new RangeError(`the name is 1 to ${MAX_NAME_LENGTH} UTF-16 code units, well-formed, not blank`);
  if (o.pid !== undefined && !PID_PATTERN.test(o.pid))
    throw new RangeError(`the pid is 1 to ${MAX_NAME_LENGTH} letters, digits or . _ : @ -`);
  const claims: JWTPayload =
    o.rooms.length === 0
      ? { name: o.name }
      : o.rooms.length === 1
        ? { room: o.rooms[0], name: o.name }
        : { rooms: o.rooms, name: o.name };
  if (o.allRooms === true) claims.allRooms = true;
  if (o.pid !== undefined) claims.pid = o.pid;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setAudience(o.audience ?? 'roommesh')
    .setExpirationTime(Math.floor((Date.now() + (o.ttlMs ?? 3_600_000)) / 1000));
  if (o.issuer !== undefined) jwt = jwt.setIssuer(o.issuer);
  return jwt.sign(new TextEncoder().encode(o.secret));
}
