/**
 * Resume tokens: the server's signed word, given at join, that a connection is participant `id` of
 * `room`. A client whose connection drops presents it on a new connection (`resume`) and carries on under
 * the same id, so nobody sees it leave and come back. HS256 JWTs (jose), with their own audience so a
 * resume token is never taken for a join token or the other way round.
 *
 * The key: `resumeSecret` when given; else derived from `jwtSecret` (so a restarted server with auth
 * accepts the tokens of its previous run); else, in a Redis fleet, one random key shared through Redis
 * (every process must accept every other's tokens); else a random key of this process, which a restart
 * forgets: set `resumeSecret` to let participants survive a restart of a single server.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { checkParticipantInfo, type ParticipantInfo } from '../lib/protocol/signaling.js';

/** The audience of every resume token. */
const RESUME_AUDIENCE = 'roommesh-resume';

/** What a valid resume token says. */
export interface ResumeClaims {
  room: string;
  info: ParticipantInfo;
  /** When the join token that admitted the participant expires, if auth is on: no resume token outlives it. */
  untilMs: number | undefined;
}

/** A resume token was refused: forged, expired, or not this server's. */
export class ResumeTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeTokenError';
  }
}

/** The key to sign resume tokens with, from the options; undefined when a fleet must share a random one. */
export function resumeKeyFromOptions(opts: { resumeSecret?: string | undefined; jwtSecret?: string | undefined; adapter: string }): Uint8Array | undefined {
  if (opts.resumeSecret !== undefined) return new TextEncoder().encode(opts.resumeSecret);
  // Domain-separated: the join secret itself never signs a resume token.
  if (opts.jwtSecret !== undefined) return new Uint8Array(createHmac('sha256', opts.jwtSecret).update('roommesh resume tokens v1').digest());
  return opts.adapter === 'redis' ? undefined : new Uint8Array(randomBytes(32));
}

/** Issues and verifies resume tokens with one key. */
export class ResumeTokens {
  readonly #key: Uint8Array;
  readonly #ttlMs: number;

  constructor(key: Uint8Array, ttlMs: number) {
    this.#key = key;
    this.#ttlMs = ttlMs;
  }

  /**
   * A token naming `info` in `room`, valid for the configured time, and never past `untilMs` (the
   * expiry of the join token that admitted the participant): resuming does not extend what auth granted.
   */
  issue(room: string, info: ParticipantInfo, untilMs?: number): Promise<string> {
    const expiresAtMs = Math.min(Date.now() + this.#ttlMs, untilMs ?? Number.POSITIVE_INFINITY);
    return new SignJWT(untilMs === undefined ? { room, name: info.name, jat: info.joinedAtMs } : { room, name: info.name, jat: info.joinedAtMs, until: untilMs })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(info.id)
      .setAudience(RESUME_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(new Date(expiresAtMs))
      .sign(this.#key);
  }

  /** What a token says; rejects with {@link ResumeTokenError} for any token this server would not have issued or that expired. */
  async verify(token: string): Promise<ResumeClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, { algorithms: ['HS256'], audience: RESUME_AUDIENCE, requiredClaims: ['exp', 'sub'] }));
    } catch (err) {
      const expired = err instanceof errors.JWTExpired;
      throw new ResumeTokenError(expired ? 'the resume token has expired: join again' : 'the resume token was not issued by this server: join again');
    }
    const info = checkParticipantInfo({ id: payload.sub, name: payload.name, joinedAtMs: payload.jat });
    if (!info.ok || typeof payload.room !== 'string' || payload.room.length === 0) throw new ResumeTokenError('the resume token does not name a participant of a room');
    const untilMs = payload.until;
    if (untilMs !== undefined && (typeof untilMs !== 'number' || !Number.isFinite(untilMs))) throw new ResumeTokenError('the resume token has a bad until claim');
    return { room: payload.room, info: info.value, untilMs };
  }
}
