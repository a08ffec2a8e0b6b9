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
 *
 * Single use. A signature alone made a token a 24 h bearer pass: replaying a used one took over the live
 * connection (peers heard nothing, signals went out stamped with the victim's id), and a token outlived a
 * goodbye. So each token also names a generation (`gen`, 128 random bits) that the membership store keeps
 * with the member, and the store decides, in one atomic step (one Lua script in a fleet, so two resumes
 * racing with one token cannot both win):
 * - member present: the token's `gen` must be the stored one, and the resume rotates it; the reply's token
 *   names the new one, so every token works once. Exception: while the member is *held* (its connection
 *   dropped, no other stands for it) the generation just before is also taken, for a client whose resume
 *   reply was lost with its connection; a token cannot take a live connection that way.
 * - member removed without a goodbye (grace over, its process died or closed): the store *parks* its
 *   generation for the token lifetime, and only that generation brings it back.
 * - member removed by a goodbye: nothing is kept, so its tokens are refused: a goodbye revokes them.
 * - nothing known because the store itself is new (a restarted single server; a Redis that lost its data):
 *   each token also names the store's epoch (`ep`). A token of an earlier epoch, for a member the store
 *   has no record of, is taken once per member within `resumeGraceMs` of the epoch's start: a restart
 *   holds everyone for the grace, as a dropped connection would be; later or a second time, it is refused.
 * Since only the latest token of a participant resumes it, a resume still closes an older connection of
 * the same participant (half-open after a network change): whoever presents the latest token is the client
 * that was given it. The trade-offs: a used token stays good while the member is held (above), and a client
 * whose resume reply is lost while its old connection still looks live gets `ResumeInvalid` and must join
 * again.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { ParticipantInfo } from '../lib/protocol/signaling.js';
import { checkParticipantInfo } from '../lib/protocol/signaling-checks.js';

/** The audience of every resume token. */
const RESUME_AUDIENCE = 'roommesh-resume';

/** What a valid resume token says. */
export interface ResumeClaims {
  room: string;
  info: ParticipantInfo;
  /** When the join token that admitted the participant expires, if auth is on: no resume token outlives it. */
  untilMs: number | undefined;
  /** The generation the token names: it resumes only while the store holds this one (see the header). */
  gen: string;
  /** The membership store's epoch when the token was issued. */
  epoch: string;
}

/** What ties a token to one moment of a member: its generation and the store's epoch. */
export interface TokenGeneration {
  gen: string;
  epoch: string;
}

/** A fresh generation: 128 random bits, base64url. */
export function newGeneration(): string {
  return randomBytes(16).toString('base64url');
}

/** Generations and epochs are short opaque strings without spaces (the Redis store joins them with spaces). */
const GENERATION = /^[A-Za-z0-9_-]{8,64}$/;

/** A resume token was refused: forged, expired, or not this server's. */
export class ResumeTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeTokenError';
  }
}

/** The key to sign resume tokens with, from the options; undefined when a fleet must share a random one. */
export function resumeKeyFromOptions(opts: {
  resumeSecret?: string | undefined;
  jwtSecret?: string | undefined;
  adapter: string;
}): Uint8Array | undefined {
  if (opts.resumeSecret !== undefined) return new TextEncoder().encode(opts.resumeSecret);
  // Domain-separated: the join secret itself never signs a resume token.
  if (opts.jwtSecret !== undefined)
    return new Uint8Array(createHmac('sha256', opts.jwtSecret).update('roommesh resume tokens v1').digest());
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
  issue(room: string, info: ParticipantInfo, generation: TokenGeneration, untilMs?: number): Promise<string> {
    const expiresAtMs = Math.min(Date.now() + this.#ttlMs, untilMs ?? Number.POSITIVE_INFINITY);
    const claims = { room, name: info.name, jat: info.joinedAtMs, gen: generation.gen, ep: generation.epoch };
    return new SignJWT(untilMs === undefined ? claims : { ...claims, until: untilMs })
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
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        audience: RESUME_AUDIENCE,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      const expired = err instanceof errors.JWTExpired;
      throw new ResumeTokenError(
        expired
          ? 'the resume token has expired: join again'
          : 'the resume token was not issued by this server: join again',
      );
    }
    const info = checkParticipantInfo({ id: payload.sub, name: payload.name, joinedAtMs: payload.jat });
    if (!info.ok || typeof payload.room !== 'string' || payload.room.length === 0)
      throw new ResumeTokenError('the resume token does not name a participant of a room');
    const untilMs = payload.until;
    if (untilMs !== undefined && (typeof untilMs !== 'number' || !Number.isFinite(untilMs)))
      throw new ResumeTokenError('the resume token has a bad until claim');
    const { gen, ep } = payload;
    if (typeof gen !== 'string' || !GENERATION.test(gen) || typeof ep !== 'string' || !GENERATION.test(ep)) {
      throw new ResumeTokenError('the resume token names no generation: join again');
    }
    return { room: payload.room, info: info.value, untilMs, gen, epoch: ep };
  }
}
