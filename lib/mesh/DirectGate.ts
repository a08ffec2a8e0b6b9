/**
 * relay-first: holds the direct attempts of pairs already present over the relay until the rest of the
 * mesh is present too, then lets them start a few at a time. Each attempt's offers, answers and candidates
 * travel through the same signaling server as the relayed handshakes, and its ICE and DTLS run on the same
 * CPU: started while other pairs are still on their way, they made presence of the whole mesh wait for
 * them; released all at once (N = 20 Chromium pages on 2 cores), their burst of signals backed the server
 * up past its queue limit and its refusals broke relayed links.
 */
import { unrefTimer } from '../util/schedule.js';

/** What a {@link DirectGate} is built from. @internal */
export interface DirectGateOptions {
  /** True when no pair of the mesh is still on its way to presence over the relay. */
  mayStart: () => boolean;
  /** How long nothing must change (no pair up, added or gone) before held attempts start. */
  quietMs: number;
  /** The longest an attempt is held, whatever the rest of the mesh does. */
  maxHoldMs: number;
  /** Most released attempts under way at once (started, and neither connected nor failed yet). */
  maxStarting: number;
  /** The longest a released attempt keeps its place among those under way: the next starts after this. */
  slotMs: number;
}

/** Starts a held attempt; it calls `done` once the attempt connected or failed (or it did not start). */
type Start = (done: () => void) => void;

interface Held {
  start: Start;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Direct attempts held until the mesh is present and quiet, or for `maxHoldMs` at most; then started in
 * order, at most `maxStarting` under way at once. @internal
 */
export class DirectGate {
  readonly #options: DirectGateOptions;
  readonly #held = new Set<Held>();
  /** Released by the gate, waiting for a place among the attempts under way; oldest first. */
  #ready: Held[] = [];
  /** The timers of the attempts under way. */
  readonly #starting = new Set<ReturnType<typeof setTimeout>>();
  #quiet: ReturnType<typeof setTimeout> | undefined;
  #pumping = false;

  constructor(options: DirectGateOptions) {
    this.#options = options;
  }

  /** Runs `start` once the mesh is present and quiet (or after `maxHoldMs`) and a place is free; returns a function that cancels it. */
  hold(start: Start): () => void {
    const held: Held = { start, timer: undefined };
    held.timer = setTimeout(() => this.#release(held), this.#options.maxHoldMs);
    unrefTimer(held.timer);
    this.#held.add(held);
    this.changed();
    return () => {
      clearTimeout(held.timer);
      this.#held.delete(held);
      const at = this.#ready.indexOf(held);
      if (at >= 0) this.#ready.splice(at, 1);
    };
  }

  /** Something changed in the mesh (a pair up, added or gone): held attempts start after a quiet moment if it is present. */
  changed(): void {
    if (this.#held.size === 0) return;
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => {
      this.#quiet = undefined;
      if (this.#options.mayStart()) for (const held of [...this.#held]) this.#release(held);
    }, this.#options.quietMs);
    unrefTimer(this.#quiet);
  }

  /** Drops every held attempt (the mesh closed). */
  clear(): void {
    clearTimeout(this.#quiet);
    for (const held of this.#held) clearTimeout(held.timer);
    this.#held.clear();
    this.#ready = [];
    for (const timer of this.#starting) clearTimeout(timer);
    this.#starting.clear();
  }

  #release(held: Held): void {
    if (!this.#held.delete(held)) return;
    clearTimeout(held.timer);
    this.#ready.push(held);
    this.#startReady();
  }

  #startReady(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#ready.length > 0 && this.#starting.size < this.#options.maxStarting) {
        const next = this.#ready.shift() as Held;
        let freed = false;
        const free = (): void => {
          if (freed) return;
          freed = true;
          clearTimeout(timer);
          if (this.#starting.delete(timer)) this.#startReady();
        };
        const timer = setTimeout(free, this.#options.slotMs);
        unrefTimer(timer);
        this.#starting.add(timer);
        next.start(free);
      }
    } finally {
      this.#pumping = false;
    }
  }
}
