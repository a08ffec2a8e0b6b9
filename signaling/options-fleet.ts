/** The server's options for running as a fleet through Redis and for participants resuming, with defaults and checks. */

/** Several processes as one through Redis, and how long a dropped participant may come back. */
export interface FleetOptions {
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
   * About how many entries the fleet's Redis stream keeps (what goes between processes: events, signals,
   * relayed frames whose receiver is on another process); Redis trims it to about this many. Each relayed
   * frame there takes about 4/3 of its size, so this bounds the stream's memory (10,000 full 63 KiB frames:
   * ~860 MB). Fewer save Redis memory; a process that falls further behind than this many entries (stalled,
   * or cut off from Redis) misses those it did not read, which breaks the relayed links and signals they were.
   * @default 10000
   */
  redisStreamMaxLen?: number;
  /**
   * How often a process of a fleet tells Redis it is alive and looks for dead ones.
   * @default 500
   */
  fleetHeartbeatMs?: number;
  /**
   * A process silent this long is taken as dead: a live process adopts its participants, who stay in their
   * rooms for `resumeGraceMs` to resume elsewhere (their peers get `peer_disconnected` with `processDied`),
   * and are removed if they do not.
   * @default 2000
   */
  fleetTimeoutMs?: number;
  /**
   * Key of the resume tokens handed out at join (at least 32 bytes of UTF-8). When absent: derived from
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
}

/** Defaults of {@link FleetOptions}. */
export const FLEET_DEFAULTS = Object.freeze({
  adapter: 'memory',
  redisKeyPrefix: 'roommesh:',
  redisStreamMaxLen: 10_000,
  fleetHeartbeatMs: 500,
  fleetTimeoutMs: 2000,
  resumeGraceMs: 15_000,
  resumeTokenTtlMs: 86_400_000,
});

/** Inclusive ranges of the integer {@link FleetOptions}. */
export const FLEET_RANGES = Object.freeze({
  redisStreamMaxLen: [100, 10_000_000],
  fleetHeartbeatMs: [100, 60_000],
  fleetTimeoutMs: [300, 600_000],
  resumeGraceMs: [0, 600_000],
  resumeTokenTtlMs: [60_000, 30 * 86_400_000],
} satisfies Partial<Record<keyof FleetOptions, [number, number]>>);

/** Checks the adapter, the Redis URL and prefix, the fleet timing and the resume secret; `fail`s on the first bad one. */
export function checkFleetOptions(
  o: FleetOptions & Required<Pick<FleetOptions, keyof typeof FLEET_DEFAULTS>>,
  fail: (key: keyof FleetOptions, message: string) => never,
): void {
  if (o.adapter !== 'memory' && o.adapter !== 'redis')
    fail('adapter', `must be memory or redis, got ${JSON.stringify(o.adapter)}`);
  if (o.adapter === 'redis') {
    const problem = redisUrlProblem(o.redisUrl);
    if (problem !== undefined)
      fail(
        'redisUrl',
        `must be a redis:// or rediss:// URL with adapter redis: ${problem}, got ${shownUrl(o.redisUrl)}`,
      );
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
}

/**
 * What is wrong with a Redis URL as node-redis reads it (a host, a port of 1 to 65535, a database number
 * as the path), or undefined. Checked here so that a bad one is a bad flag (exit 2, the flag named), not
 * node-redis's "Invalid URL" from inside the server's start (exit 1).
 */
function redisUrlProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || !/^rediss?:\/\/[^\s]+$/.test(raw)) return 'not one';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.hostname === '') return 'no host';
  if (url.port !== '' && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) return 'a port of 1 to 65535';
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname))
    return 'the path, when given, is a database number';
  return undefined;
}

/** A Redis URL as an error message may show it: its password (and user) replaced, as it may be a secret. */
function shownUrl(raw: unknown): string {
  if (typeof raw !== 'string') return JSON.stringify(raw);
  // Whatever sits between the scheme and an @ is credentials, whether or not the rest parses.
  return JSON.stringify(raw.replace(/^([^:/]*:?\/*)[^/]*@/, '$1***@'));
}
