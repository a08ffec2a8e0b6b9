/** A message as {@link HeldMessages} keeps it: by its seq. @internal */
export interface Held {
  readonly seq: number;
}

/**
 * The messages sent and not yet covered by the peer's cumulative ack, in seq order: what a sender must be
 * able to send again on another link. An ack releases from the front, amortised O(1) per message; one it
 * lists as incomplete (an attachment still arriving) is set aside, so that the ones after it are released.
 * @internal
 */
export class HeldMessages<T extends Held> {
  #queue: T[] = [];
  #head = 0;
  /** Those an ack listed as incomplete (at most a few: the attachments in flight). */
  #incomplete: T[] = [];
  readonly #placeholder: T;

  /** `placeholder` fills the slots of released messages until the queue is compacted. */
  constructor(placeholder: T) {
    this.#placeholder = placeholder;
  }

  /** How many are held. */
  get size(): number {
    return this.#queue.length - this.#head + this.#incomplete.length;
  }

  /** Holds a message; seqs come in increasing order. */
  push(message: T): void {
    this.#queue.push(message);
  }

  /** The peer has every message up to `seq` except the `incomplete` ones: `release` is called for each. */
  acknowledged(seq: number, incomplete: readonly number[], release: (message: T) => void): void {
    if (this.#incomplete.length > 0) {
      const still: T[] = [];
      for (const m of this.#incomplete) {
        if (m.seq <= seq && !incomplete.includes(m.seq)) release(m);
        else still.push(m);
      }
      this.#incomplete = still;
    }
    while (this.#head < this.#queue.length) {
      const m = this.#queue[this.#head] as T;
      if (m.seq > seq) break;
      this.#queue[this.#head++] = this.#placeholder;
      if (incomplete.length > 0 && incomplete.includes(m.seq)) this.#incomplete.push(m);
      else release(m);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Every message held, in seq order (a new array). */
  all(): T[] {
    const all = this.#queue.slice(this.#head);
    if (this.#incomplete.length > 0) {
      all.push(...this.#incomplete);
      all.sort((x, y) => x.seq - y.seq);
    }
    return all;
  }

  /**
   * Calls `visit` on the messages held an ack listed as incomplete, then on those in seq order, until it
   * returns true for one of the latter or `skips` of them returned false.
   */
  scan(skips: number, visit: (message: T) => boolean): void {
    for (const m of this.#incomplete) visit(m);
    for (let i = this.#head; i < this.#queue.length && skips > 0; i++) {
      if (visit(this.#queue[i] as T)) return;
      skips--;
    }
  }

  /** The held message `seq`, if any (a binary search: the queue is in seq order). */
  find(seq: number): T | undefined {
    for (const m of this.#incomplete) if (m.seq === seq) return m;
    let lo = this.#head;
    let hi = this.#queue.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#queue[mid] as T;
      if (m.seq === seq) return m;
      if (m.seq < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Lets go of everything. */
  clear(): void {
    this.#queue = [];
    this.#head = 0;
    this.#incomplete = [];
  }
}
