import type { FrameOf, RefuseReason } from '../protocol/frames.js';
import { FrameKind, MAX_CONCURRENT_TRANSFERS } from '../protocol/frames.js';
import type { JsonObject } from '../protocol/json.js';

/** An attachment arriving in chunks. @internal */
export interface IncomingTransfer {
  readonly seq: number;
  readonly type: string;
  readonly payload: JsonObject;
  readonly totalBytes: number;
  readonly receivedBytes: number;
}

interface Transfer extends IncomingTransfer {
  receivedBytes: number;
  buffer: Uint8Array;
}

/** A whole message, ready to deliver. @internal */
export interface Delivery {
  seq: number;
  type: string;
  payload: JsonObject;
  attachment: Uint8Array | undefined;
}

/** What a frame did to the inbox. @internal */
export type InboxResult =
  | { kind: 'deliver'; delivery: Delivery; transfer?: IncomingTransfer }
  | { kind: 'progress'; transfer: IncomingTransfer }
  | { kind: 'aborted'; transfer: IncomingTransfer }
  | { kind: 'refuse'; seq: number; reason: RefuseReason; detail: string; transfer?: IncomingTransfer }
  | { kind: 'violation'; detail: string }
  | { kind: 'ignored' };

/** Seqs of dropped messages remembered, so their chunks still in flight are ignored, not taken as lies. */
const REMEMBERED_DROPS = 64;

/**
 * The receiving half of one link: checks that messages arrive in seq order, reassembles chunked
 * attachments into one buffer of the announced size (never more than `maxAttachmentBytes`, and at most
 * {@link MAX_CONCURRENT_TRANSFERS} at once), and knows what to acknowledge. It holds no timers and
 * does no I/O; the session acts on what it returns.
 * @internal
 */
export class Inbox {
  readonly #maxAttachmentBytes: number;
  #nextSeq = 1;
  readonly #transfers = new Map<number, Transfer>();
  readonly #dropped: number[] = [];

  constructor(maxAttachmentBytes: number) {
    this.#maxAttachmentBytes = maxAttachmentBytes;
  }

  /** Highest seq accounted for: every message up to it arrived whole, except {@link incomplete}. */
  get ackSeq(): number {
    return this.#nextSeq - 1;
  }

  /** Seqs of the messages whose attachments are still arriving. */
  get incomplete(): number[] {
    return [...this.#transfers.keys()];
  }

  /** Bytes held for attachments still arriving. */
  get heldBytes(): number {
    let n = 0;
    for (const t of this.#transfers.values()) n += t.buffer.byteLength;
    return n;
  }

  /** A message that came whole in one frame. */
  message(frame: FrameOf<typeof FrameKind.Message>): InboxResult {
    const bad = this.#takeSeq(frame.seq, 'message');
    if (bad !== undefined) return bad;
    return { kind: 'deliver', delivery: { seq: frame.seq, type: frame.type, payload: frame.payload, attachment: frame.attachment } };
  }

  /** A message whose attachment follows in chunks. */
  start(frame: FrameOf<typeof FrameKind.Start>): InboxResult {
    const bad = this.#takeSeq(frame.seq, 'start');
    if (bad !== undefined) return bad;
    const { seq, type, payload, totalBytes } = frame;
    if (totalBytes > this.#maxAttachmentBytes) {
      return this.#refuse(seq, 'TooLarge', `announced a ${totalBytes}-byte attachment; this participant accepts at most ${this.#maxAttachmentBytes}`);
    }
    if (this.#transfers.size >= MAX_CONCURRENT_TRANSFERS) {
      return this.#refuse(seq, 'TooManyTransfers', `started more than ${MAX_CONCURRENT_TRANSFERS} attachments at once`);
    }
    let buffer: Uint8Array;
    try {
      buffer = new Uint8Array(totalBytes);
    } catch {
      return this.#refuse(seq, 'NoMemory', `cannot allocate ${totalBytes} bytes for an attachment`);
    }
    if (totalBytes === 0) return { kind: 'deliver', delivery: { seq, type, payload, attachment: buffer } };
    const transfer: Transfer = { seq, type, payload, totalBytes, receivedBytes: 0, buffer };
    this.#transfers.set(seq, transfer);
    return { kind: 'progress', transfer };
  }

  /** Attachment bytes of a started message. */
  chunk(frame: FrameOf<typeof FrameKind.Chunk>): InboxResult {
    const t = this.#transfers.get(frame.seq);
    if (t === undefined) {
      if (this.#dropped.includes(frame.seq)) return { kind: 'ignored' };
      return { kind: 'violation', detail: `chunk of message ${frame.seq}, which is not being received` };
    }
    const length = frame.bytes.byteLength;
    if (frame.offset !== t.receivedBytes || length === 0 || t.receivedBytes + length > t.totalBytes) {
      this.#forget(t);
      return {
        kind: 'refuse',
        seq: t.seq,
        reason: 'Invalid',
        detail: `chunk of message ${t.seq} at ${frame.offset} with ${length} bytes; expected offset ${t.receivedBytes} and at most ${t.totalBytes - t.receivedBytes} bytes`,
        transfer: t,
      };
    }
    t.buffer.set(frame.bytes, t.receivedBytes);
    t.receivedBytes += length;
    if (t.receivedBytes < t.totalBytes) return { kind: 'progress', transfer: t };
    this.#transfers.delete(t.seq);
    return { kind: 'deliver', delivery: { seq: t.seq, type: t.type, payload: t.payload, attachment: t.buffer }, transfer: t };
  }

  /** The sender withdrew message `seq`. */
  cancel(seq: number): InboxResult {
    const t = this.#transfers.get(seq);
    if (t !== undefined) {
      this.#forget(t);
      return { kind: 'aborted', transfer: t };
    }
    if (seq === this.#nextSeq) {
      this.#nextSeq++; // withdrawn before any of it left
      return { kind: 'ignored' };
    }
    if (this.#dropped.includes(seq)) return { kind: 'ignored' };
    return { kind: 'violation', detail: `cancel of message ${seq}, which is not being received` };
  }

  /** Drops every attachment still arriving (the link closed); returns them. */
  clear(): IncomingTransfer[] {
    const all = [...this.#transfers.values()];
    for (const t of all) t.buffer = EMPTY;
    this.#transfers.clear();
    return all;
  }

  #takeSeq(seq: number, what: string): InboxResult | undefined {
    if (seq !== this.#nextSeq) return { kind: 'violation', detail: `${what} seq ${seq}, expected ${this.#nextSeq}` };
    this.#nextSeq++;
    return undefined;
  }

  #refuse(seq: number, reason: RefuseReason, detail: string): InboxResult {
    this.#remember(seq);
    return { kind: 'refuse', seq, reason, detail };
  }

  #forget(t: Transfer): void {
    this.#transfers.delete(t.seq);
    t.buffer = EMPTY;
    this.#remember(t.seq);
  }

  #remember(seq: number): void {
    this.#dropped.push(seq);
    if (this.#dropped.length > REMEMBERED_DROPS) this.#dropped.shift();
  }
}

const EMPTY = new Uint8Array(0);
