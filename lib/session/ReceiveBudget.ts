/**
 * What one peer may cost this participant to receive: bytes, and the time spent decoding them. Two token
 * buckets, refilled as messages arrive. Pure logic: the session asks, and cuts the peer off when told why.
 */

/**
 * The most decoding time one data-channel message is charged. The costliest legal message measured (256 KiB
 * of small JSON keys) takes ~15 ms; more than this is the process stalling (SIGSTOP, a sleeping laptop, a
 * debugger), not the peer.
 */
export const MAX_DECODE_CHARGE_MS = 100;

import { type Frame, type FrameDecodeError, decodeFrames } from '../protocol/frames.js';

/** The rates a {@link ReceiveBudget} allows. @internal */
export interface ReceiveRates {
  /** Bytes per second the peer may send, and above that in a burst. */
  bytes: { bytesPerSecond: number; burstBytes: number };
  /** Decoding milliseconds per second the peer may cost, and above that in a burst. */
  decode: { msPerSecond: number; burstMs: number };
}

/** The receive budget of one peer. @internal */
export class ReceiveBudget {
  readonly #rates: ReceiveRates;
  #byteTokens: number;
  #decodeTokensMs: number;
  #refilledAtMs: number;

  constructor(rates: ReceiveRates, nowMs: number) {
    this.#rates = rates;
    this.#byteTokens = rates.bytes.burstBytes;
    this.#decodeTokensMs = rates.decode.burstMs;
    this.#refilledAtMs = nowMs;
  }

  /**
   * A message of `bytes` arrived: refills both buckets for the time since the last one and takes its bytes.
   * Returns why the peer is over its budget (cut it off before decoding), or undefined.
   */
  arrived(bytes: number, nowMs: number): string | undefined {
    const { bytes: b, decode: d } = this.#rates;
    const elapsedMs = Math.max(0, nowMs - this.#refilledAtMs);
    this.#refilledAtMs = nowMs;
    this.#byteTokens = Math.min(b.burstBytes, this.#byteTokens + (elapsedMs * b.bytesPerSecond) / 1000) - bytes;
    this.#decodeTokensMs = Math.min(d.burstMs, this.#decodeTokensMs + (elapsedMs * d.msPerSecond) / 1000);
    if (this.#byteTokens >= 0) return undefined;
    return `sent more than ${b.bytesPerSecond} bytes/s (burst ${b.burstBytes}); disconnecting`;
  }

  /**
   * A data-channel message arrived: charges its bytes, decodes it (unless `decode` is false: it is to be
   * ignored) and charges the time that took. Returns its frames, or why the peer is over its budget.
   */
  take(bytes: Uint8Array, nowMs: number, decode = true): Array<Frame | FrameDecodeError> | string {
    const overBytes = this.arrived(bytes.byteLength, nowMs);
    if (overBytes !== undefined) return overBytes;
    if (!decode) return [];
    const started = performance.now();
    const frames = decodeFrames(bytes);
    return this.decoded(performance.now() - started) ?? frames;
  }

  /** True when both buckets have refilled by `nowMs`: this budget is then the same as a new one. */
  isFull(nowMs: number): boolean {
    const { bytes: b, decode: d } = this.#rates;
    const elapsedMs = Math.max(0, nowMs - this.#refilledAtMs);
    return (
      this.#byteTokens + (elapsedMs * b.bytesPerSecond) / 1000 >= b.burstBytes &&
      this.#decodeTokensMs + (elapsedMs * d.msPerSecond) / 1000 >= d.burstMs
    );
  }

  /**
   * Decoding that message took `spentMs` of wall time (charged at most {@link MAX_DECODE_CHARGE_MS}).
   * Bytes do not bound the cost of a frame: small JSON keys decode ~40 times slower than a string. Returns
   * why the peer is over its budget, or undefined.
   */
  decoded(spentMs: number): string | undefined {
    this.#decodeTokensMs -= Math.min(spentMs, MAX_DECODE_CHARGE_MS);
    if (this.#decodeTokensMs >= 0) return undefined;
    const { msPerSecond, burstMs } = this.#rates.decode;
    return `its frames took more than ${msPerSecond} ms/s to decode (burst ${burstMs} ms); disconnecting`;
  }
}

/**
 * The receive budgets of one participant's peers: one per peer id, whatever its sessions. A peer that dialed
 * again got a fresh session, and with it full buckets: re-dialing every half second (the mesh takes two new
 * sessions a second from a peer) doubled what its budget allowed (found by a review). A budget that has
 * refilled is the same as a new one, so such budgets are let go as peers come: the map holds only the
 * peers that sent recently.
 * @internal
 */
export class ReceiveBudgets {
  readonly #rates: ReceiveRates;
  readonly #byPeer = new Map<string, ReceiveBudget>();

  constructor(rates: ReceiveRates) {
    this.#rates = rates;
  }

  /** The budget of peer `id`, shared by all its sessions. */
  for(id: string, nowMs: number): ReceiveBudget {
    let budget = this.#byPeer.get(id);
    if (budget === undefined) {
      for (const [other, b] of this.#byPeer) if (b.isFull(nowMs)) this.#byPeer.delete(other);
      budget = new ReceiveBudget(this.#rates, nowMs);
      this.#byPeer.set(id, budget);
    }
    return budget;
  }

  /** Budgets held: peers that sent within their refill time. */
  get size(): number {
    return this.#byPeer.size;
  }
}
