/**
 * The signaling server's options: their defaults and their validation. The command line (cli-flags.ts
 * turns flags and ROOMMESH_* variables into options) and `createSignalingServer` both go through
 * {@link resolveOptions}, so a value is checked the same way however it arrives.
 */
import type { IceServer } from '../lib/protocol/signaling.js';

/** The logger the server writes to: pino fits, and so does anything with these methods. */
export interface ServerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of `createSignalingServer`. Limits given as 0 are off. */
export interface SignalingServerOptions {
  /**
   * TCP port to listen on; 0 picks a free one.
   * @default 8080
   */
  port?: number;
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Origins (`https://app.example.com`) whose pages may connect, checked on the socket.io handshake;
   * empty allows any. Clients that send no Origin header (Node, native apps) are always allowed.
   * @default []
   */
  allowedOrigins?: string[];
  /**
   * Take the client's IP address from the last `X-Forwarded-For` entry (set it when exactly one reverse
   * proxy sits in front of the server); otherwise the socket's address is used.
   * @default false
   */
  trustProxy?: boolean;
  /**
   * Largest event accepted, in bytes: a larger one is refused with `PayloadTooLarge` and the connection
   * stays. One larger than 4 × this is not even read: the connection is closed.
   * @default 65536
   */
  maxPayloadBytes?: number;
  /**
   * Connections this process accepts at once; more are refused with `ServerFull`.
   * @default 10000
   */
  maxConnections?: number;
  /**
   * Connections this process accepts at once from one IP address (the `trustProxy` address when set);
   * more are refused with `TooManyConnections`, so one address cannot take every connection slot.
   * 50 leaves room for a household or office behind one NAT, each person with a few tabs.
   * @default 50
   */
  maxConnectionsPerIp?: number;
  /**
   * Bytes the server holds for one connection that its client has not read yet (engine.io's queued
   * packets plus the websocket's unwritten bytes); past this the connection is dropped (`SlowConsumer`
   * in the rejections metric), so a client that stops reading cannot grow the server without bound.
   * 4 MiB is over twice the largest honest burst: joining a full room of 50, each peer's offer of up to
   * 32 KiB of SDP and its candidates arrive at once (about 1.7 MiB).
   * @default 4194304
   */
  maxUnreadOutputBytes?: number;
  /**
   * Participants in one room, across every process of a fleet; more are refused with `RoomFull`.
   * @default 50
   */
  maxParticipantsPerRoom?: number;
  /**
   * Signals per second one connection may send on average (a token bucket); more are refused with `SignalRateLimited`.
   * @default 50
   */
  signalsPerSecond?: number;
  /**
   * Size of that token bucket: signals a connection may send at once after being quiet.
   * @default 200
   */
  signalBurst?: number;
  /**
   * Relay end-to-end encrypted frames between two enabled participants of a room that cannot reach each
   * other directly (`relay` events). On by default: without it 15–30% of pairs on mobile and corporate
   * networks never see each other, and the limits below bound what it costs; the server sees only who
   * talks to whom, sizes and timing, never content. `false` (`--no-relay`) refuses every relay with
   * `RelayDisabled` and tells clients so in the join reply.
   * @default true
   */
  relay?: boolean;
  /**
   * Relayed bytes per second one connection may send on average (a token bucket); a frame over it is
   * dropped and refused with `RelayRateLimited`. Clients learn it from the join reply and pace themselves.
   * 0: no limit.
   * @default 4194304
   */
  relayBytesPerSecond?: number;
  /**
   * Size of that bucket: relayed bytes a connection may send at once after being quiet. At least
   * `maxRelayFrameBytes`.
   * @default 1048576
   */
  relayBurstBytes?: number;
  /**
   * Relayed bytes per second this whole process forwards, over every connection; a frame over it is
   * dropped and refused with `RelayBudgetExceeded`. 0: no budget.
   * @default 67108864
   */
  relayBudgetBytesPerSecond?: number;
  /**
   * Largest relayed frame (a `relay` event's `data`), in bytes; a larger one is refused with
   * `PayloadTooLarge`. At most `maxPayloadBytes` - 1024 (the event around it must fit); when not set, the
   * default is lowered to that for a small `maxPayloadBytes`.
   * @default 32768
   */
  maxRelayFrameBytes?: number;
  /**
   * `enable_messaging` and `disable_messaging` requests per second one connection may make on average
   * (a token bucket); more are refused with `ToggleRateLimited`. Each change is told to every enabled
   * member of the room, so this bounds what one connection makes the server send to the others.
   * @default 5
   */
  togglesPerSecond?: number;
  /**
   * Size of that token bucket: toggles a connection may make at once after being quiet.
   * @default 10
   */
  toggleBurst?: number;
  /**
   * Joins per second one IP address may make on average, on this process; more are refused with `JoinRateLimited`.
   * @default 10
   */
  joinsPerSecondPerIp?: number;
  /**
   * Size of the per-IP join bucket.
   * @default 50
   */
  joinBurstPerIp?: number;
  /**
   * A connection that has not joined a room this long after connecting is closed, so idle connections
   * cannot hold connection slots.
   * @default 30000
   */
  joinTimeoutMs?: number;
  /**
   * `jwt`: every join must carry a JWT naming its room(s) and identity; `none`: no authentication.
   * @default 'none'
   */
  auth?: 'none' | 'jwt';
  /** HS256 shared secret (at least 32 characters); with `auth: 'jwt'`, this or `jwksUrl`. */
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
  /**
   * `memory`: one process; `redis`: several processes share rooms through Redis (`redisUrl`).
   * @default 'memory'
   */
  adapter?: 'memory' | 'redis';
  /** `redis://…` URL of the Redis server; required with `adapter: 'redis'`. */
  redisUrl?: string;
  /**
   * Prefix of every Redis key and stream this server uses; fleets sharing one Redis need different ones.
   * @default 'roommesh:'
   */
  redisKeyPrefix?: string;
  /**
   * How often a process of a fleet tells Redis it is alive and looks for dead ones.
   * @default 2000
   */
  fleetHeartbeatMs?: number;
  /**
   * A process silent this long is taken as dead: its participants are removed from their rooms.
   * @default 10000
   */
  fleetTimeoutMs?: number;
  /**
   * Key of the resume tokens handed out at join (at least 32 characters). When absent: derived from
   * `jwtSecret`, else shared through Redis in a fleet, else random for this process, which a restart
   * forgets. Set it so that participants resume across a restart of a single server.
   */
  resumeSecret?: string;
  /**
   * How long a participant whose connection dropped without a goodbye stays in its room, waiting to
   * resume on a new connection; 0 removes it at once.
   * @default 15000
   */
  resumeGraceMs?: number;
  /**
   * How long a resume token stays valid (each resume hands out a fresh one).
   * @default 86400000
   */
  resumeTokenTtlMs?: number;
  /**
   * On `drain()` (SIGTERM), how long the server answers /readyz with 503 while still serving before it closes.
   * @default 5000
   */
  drainDelayMs?: number;
  /**
   * Serve Prometheus metrics at `GET /metrics`.
   * @default true
   */
  metrics?: boolean;
  /**
   * Folder served over HTTP at `/` (the demo page); false serves nothing.
   * @default the package's demo/ folder
   */
  staticDir?: string | false;
  /**
   * Where the server logs. It never logs SDP, ICE candidates or tokens.
   * @default a logger that prints nothing
   */
  logger?: ServerLogger;
}

/** Options after defaults are applied and every value is checked. */
export type ResolvedServerOptions = Required<
  Omit<
    SignalingServerOptions,
    'jwtSecret' | 'jwksUrl' | 'jwtIssuer' | 'turnSecret' | 'redisUrl' | 'resumeSecret' | 'logger'
  >
> &
  Pick<SignalingServerOptions, 'jwtSecret' | 'jwksUrl' | 'jwtIssuer' | 'turnSecret' | 'redisUrl' | 'resumeSecret'> & {
    logger: ServerLogger;
  };

const noop = (): void => {};

/** A logger that prints nothing. */
export const SILENT_LOGGER: ServerLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Defaults of {@link SignalingServerOptions}. */
export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  allowedOrigins: [] as string[],
  trustProxy: false,
  maxPayloadBytes: 64 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerIp: 50,
  maxUnreadOutputBytes: 4 * 1024 * 1024,
  maxParticipantsPerRoom: 50,
  signalsPerSecond: 50,
  signalBurst: 200,
  togglesPerSecond: 5,
  toggleBurst: 10,
  relay: true,
  relayBytesPerSecond: 4 * 1024 * 1024,
  relayBurstBytes: 1024 * 1024,
  relayBudgetBytesPerSecond: 64 * 1024 * 1024,
  maxRelayFrameBytes: 32 * 1024,
  joinsPerSecondPerIp: 10,
  joinBurstPerIp: 50,
  joinTimeoutMs: 30_000,
  auth: 'none',
  jwtAlgorithms: undefined as string[] | undefined,
  jwtAudience: 'roommesh',
  jwtClockToleranceMs: 5000,
  iceServers: [] as IceServer[],
  stunUrls: [] as string[],
  turnUrls: [] as string[],
  turnCredentialTtlMs: 86_400_000,
  adapter: 'memory',
  redisKeyPrefix: 'roommesh:',
  fleetHeartbeatMs: 2000,
  fleetTimeoutMs: 10_000,
  resumeGraceMs: 15_000,
  resumeTokenTtlMs: 86_400_000,
  drainDelayMs: 5000,
  metrics: true,
  staticDir: new URL('../../demo/', import.meta.url).pathname,
});

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

/** Inclusive ranges of the integer options. */
export const INTEGER_RANGES = Object.freeze({
  port: [0, 65535],
  maxPayloadBytes: [1024, 16 * 1024 * 1024],
  maxConnections: [0, 1_000_000],
  maxConnectionsPerIp: [0, 1_000_000],
  maxUnreadOutputBytes: [0, 1024 * 1024 * 1024],
  maxParticipantsPerRoom: [0, 100_000],
  signalsPerSecond: [0, 100_000],
  signalBurst: [1, 1_000_000],
  togglesPerSecond: [0, 100_000],
  toggleBurst: [1, 1_000_000],
  relayBytesPerSecond: [0, 1024 * 1024 * 1024],
  relayBurstBytes: [1024, 1024 * 1024 * 1024],
  relayBudgetBytesPerSecond: [0, 16 * 1024 * 1024 * 1024],
  maxRelayFrameBytes: [1024, 256 * 1024],
  joinsPerSecondPerIp: [0, 100_000],
  joinBurstPerIp: [1, 1_000_000],
  joinTimeoutMs: [100, 600_000],
  jwtClockToleranceMs: [0, 600_000],
  turnCredentialTtlMs: [60_000, 7 * 86_400_000],
  fleetHeartbeatMs: [100, 60_000],
  fleetTimeoutMs: [300, 600_000],
  resumeGraceMs: [0, 600_000],
  resumeTokenTtlMs: [60_000, 30 * 86_400_000],
  drainDelayMs: [0, 600_000],
} satisfies Partial<Record<keyof SignalingServerOptions, [number, number]>>);

/** An option has a value the server cannot use; the server does not start. */
export class ConfigError extends Error {
  /** Always `InvalidOption`. */
  readonly reason = 'InvalidOption';
  /** The option at fault. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.option = option;
  }
}

/** How an option is named in error messages: the option key by default; the CLI names its flag. */
export type OptionNamer = (option: keyof SignalingServerOptions) => string;

/**
 * Applies the defaults and checks every value and combination; throws {@link ConfigError} naming the
 * first bad one.
 */
export function resolveOptions(options: SignalingServerOptions, name: OptionNamer = (k) => k): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'options must be an object');
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as SignalingServerOptions;
  const o = { ...DEFAULT_SERVER_OPTIONS, ...defined };
  // Unless set, the relayed frame size follows a smaller event limit (the event around it must fit).
  if (defined.maxRelayFrameBytes === undefined)
    o.maxRelayFrameBytes = Math.max(1024, Math.min(o.maxRelayFrameBytes, o.maxPayloadBytes - 1024));
  const fail = (key: keyof SignalingServerOptions, message: string): never => {
    throw new ConfigError(key, `${name(key)} ${message}`);
  };

  for (const [key, [min, max]] of Object.entries(INTEGER_RANGES) as Array<
    [keyof typeof INTEGER_RANGES, [number, number]]
  >) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      fail(key, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  if (typeof o.host !== 'string' || o.host.length === 0) fail('host', 'must be a non-empty address');
  for (const key of ['trustProxy', 'metrics', 'relay'] as const)
    if (typeof o[key] !== 'boolean') fail(key, 'must be true or false');
  for (const key of ['allowedOrigins', 'stunUrls', 'turnUrls'] as const) {
    const v = o[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0))
      fail(key, 'must be a list of non-empty strings');
  }
  for (const origin of o.allowedOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin)
      fail(
        'allowedOrigins',
        `must list origins like https://app.example.com (scheme, host, optional port; no path), got "${origin}"`,
      );
  }
  for (const url of o.stunUrls)
    if (!/^stuns?:/.test(url)) fail('stunUrls', `must hold stun: or stuns: URLs, got "${url}"`);
  for (const url of o.turnUrls)
    if (!/^turns?:/.test(url)) fail('turnUrls', `must hold turn: or turns: URLs, got "${url}"`);
  if (o.turnUrls.length > 0 && (typeof o.turnSecret !== 'string' || o.turnSecret.length === 0))
    fail('turnSecret', 'is required with TURN URLs');
  if (!Array.isArray(o.iceServers) || !o.iceServers.every(isIceServer))
    fail('iceServers', 'must be a list of { urls, username?, credential? }');

  if (o.auth !== 'none' && o.auth !== 'jwt') fail('auth', `must be none or jwt, got ${JSON.stringify(o.auth)}`);
  let jwtAlgorithms: string[] = o.jwtAlgorithms ?? [];
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

  if (o.adapter !== 'memory' && o.adapter !== 'redis')
    fail('adapter', `must be memory or redis, got ${JSON.stringify(o.adapter)}`);
  if (o.adapter === 'redis') {
    if (typeof o.redisUrl !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(o.redisUrl))
      fail('redisUrl', `must be a redis:// or rediss:// URL with adapter redis, got ${JSON.stringify(o.redisUrl)}`);
  }
  if (typeof o.redisKeyPrefix !== 'string' || o.redisKeyPrefix.length === 0 || o.redisKeyPrefix.length > 64)
    fail('redisKeyPrefix', 'must be a string of 1 to 64 characters');
  if (o.fleetTimeoutMs < 2 * o.fleetHeartbeatMs)
    fail(
      'fleetTimeoutMs',
      `must be at least twice the fleet heartbeat (${o.fleetHeartbeatMs} ms), got ${o.fleetTimeoutMs}`,
    );
  if (o.resumeSecret !== undefined && (typeof o.resumeSecret !== 'string' || Buffer.byteLength(o.resumeSecret) < 32))
    fail('resumeSecret', 'must be at least 32 bytes long');
  if (o.maxRelayFrameBytes > o.maxPayloadBytes - 1024)
    fail('maxRelayFrameBytes', `must be at most the largest event less 1024 (${o.maxPayloadBytes - 1024})`);
  if (o.relayBurstBytes < o.maxRelayFrameBytes)
    fail('relayBurstBytes', `must be at least the largest relayed frame (${o.maxRelayFrameBytes})`);
  if (o.staticDir !== false && (typeof o.staticDir !== 'string' || o.staticDir.length === 0))
    fail('staticDir', 'must be a folder or false');

  return { ...o, jwtAlgorithms, logger: options.logger ?? SILENT_LOGGER };
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
