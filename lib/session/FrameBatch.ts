/** Where a {@link FrameBatch} writes: a {@link PeerLink} in practice. @internal */
export interface MessageSink {
  readonly writable: boolean;
  /** `bulk`: a large frame in a message of its own (see `Link.write`). */
  write(bytes: Uint8Array, bulk?: boolean): boolean;
}

const scheduleMicrotask: (fn: () => void) => void =
  typeof queueMicrotask === 'function' ? queueMicrotask : (fn) => void Promise.resolve().then(fn);

/**
 * Coalesces the small frames written in one turn of the event loop into one data-channel message (the
 * frames back to back, a CBOR sequence), flushed when the current task ends or the batch is full (or at
 * once for the first message of a turn: {@link flushFirst}). One message, and usually one packet, instead
 * of one per frame: measured, node-datachannel's `send` was 45% of a sender's time in a stream of small
 * messages, and each went out in a UDP packet of its own.
 * A large frame (over a quarter of the batch size: an attachment chunk) goes in a message of its own,
 * after the batch before it, so order is kept; and it is written at once, never kept, which lets the
 * outbox cut every full chunk into one reused buffer.
 * @internal
 */
export class FrameBatch {
  readonly #sink: MessageSink;
  #maxBytes: number;
  #frames: Uint8Array[] = [];
  #bytes = 0;
  #scheduled = false;
  /** True from a {@link flushFirst} until the end of the turn: later frames of the turn are batched. */
  #flushedFirst = false;

  constructor(sink: MessageSink, maxBytes: number) {
    this.#sink = sink;
    this.#maxBytes = maxBytes;
  }

  /** Sets the largest message (once the peer's limits are known). */
  setMaxBytes(bytes: number): void {
    this.#maxBytes = bytes;
  }

  /** True when the link takes more (what waits in the batch is bounded by the batch size). */
  get writable(): boolean {
    return this.#sink.writable;
  }

  /** Bytes waiting in the batch. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Adds a frame; false when the link is gone. */
  write(frame: Uint8Array): boolean {
    if (frame.byteLength * 4 > this.#maxBytes) {
      return this.flush() && this.#sink.write(frame, true);
    }
    if (this.#bytes + frame.byteLength > this.#maxBytes && !this.flush()) return false;
    this.#frames.push(frame);
    this.#bytes += frame.byteLength;
    this.#schedule();
    return true;
  }

  /**
   * Writes what waits now, unless this turn already did: the first message of a turn leaves inside the task
   * that sent it, and the rest of a burst is batched at the end of the turn as before. A reply written in a
   * receive callback then leaves before that callback returns, as with a plain data channel.
   */
  flushFirst(): boolean {
    if (this.#flushedFirst) return true;
    this.#flushedFirst = true;
    this.#schedule();
    return this.flush();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    scheduleMicrotask(this.#endOfTurn);
  }

  // Bound once, not a closure per turn: less garbage per message sent.
  readonly #endOfTurn = (): void => {
    this.#scheduled = false;
    this.#flushedFirst = false;
    this.flush();
  };

  /** Writes what waits, as one message; false when the link is gone. */
  flush(): boolean {
    const frames = this.#frames;
    if (frames.length === 0) return true;
    const total = this.#bytes;
    this.#frames = [];
    this.#bytes = 0;
    const first = frames[0] as Uint8Array;
    if (frames.length === 1) return this.#sink.write(first);
    if (backToBack(frames)) return this.#sink.write(new Uint8Array(first.buffer, first.byteOffset, total));
    const message = new Uint8Array(total);
    let at = 0;
    for (const f of frames) {
      message.set(f, at);
      at += f.byteLength;
    }
    return this.#sink.write(message);
  }

  /** Drops what waits (the link closed). */
  clear(): void {
    this.#frames = [];
    this.#bytes = 0;
  }
}

/**
 * True when each frame starts where the one before it ends, in the same buffer: frames encoded one after
 * the other (an ack, then the reply carrying it) usually are, and then go as one view, not copied.
 */
function backToBack(frames: readonly Uint8Array[]): boolean {
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1] as Uint8Array;
    const b = frames[i] as Uint8Array;
    if (b.buffer !== a.buffer || b.byteOffset !== a.byteOffset + a.byteLength) return false;
  }
  return true;
}
