/**
 * The client's share of the server's event queue. A server refuses an event with `TooManyRequests` while
 * `maxPendingEvents` earlier events of the connection wait there (a server starved of CPU falls behind), and
 * a refused relay frame breaks the relayed link it belonged to; so the client keeps its own events in
 * flight below that limit. Every event takes a slot when it is emitted. The server answers a connection's
 * events in order, so the reply to one frees its slot and the slot of every earlier event. A relay frame
 * has no acknowledgement of its own: one frame in `ackEvery`, and the one that fills the window, asks for
 * one, so a full window always has an answer coming. Events past the window wait here, in order.
 *
 * The window belongs to one connection: a new connection gets a new window, and {@link EventWindow.fail}
 * drops what waits on the old one (an answer lost with its connection never arrives).
 */
import type { Reply } from '../protocol/signaling.js';

/** The slot of one event emitted in an {@link EventWindow}. @internal */
export interface EventSlot {
  /** Whether the event must carry an acknowledgement (always, for an event that has one of its own). */
  readonly ack: boolean;
  /**
   * The event's reply arrived: frees its slot (and, when it was `inOrder`, the slot of every earlier event).
   * An event unanswered past its timeout counts as answered in order: the server answers in order, so
   * every earlier event is unanswered as long, and the events without an acknowledgement of their own
   * before it would otherwise hold their slots for good.
   */
  answered(inOrder: boolean): void;
}

/** An event taken by {@link EventWindow.take}, to withdraw it while it waits. @internal */
export type WaitingTicket = object;

interface Waiting {
  acked: boolean;
  run: (slot: EventSlot) => void;
  drop: () => void;
}

/** Events of one connection in flight to the server, kept below its limit. @internal */
export class EventWindow {
  /** Most events in flight at once. */
  readonly limit: number;
  readonly #ackEvery: number;
  #nextSeq = 0;
  /** Sequence numbers of the events emitted and not known to be answered, oldest first. */
  #open: number[] = [];
  /** Events emitted since the last one that asked for an acknowledgement. */
  #sinceAck = 0;
  #waiting: Waiting[] = [];
  #draining = false;
  #failed = false;

  /** `limit`: most events in flight (>= 1); `ackEvery`: at most this many unacknowledged events in a row (>= 1). */
  constructor(limit: number, ackEvery: number) {
    this.limit = Math.max(1, Math.floor(limit));
    this.#ackEvery = Math.max(1, Math.floor(ackEvery));
  }

  /** Events emitted and not known to be answered. */
  get inFlight(): number {
    return this.#open.length;
  }

  /** Events waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `run` with the event's slot once the window has room (at once when it has and nothing waits);
   * `run` must emit the event then. `acked`: the event has an acknowledgement of its own. `drop` runs
   * instead when the window fails first. Returns the event's ticket, for {@link withdraw}.
   * @example window.take(false, (slot) => socket.emit('relay', frame, slot.ack ? onReply : undefined), onGone)
   */
  take(acked: boolean, run: (slot: EventSlot) => void, drop: () => void): WaitingTicket {
    const entry: Waiting = { acked, run, drop };
    if (this.#failed) {
      drop();
      return entry;
    }
    this.#waiting.push(entry);
    this.#drain();
    return entry;
  }

  /** Takes the event of `ticket` out while it still waits (true); does nothing once it ran or was dropped (false). */
  withdraw(ticket: WaitingTicket): boolean {
    const at = this.#waiting.indexOf(ticket as Waiting);
    if (at < 0) return false;
    this.#waiting.splice(at, 1);
    return true;
  }

  /** The connection is gone: drops everything waiting, now and later. */
  fail(): void {
    this.#failed = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#open = [];
    for (const w of waiting) w.drop();
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (!this.#failed && this.#waiting.length > 0 && this.#open.length < this.limit) {
        const next = this.#waiting.shift() as Waiting;
        const seq = this.#nextSeq++;
        this.#open.push(seq);
        this.#sinceAck++;
        const ack = next.acked || this.#sinceAck >= this.#ackEvery || this.#open.length >= this.limit;
        if (ack) this.#sinceAck = 0;
        next.run({ ack, answered: (inOrder) => this.#answered(seq, inOrder) });
      }
    } finally {
      this.#draining = false;
    }
  }

  #answered(seq: number, inOrder: boolean): void {
    if (this.#failed) return;
    if (inOrder) {
      while (this.#open.length > 0 && (this.#open[0] as number) <= seq) this.#open.shift();
    } else {
      const at = this.#open.indexOf(seq);
      if (at >= 0) this.#open.splice(at, 1);
    }
    this.#drain();
  }
}

/**
 * Whether the server answered `reply` in the order of its connection's events. Refusals the server gives
 * before queueing an event (too large, too many waiting) come back at once, ahead of earlier events.
 * @internal
 */
export function answeredInOrder(reply: Reply<unknown> | undefined): boolean {
  if (reply === undefined || reply === null || reply.ok !== false) return reply?.ok === true;
  const reason = reply.error?.reason;
  return reason !== 'PayloadTooLarge' && reason !== 'TooManyRequests';
}

/** The window a client keeps for a server that takes `maxPendingEvents` (a quarter kept spare). @internal */
export function windowFor(maxPendingEvents: number): EventWindow {
  const limit = Math.max(1, Math.floor(maxPendingEvents * 0.75));
  return new EventWindow(limit, Math.max(1, Math.floor(limit / 3)));
}
