/** The server's rate limits and caps on rooms, signals, toggles and joins, with their defaults. */
import { MAX_ROOM_PARTICIPANTS } from '../lib/protocol/signaling.js';

/**
 * How much one room, connection or IP address may ask of the server. The cap and the rates are off at 0;
 * a bucket size or `joinTimeoutMs` of 0 is refused (see {@link RATE_LIMIT_RANGES}).
 */
export interface RateLimitOptions {
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
}

/** Defaults of {@link RateLimitOptions}. */
export const RATE_LIMIT_DEFAULTS = Object.freeze({
  maxParticipantsPerRoom: 50,
  signalsPerSecond: 50,
  signalBurst: 200,
  togglesPerSecond: 5,
  toggleBurst: 10,
  joinsPerSecondPerIp: 10,
  joinBurstPerIp: 50,
  joinTimeoutMs: 30_000,
});

/** Inclusive ranges of the {@link RateLimitOptions} (all integers). */
export const RATE_LIMIT_RANGES = Object.freeze({
  maxParticipantsPerRoom: [0, MAX_ROOM_PARTICIPANTS],
  signalsPerSecond: [0, 100_000],
  signalBurst: [1, 1_000_000],
  togglesPerSecond: [0, 100_000],
  toggleBurst: [1, 1_000_000],
  joinsPerSecondPerIp: [0, 100_000],
  joinBurstPerIp: [1, 1_000_000],
  joinTimeoutMs: [100, 600_000],
} satisfies Record<keyof RateLimitOptions, [number, number]>);
