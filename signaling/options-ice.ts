/** The server's options for the ICE servers (STUN, TURN) it hands to clients, with their defaults and checks. */
import type { IceServer } from '../lib/protocol/signaling.js';

/** The ICE servers handed to clients in the join reply, and TURN credentials for them. */
export interface IceOptions {
  /**
   * ICE servers handed to every client as they are, in the join reply.
   * @default []
   */
  iceServers?: IceServer[];
  /**
   * STUN URLs (`stun:stun.example.org:3478`) handed to clients.
   * @default []
   */
  stunUrls?: string[];
  /**
   * TURN URLs handed to clients with credentials computed from `turnSecret` (coturn's `use-auth-secret`).
   * @default []
   */
  turnUrls?: string[];
  /** The secret shared with the TURN server (coturn `static-auth-secret`); required with `turnUrls`. */
  turnSecret?: string;
  /**
   * How long the TURN credentials handed out stay valid.
   * @default 86400000
   */
  turnCredentialTtlMs?: number;
}

/** Defaults of {@link IceOptions}. */
export const ICE_DEFAULTS = Object.freeze({
  iceServers: [] as IceServer[],
  stunUrls: [] as string[],
  turnUrls: [] as string[],
  turnCredentialTtlMs: 86_400_000,
});

/** Inclusive ranges of the integer {@link IceOptions}. */
export const ICE_RANGES = Object.freeze({
  turnCredentialTtlMs: [60_000, 7 * 86_400_000],
} satisfies Partial<Record<keyof IceOptions, [number, number]>>);

/** Checks the URL lists, the TURN secret and the ICE servers; calls `fail` for the first bad one. */
export function checkIceOptions(
  o: IceOptions & Required<Pick<IceOptions, keyof typeof ICE_DEFAULTS>>,
  fail: (key: keyof IceOptions, message: string) => never,
): void {
  for (const key of ['stunUrls', 'turnUrls'] as const) {
    const v = o[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0))
      fail(key, 'must be a list of non-empty strings');
  }
  for (const url of o.stunUrls)
    if (!/^stuns?:/.test(url)) fail('stunUrls', `must hold stun: or stuns: URLs, got "${url}"`);
  for (const url of o.turnUrls)
    if (!/^turns?:/.test(url)) fail('turnUrls', `must hold turn: or turns: URLs, got "${url}"`);
  if (o.turnUrls.length > 0 && (typeof o.turnSecret !== 'string' || o.turnSecret.length === 0))
    fail('turnSecret', 'is required with TURN URLs');
  if (!Array.isArray(o.iceServers) || !o.iceServers.every(isIceServer))
    fail('iceServers', 'must be a list of { urls, username?, credential? }');
}

function isIceServer(v: unknown): v is IceServer {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const urlsOk = typeof s.urls === 'string' || (Array.isArray(s.urls) && s.urls.every((u) => typeof u === 'string'));
  return (
    urlsOk &&
    (s.username === undefined || typeof s.username === 'string') &&
    (s.credential === undefined || typeof s.credential === 'string')
  );
}
