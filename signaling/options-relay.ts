/** The server's options for relaying encrypted frames between participants, with their defaults and checks. */
import { MIN_RELAY_FRAME_BYTES, RELAY_FRAME_COST_BYTES } from '../lib/protocol/signaling.js';

/** Whether the server relays frames for pairs that cannot connect directly, and how much. */
export interface RelayOptions {
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
   * default is lowered to that for a small `maxPayloadBytes`. Every frame costs a seal, an open, two
   * socket.io events and a handler whatever its size, so the default fills the default event.
   * @default 64512 (63 KiB: the default maxPayloadBytes, 64 KiB, less 1024)
   */
  maxRelayFrameBytes?: number;
}

/** Defaults of {@link RelayOptions}. */
export const RELAY_DEFAULTS = Object.freeze({
  relay: true,
  relayBytesPerSecond: 4 * 1024 * 1024,
  relayBurstBytes: 1024 * 1024,
  relayBudgetBytesPerSecond: 64 * 1024 * 1024,
  maxRelayFrameBytes: 63 * 1024,
});

/** Inclusive ranges of the integer {@link RelayOptions}. */
export const RELAY_RANGES = Object.freeze({
  relayBytesPerSecond: [0, 1024 * 1024 * 1024],
  relayBurstBytes: [1024, 1024 * 1024 * 1024],
  relayBudgetBytesPerSecond: [0, 16 * 1024 * 1024 * 1024],
  maxRelayFrameBytes: [MIN_RELAY_FRAME_BYTES, 256 * 1024],
} satisfies Partial<Record<keyof RelayOptions, [number, number]>>);

/** The largest relayed frame when none is set: the default, lowered so the event around it fits `maxPayloadBytes`. */
export function defaultRelayFrameBytes(maxPayloadBytes: number): number {
  return Math.max(MIN_RELAY_FRAME_BYTES, Math.min(RELAY_DEFAULTS.maxRelayFrameBytes, maxPayloadBytes - 1024));
}

/** Checks the relay flag and how the frame size fits the event and the bucket; calls `fail` for the first bad one. */
export function checkRelayOptions(
  o: RelayOptions & Required<Pick<RelayOptions, keyof typeof RELAY_DEFAULTS>> & { maxPayloadBytes: number },
  fail: (key: keyof RelayOptions, message: string) => never,
): void {
  if (typeof o.relay !== 'boolean') fail('relay', 'must be true or false');
  if (o.maxRelayFrameBytes > o.maxPayloadBytes - 1024)
    fail('maxRelayFrameBytes', `must be at most the largest event less 1024 (${o.maxPayloadBytes - 1024})`);
  // A full frame counts its cost beyond its data (RELAY_FRAME_COST_BYTES) in both buckets.
  const fullFrame = o.maxRelayFrameBytes + RELAY_FRAME_COST_BYTES;
  if (o.relayBurstBytes < fullFrame)
    fail('relayBurstBytes', `must be at least the largest relayed frame and its cost (${fullFrame})`);
  // The budget's bucket holds one second of it: a smaller one refuses every full frame (clients do not know it).
  if (o.relayBudgetBytesPerSecond > 0 && o.relayBudgetBytesPerSecond < fullFrame)
    fail(
      'relayBudgetBytesPerSecond',
      `must be 0 (no budget) or at least the largest relayed frame and its cost (${fullFrame})`,
    );
}
