import type { RoomTimeouts } from '../defaults.js';
import { unrefTimer } from '../util/schedule.js';

/** What a {@link Heartbeat} drives in its session. @internal */
export interface HeartbeatContext {
  /** The peer has been silent too long (or did not answer a probe): close, saying `reason`. */
  silent(reason: string): void;
  /** When this side last sent a frame (Date.now()). */
  lastSentAtMs(): number;
  /**
   * True while the peer's hello has not come: its silence is not judged then. A peer busy setting up (a
   * starved process, a busy server relaying its hello) is not a dead one; the connect attempt's own timeout
   * bounds the wait (the mesh's, twice `connectAttemptTimeoutMs`).
   */
  awaitingHello(): boolean;
  /** Sends a ping on the current link. */
  ping(): void;
  /** Runs every tick, after the silence check; `stalled` when this process stalled since the last one. */
  tick(nowMs: number, stalled: boolean): void;
}

/**
 * A session's liveness: any frame from the peer, on any of its links, is a sign of life; a side that sent
 * nothing for `heartbeatIntervalMs` pings; a peer silent for `heartbeatTimeoutMs` once its hello came is
 * taken as gone.
 * @internal
 */
export class Heartbeat {
  readonly #timeouts: RoomTimeouts;
  readonly #context: HeartbeatContext;
  #lastReceivedAtMs = 0;
  /** Silence before this is not held against the peer (see {@link forgive}). */
  #judgedFromMs = 0;
  #lastTickAtMs = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  /** While true (no link, within the relink grace) silence is expected and nothing is pinged. */
  paused = false;

  constructor(timeouts: RoomTimeouts, context: HeartbeatContext) {
    this.#timeouts = timeouts;
    this.#context = context;
  }

  /** Starts ticking (the first link opened). */
  start(nowMs: number): void {
    this.#lastReceivedAtMs = nowMs;
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#tick(), this.#timeouts.heartbeatIntervalMs);
    // The heartbeat must not keep a Node process alive on its own; the peer connection decides that.
    unrefTimer(this.#timer);
  }

  /** When something last arrived from the peer (Date.now()). */
  get lastReceivedAtMs(): number {
    return this.#lastReceivedAtMs;
  }

  /** Something arrived from the peer. */
  alive(nowMs: number): void {
    this.#lastReceivedAtMs = nowMs;
  }

  /**
   * The peer pinged: answered with a ping when this side sent nothing for `heartbeatIntervalMs`, so that a
   * side whose timers barely run is still heard as long as its peer's do. A browser throttles the timers
   * of a hidden tab (to once a minute after five minutes, unless it has an open RTCPeerConnection): its
   * own pings would then come too seldom for its relayed peers, but events, and this answer, are not held
   * back. The peer's ping was sent because it had sent nothing either, so the answer is not answered.
   */
  pinged(nowMs: number): void {
    if (!this.paused && nowMs - this.#context.lastSentAtMs() >= this.#timeouts.heartbeatIntervalMs)
      this.#context.ping();
  }

  /**
   * The peer's silence until `nowMs` is not held against it: `heartbeatTimeoutMs` counts from now, unless a
   * frame arrived later. For a hold that ends (the peer was off the server, so nothing could come), not a
   * sign of life: {@link lastReceivedAtMs} stays.
   */
  forgive(nowMs: number): void {
    this.#judgedFromMs = nowMs;
  }

  /** Reports the peer silent unless a frame arrives within `withinMs`. */
  probe(withinMs: number): void {
    if (this.#probeTimer !== undefined) return;
    const since = Date.now();
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      if (this.#lastReceivedAtMs < since)
        this.#context.silent(`no frame for ${withinMs} ms after its signaling connection dropped`);
    }, withinMs);
    unrefTimer(this.#probeTimer);
  }

  /** Stops every timer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer);
  }

  #tick(): void {
    const now = Date.now();
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.#timeouts;
    // A tick much later than due means this process stalled (a long task, a sleeping laptop): frames that
    // arrived meanwhile are still queued behind this timer, so the peer's silence is judged next tick.
    const stalled = this.#lastTickAtMs > 0 && now - this.#lastTickAtMs > 2 * heartbeatIntervalMs;
    this.#lastTickAtMs = now;
    if (
      !this.paused &&
      !stalled &&
      now - Math.max(this.#lastReceivedAtMs, this.#judgedFromMs) > heartbeatTimeoutMs &&
      !this.#context.awaitingHello()
    ) {
      this.#context.silent(`no frame for ${heartbeatTimeoutMs} ms`);
      return;
    }
    if (!this.paused && now - this.#context.lastSentAtMs() >= heartbeatIntervalMs) this.#context.ping();
    this.#context.tick(now, stalled);
  }
}
