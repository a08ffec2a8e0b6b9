/** When the mesh dials a participant again: re-dials waiting to run, connect failures in a row, the backoff. */
import { backoffDelayMs } from '../util/backoff.js';

/**
 * The first re-dial after a channel failed or a connect failed once goes within this (jitter only): most
 * failed connects on node-datachannel fail at once and work when tried again ("remote candidate without
 * ICE transport", about 1 connect in 10 when 10 processes share 2 cores), and each waited 200-400 ms.
 */
const FIRST_REDIAL_MAX_MS = 50;
/** Re-dial delay after the second failure in a row; it doubles with each further one up to `reconnectMaxDelayMs`. */
const REDIAL_BASE_MS = 400;

/** The backoff before re-dialing after `failures` failed connects in a row (0: a channel that was up broke). @internal */
export function redialBackoffMs(failures: number, reconnectMaxDelayMs: number): number {
  return failures <= 1
    ? Math.random() * FIRST_REDIAL_MAX_MS
    : backoffDelayMs(failures - 1, REDIAL_BASE_MS, reconnectMaxDelayMs);
}

/** Pending re-dials and connect attempts that failed in a row, by participant id. @internal */
export class Redials {
  /** Pending re-dials, by participant id. */
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Connection attempts that failed in a row, by participant id; cleared when one succeeds. */
  readonly #failures = new Map<string, number>();

  /** Whether a re-dial of `id` is waiting. */
  has(id: string): boolean {
    return this.#timers.has(id);
  }

  /** Calls `dial` in `delayMs`, as the pending re-dial of `id` (in place of one already pending). */
  schedule(id: string, delayMs: number, dial: () => void): void {
    // A timer replaced without being cleared still fired: an early dial, and a process held open after close.
    this.cancel(id);
    this.#timers.set(id, setTimeout(dial, delayMs));
  }

  /** Stops the pending re-dial of `id`, if any. */
  cancel(id: string): void {
    const timer = this.#timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(id);
  }

  /** Connect attempts to `id` that failed in a row. */
  failures(id: string): number {
    return this.#failures.get(id) ?? 0;
  }

  /** Forgets the failures of `id`: it connected, or the server listed it afresh. */
  clearFailures(id: string): void {
    this.#failures.delete(id);
  }

  /** A connection to `id` closed: one failure more in a row, or none if it had been up. Returns the count. */
  countClose(id: string, wasUp: boolean): number {
    const failures = wasUp ? 0 : this.failures(id) + 1;
    this.#failures.set(id, failures);
    return failures;
  }

  /** Stops every pending re-dial and forgets every failure. */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#failures.clear();
  }
}
