/** One send waiting for its acknowledgement. @internal */
export interface PendingSend {
  readonly seq: number;
  /** When its acknowledgement is overdue (ms since the epoch); Infinity until its last frame leaves. */
  deadlineMs: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * A {@link PendingSend} made by `new`, not as an object literal: V8 (Node 20) tracks each literal's allocation
 * site and, once a burst of pipelined sends kept every one of them past scavenges, allocated that site's
 * objects in the old generation from then on, where each later send's record then died (see Outbox's Entry).
 */
class Waiting implements PendingSend {
  deadlineMs = Infinity;
  settled = false;

  constructor(
    readonly seq: number,
    public resolve: () => void,
    public reject: (err: Error) => void,
  ) {}
}

/**
 * The sends of one link that wait for acknowledgement. Whole messages are acknowledged in seq order, so
 * they sit in a queue resolved from the head; messages sent in chunks may complete out of order, so the
 * few in flight sit in a map. An ack says "everything up to seq, except these incomplete ones".
 * @internal
 */
export class PendingSends {
  #queue: PendingSend[] = [];
  #head = 0;
  readonly #chunked = new Map<number, PendingSend>();

  /** Number of sends waiting. */
  get size(): number {
    let n = this.#chunked.size;
    for (let i = this.#head; i < this.#queue.length; i++) if (!(this.#queue[i] as PendingSend).settled) n++;
    return n;
  }

  /** True while any send may still wait (cheap; a cancelled send may count until the queue moves past it). */
  get hasWaiting(): boolean {
    return this.#head < this.#queue.length || this.#chunked.size > 0;
  }

  /** Adds a send; `chunked` when its attachment goes in chunks. */
  add(seq: number, chunked: boolean, resolve: () => void, reject: (err: Error) => void): PendingSend {
    const p = new Waiting(seq, resolve, reject);
    if (chunked) this.#chunked.set(seq, p);
    else this.#queue.push(p);
    return p;
  }

  /** Applies an acknowledgement: resolves every send up to `seq` except the `incomplete` ones. */
  ack(seq: number, incomplete: readonly number[]): void {
    while (this.#head < this.#queue.length) {
      const p = this.#queue[this.#head] as PendingSend;
      if (p.seq > seq) break;
      this.#queue[this.#head++] = SETTLED;
      this.#settle(p, undefined);
    }
    for (const p of this.#chunked.values()) {
      if (p.seq <= seq && !incomplete.includes(p.seq)) this.#settle(p, undefined);
    }
    this.#compact();
  }

  /** Rejects one send (cancelled). */
  reject(p: PendingSend, err: Error): void {
    this.#settle(p, err);
  }

  /** Rejects the chunked send of this seq, if it waits (the receiver refused it). */
  rejectSeq(seq: number, err: Error): void {
    const p = this.#chunked.get(seq);
    if (p !== undefined) this.#settle(p, err);
  }

  /** Rejects the sends whose deadline has passed, with the error `timeout` makes. */
  expire(nowMs: number, timeout: () => Error): void {
    // Whole messages leave in seq order, so their deadlines grow along the queue.
    while (this.#head < this.#queue.length) {
      const p = this.#queue[this.#head] as PendingSend;
      if (!p.settled && p.deadlineMs > nowMs) break;
      this.#queue[this.#head++] = SETTLED;
      if (!p.settled) this.#settle(p, timeout());
    }
    for (const p of this.#chunked.values()) if (p.deadlineMs <= nowMs) this.#settle(p, timeout());
    this.#compact();
  }

  /**
   * Gives every send still waiting without a deadline (none of it written yet) the deadline `deadlineMs`: the
   * link they waited for was closed as stuck. Later than every deadline set before, so the queue's order
   * holds; a send written later keeps it (see Sender's onSent).
   */
  startDeadlines(deadlineMs: number): void {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const p = this.#queue[i] as PendingSend;
      if (!p.settled && p.deadlineMs === Infinity) p.deadlineMs = deadlineMs;
    }
    for (const p of this.#chunked.values()) if (p.deadlineMs === Infinity) p.deadlineMs = deadlineMs;
  }

  /** Rejects every send waiting. */
  rejectAll(err: Error): void {
    const queue = this.#queue;
    const head = this.#head;
    this.#queue = [];
    this.#head = 0;
    for (let i = head; i < queue.length; i++) this.#settle(queue[i] as PendingSend, err);
    for (const p of [...this.#chunked.values()]) this.#settle(p, err);
  }

  #settle(p: PendingSend, err: Error | undefined): void {
    this.#chunked.delete(p.seq);
    if (p.settled) return;
    p.settled = true;
    if (err === undefined) p.resolve();
    else p.reject(err);
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

const SETTLED: PendingSend = new Waiting(
  0,
  () => {},
  () => {},
);
SETTLED.settled = true;
SETTLED.deadlineMs = 0;
