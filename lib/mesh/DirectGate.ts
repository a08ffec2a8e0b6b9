/**
 * relay-first: holds the direct attempts of pairs already present over the relay until the rest of the
 * mesh is present too. Each attempt's offers, answers and candidates travel through the same signaling
 * server as the relayed handshakes, and its ICE and DTLS run on the same CPU: started while other pairs
 * are still on their way, they made presence of the whole mesh wait for them.
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
}

interface Held {
  start: () => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Direct attempts held until the mesh is present and quiet, or for `maxHoldMs` at most. @internal */
export class DirectGate {
  readonly #options: DirectGateOptions;
  readonly #held = new Set<Held>();
  #quiet: ReturnType<typeof setTimeout> | undefined;

  constructor(options: DirectGateOptions) {
    this.#options = options;
  }

  /** Runs `start` once the mesh is present and quiet (or after `maxHoldMs`); returns a function that cancels it. */
  hold(start: () => void): () => void {
    const held: Held = { start, timer: setTimeout(() => this.#release(held), this.#options.maxHoldMs) };
    unrefTimer(held.timer);
    this.#held.add(held);
    this.changed();
    return () => {
      clearTimeout(held.timer);
      this.#held.delete(held);
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
  }

  #release(held: Held): void {
    if (!this.#held.delete(held)) return;
    clearTimeout(held.timer);
    held.start();
  }
}
