/**
 * What participants sent before this side heard they have messaging enabled. Across a fleet the server's
 * word that a participant enabled messaging (a room broadcast) and that participant's first relayed
 * frame or offer (sent to this participant alone) travel different ways through the adapter, and the
 * frame can come first. The server relays only between enabled members of one room, so the frame is
 * genuine; dropping it cost the pair a whole connect attempt (5 s; the chaos soak caught it). It is held
 * a moment, bounded, and handed over once the participant is known.
 */
import { unrefTimer } from '../util/schedule.js';

/** How long an early arrival is held for the word that its sender enabled messaging. */
export const EARLY_HOLD_MS = 3000;
/** At most this many arrivals are held per sender, */
const MAX_PER_SENDER = 32;
/** for at most this many senders at once, */
const MAX_SENDERS = 64;
/** and at most this many bytes of relayed frames in all. */
const MAX_BYTES = 4 * 1024 * 1024;

/** What an {@link EarlyArrivals} is built from. @internal */
export interface EarlyArrivalsOptions<T> {
  /** What an item costs against the byte bound. */
  bytesOf: (item: T) => number;
  /**
   * Hears of what a sender's arrivals were dropped for: it was not known within `holdMs` (the pair then
   * waits for its connect timeout). Not called for what {@link EarlyArrivals.clear} drops.
   */
  expired?: (from: string, items: number) => void;
  /**
   * How long a sender's first arrival is held.
   * @default EARLY_HOLD_MS (3000)
   */
  holdMs?: number;
}

interface Held<T> {
  items: T[];
  timer: ReturnType<typeof setTimeout>;
}

/** Arrivals of type `T` held by sender id until it is known, or dropped after `holdMs`. @internal */
export class EarlyArrivals<T> {
  readonly #held = new Map<string, Held<T>>();
  readonly #bytesOf: (item: T) => number;
  readonly #expired: (from: string, items: number) => void;
  readonly #holdMs: number;
  #bytes = 0;

  constructor(options: EarlyArrivalsOptions<T>) {
    this.#bytesOf = options.bytesOf;
    this.#expired = options.expired ?? (() => {});
    this.#holdMs = options.holdMs ?? EARLY_HOLD_MS;
  }

  /** Holds `item` from `from`; false (dropped) when a bound is reached. */
  hold(from: string, item: T): boolean {
    let held = this.#held.get(from);
    if (held === undefined) {
      if (this.#held.size >= MAX_SENDERS) return false;
      const timer = setTimeout(() => this.#expire(from), this.#holdMs);
      unrefTimer(timer);
      held = { items: [], timer };
      this.#held.set(from, held);
    }
    const bytes = this.#bytesOf(item);
    if (held.items.length >= MAX_PER_SENDER || this.#bytes + bytes > MAX_BYTES) return false;
    held.items.push(item);
    this.#bytes += bytes;
    return true;
  }

  /** What `from` sent early, in order, no longer held. */
  take(from: string): T[] {
    const held = this.#held.get(from);
    if (held === undefined) return [];
    this.#drop(from);
    return held.items;
  }

  /** Drops everything held. */
  clear(): void {
    for (const from of [...this.#held.keys()]) this.#drop(from);
  }

  #expire(from: string): void {
    const items = this.#held.get(from)?.items.length ?? 0;
    this.#drop(from);
    if (items > 0) this.#expired(from, items);
  }

  #drop(from: string): void {
    const held = this.#held.get(from);
    if (held === undefined) return;
    clearTimeout(held.timer);
    this.#held.delete(from);
    for (const item of held.items) this.#bytes -= this.#bytesOf(item);
  }
}
