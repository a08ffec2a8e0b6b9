/**
 * The ICE servers handed to a client in its join reply: the static list, STUN URLs, and TURN URLs with
 * time-limited credentials in the TURN REST scheme that coturn's `use-auth-secret` understands:
 * username `<expiry unix seconds>:<participant id>`, credential base64(HMAC-SHA1(secret, username)).
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '../lib/protocol/signaling.js';
import type { ResolvedServerOptions } from './options.js';

/** ICE servers for one participant, and when their TURN credentials expire. */
export interface IceGrant {
  iceServers: IceServer[];
  /** Absent when there is no TURN entry. */
  expireAtMs?: number;
}

/** TURN REST credentials for `userId`, valid until `expireAtMs`. */
export function turnCredentials(
  secret: string,
  userId: string,
  expireAtMs: number,
): { username: string; credential: string } {
  const username = `${Math.floor(expireAtMs / 1000)}:${userId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** The ICE servers to hand to participant `participantId` now. */
export function iceGrant(
  opts: Pick<ResolvedServerOptions, 'iceServers' | 'stunUrls' | 'turnUrls' | 'turnSecret' | 'turnCredentialTtlMs'>,
  participantId: string,
  nowMs: number,
): IceGrant {
  const iceServers: IceServer[] = opts.iceServers.map((s) => ({ ...s }));
  if (opts.stunUrls.length > 0) iceServers.push({ urls: [...opts.stunUrls] });
  if (opts.turnUrls.length > 0 && opts.turnSecret !== undefined) {
    const expireAtMs = nowMs + opts.turnCredentialTtlMs;
    iceServers.push({ urls: [...opts.turnUrls], ...turnCredentials(opts.turnSecret, participantId, expireAtMs) });
    return { iceServers, expireAtMs };
  }
  return { iceServers };
}
