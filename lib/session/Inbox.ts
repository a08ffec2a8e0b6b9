import type { Call, FrameOf, RefuseReason } from '../protocol/frames.js';
import { FrameKind, MAX_CONCURRENT_TRANSFERS } from '../protocol/frames.js';
import type { JsonObject } from '../protocol/json.js';

/** An attachment arriving in chunks. @internal */
export interface IncomingTransfer {
  readonly seq: number;
  readonly type: string;
  readonly payload: JsonObject;
  readonly totalBytes: number;
  readonly receivedBytes: number;
  /** Set when the message is a request or a reply. */
  readonly call?: Call;
}

interface Transfer extends IncomingTransfer {
  receivedBytes: number;
  call?: Call;
  buffer: Uint8Array;
  /** When the start or the latest chunk arrived (Date.now()). */
  lastProgressAtMs: number;
  /** The most progress reported (-1: none yet): an attachment sent again after a move never reports less. */
  reportedBytes: number;
}

/**
 * The most bytes of incomplete attachments one peer may hold: half of the budget over all peers (one peer
 * held it all with four large starts, and every other peer's attachment was refused: found by a review
 * written as a hostile peer), and never less than one attachment of the largest size taken. @internal
 */
export function peerShare(budgetBytes: number, maxAttachmentBytes: number): number {
  return Math.max(Math.floor(budgetBytes / 2), Math.min(maxAttachmentBytes, budgetBytes));
}

/**
 * Bytes held for incomplete incoming attachments, shared by every link of one participant: a `start`
 * reserves its `totalBytes` (the buffer is allocated whole, at once), completion or abandonment releases them.
 * @internal
 */
export class AttachmentBudget {
  readonly #maxBytes: number;
  #heldBytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The cap. */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Bytes reserved now, over every link. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Reserves `bytes`; false, reserving nothing, when that would pass the cap. */
  reserve(bytes: number): boolean {
    if (this.#heldBytes + bytes > this.#maxBytes) return false;
    this.#heldBytes += bytes;
    return true;
  }

  /** Gives back what {@link reserve} took. */
  release(bytes: number): void {
    this.#heldBytes -= bytes;
  }
}

/** A whole message, ready to deliver. @internal */
export interface Delivery {
  seq: number;
  type: string;
  payload: JsonObject;
  attachment: Uint8Array | undefined;
  /** Set when the message is a request or a reply. */
  call?: Call;
}

/** What a frame did to the inbox. @internal */
export type InboxResult =
  | { kind: 'deliver'; delivery: Delivery; transfer?: IncomingTransfer }
  | { kind: 'progress'; transfer: IncomingTransfer }
  | { kind: 'aborted'; transfer: IncomingTransfer }
  | { kind: 'refuse'; seq: number; reason: RefuseReason; detail: string; transfer?: IncomingTransfer }
  | { kind: 'violation'; detail: string }
  | { kind: 'ignored' };

/**
 * The receiving half of a session: checks that messages arrive in seq order, reassembles chunked
 * attachments into one buffer of the announced size (never more than `maxAttachmentBytes`, and at most
 * {@link MAX_CONCURRENT_TRANSFERS} at once, and never past the participant's {@link AttachmentBudget}), and
 * knows what to acknowledge. A seq already accounted for (a sender replaying after a move between links,
 * or the chunks of a message dropped) is ignored, never delivered twice; see {@link park}. It holds no timers
 * and does no I/O; the session acts on what it returns, and asks it for {@link stalled} transfers.
 * @internal
 */
export class Inbox {
  readonly #maxAttachmentBytes: number;
  #nextSeq = 1;
  readonly #transfers = new Map<number, Transfer>();
  /** Attachments set aside by {@link park}: their seq is taken, their bytes are not held; the sender restarts them. */
  readonly #parked = new Map<number, Transfer>();
  readonly #budget: AttachmentBudget;

  /** Bytes reserved for this peer's attachments being received (at most MAX_CONCURRENT_TRANSFERS of them). */
  #heldBytes(): number {
    let bytes = 0;
    for (const t of this.#transfers.values()) bytes += t.totalBytes;
    return bytes;
  }

  constructor(maxAttachmentBytes: number, budget: AttachmentBudget) {
    this.#maxAttachmentBytes = maxAttachmentBytes;
    this.#budget = budget;
  }

  /** Highest seq accounted for: every message up to it arrived whole, except {@link incomplete}. */
  get ackSeq(): number {
    return this.#nextSeq - 1;
  }

  /** How many {@link incomplete} lists, without making the list. */
  get incompleteCount(): number {
    return this.#transfers.size + this.#parked.size;
  }

  /** Seqs of the messages whose attachments are still arriving (or are to be sent again from the start). */
  get incomplete(): number[] {
    if (this.#parked.size === 0) return [...this.#transfers.keys()];
    return [...this.#transfers.keys(), ...this.#parked.keys()];
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
    if (this.#parked.size > 0) this.#parked.delete(frame.seq);
    const delivery: Delivery = {
      seq: frame.seq,
      type: frame.type,
      payload: frame.payload,
      attachment: frame.attachment,
    };
    if (frame.call !== undefined) delivery.call = frame.call;
    return { kind: 'deliver', delivery };
  }

  /** A message whose attachment follows in chunks. */
  start(frame: FrameOf<typeof FrameKind.Start>): InboxResult {
    // A parked attachment starts again from offset 0, under the seq it already took; so does one being
    // received, which a sender that moved twice sends again (its earlier chunks came before, in order).
    const again = this.#transfers.get(frame.seq);
    if (again !== undefined) {
      // Not progress: the stall clock runs on from the last chunk (a peer that sent the start again and
      // again, and no chunk, held its bytes for good: found by a review written as a hostile peer).
      again.receivedBytes = 0;
      return this.#progress(again);
    }
    const parked = this.#parked.get(frame.seq);
    const restart = this.#parked.delete(frame.seq);
    if (!restart) {
      const bad = this.#takeSeq(frame.seq, 'start');
      if (bad !== undefined) return bad;
    }
    const { seq, type, payload, totalBytes } = frame;
    if (totalBytes > this.#maxAttachmentBytes) {
      return this.#refuse(
        seq,
        'TooLarge',
        `announced a ${totalBytes}-byte attachment; this participant accepts at most ${this.#maxAttachmentBytes}`,
      );
    }
    if (this.#transfers.size + this.#parked.size >= MAX_CONCURRENT_TRANSFERS) {
      return this.#refuse(seq, 'TooManyTransfers', `started more than ${MAX_CONCURRENT_TRANSFERS} attachments at once`);
    }
    if (totalBytes === 0) {
      const delivery: Delivery = { seq, type, payload, attachment: new Uint8Array(0) };
      if (frame.call !== undefined) delivery.call = frame.call;
      return { kind: 'deliver', delivery };
    }
    const ownBytes = this.#heldBytes();
    const share = peerShare(this.#budget.maxBytes, this.#maxAttachmentBytes);
    if (ownBytes + totalBytes > share) {
      return this.#refuse(
        seq,
        'NoMemory',
        `announced a ${totalBytes}-byte attachment; this peer's incomplete attachments already hold ${ownBytes} of the ${share} bytes one peer may`,
      );
    }
    if (!this.#budget.reserve(totalBytes)) {
      const { heldBytes, maxBytes } = this.#budget;
      return this.#refuse(
        seq,
        'NoMemory',
        `announced a ${totalBytes}-byte attachment; incomplete attachments already hold ${heldBytes} of at most ${maxBytes} bytes`,
      );
    }
    let buffer: Uint8Array;
    try {
      buffer = new Uint8Array(totalBytes);
    } catch {
      this.#budget.release(totalBytes);
      return this.#refuse(seq, 'NoMemory', `cannot allocate ${totalBytes} bytes for an attachment`);
    }
    const transfer: Transfer = {
      seq,
      type,
      payload,
      totalBytes,
      receivedBytes: 0,
      buffer,
      lastProgressAtMs: Date.now(),
      reportedBytes: parked?.reportedBytes ?? -1,
    };
    if (frame.call !== undefined) transfer.call = frame.call;
    this.#transfers.set(seq, transfer);
    return this.#progress(transfer);
  }

  /** Attachment bytes of a started message. */
  chunk(frame: FrameOf<typeof FrameKind.Chunk>): InboxResult {
    const t = this.#transfers.get(frame.seq);
    if (t === undefined) {
      // Accounted for: delivered, dropped, or parked (its chunks from before the move are not wanted).
      if (this.#accounted(frame.seq)) return { kind: 'ignored' };
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
    t.lastProgressAtMs = Date.now();
    if (t.receivedBytes < t.totalBytes) return this.#progress(t);
    this.#transfers.delete(t.seq);
    this.#budget.release(t.totalBytes);
    const delivery: Delivery = { seq: t.seq, type: t.type, payload: t.payload, attachment: t.buffer };
    if (t.call !== undefined) delivery.call = t.call;
    return { kind: 'deliver', delivery, transfer: t };
  }

  /** The sender withdrew message `seq`. */
  cancel(seq: number): InboxResult {
    const t = this.#transfers.get(seq);
    if (t !== undefined) {
      this.#forget(t);
      return { kind: 'aborted', transfer: t };
    }
    const parked = this.#parked.get(seq);
    if (parked !== undefined) {
      this.#parked.delete(seq);
      return { kind: 'aborted', transfer: parked };
    }
    if (seq === this.#nextSeq) {
      this.#nextSeq++; // withdrawn before any of it left
      return { kind: 'ignored' };
    }
    if (this.#accounted(seq)) return { kind: 'ignored' };
    return { kind: 'violation', detail: `cancel of message ${seq}, which is not being received` };
  }

  /**
   * The session moved to another link: the attachments still arriving are set aside, their bytes freed and
   * their budget given back, because the sender sends them again from offset 0 on the new link (a `start`
   * for a parked seq is taken, a `cancel` aborts it). They stay {@link incomplete} until then, so that no
   * ack reads them as delivered.
   */
  park(): void {
    for (const t of this.#transfers.values()) {
      this.#budget.release(t.totalBytes);
      t.buffer = EMPTY;
      t.lastProgressAtMs = Date.now(); // its stall timeout counts from the move
      this.#parked.set(t.seq, t);
    }
    this.#transfers.clear();
  }

  /**
   * Refuses every attachment that has had no chunk since `sinceMs` (a peer that announces an attachment and
   * stops sending it would otherwise hold its buffer for as long as it keeps the link alive).
   */
  stalled(sinceMs: number, timeoutMs: number): InboxResult[] {
    const out: InboxResult[] = [];
    for (const t of [...this.#parked.values()]) {
      if (t.lastProgressAtMs >= sinceMs) continue;
      this.#parked.delete(t.seq);
      const detail = `message ${t.seq} not sent again for ${timeoutMs} ms after a move between links`;
      out.push({ kind: 'refuse', seq: t.seq, reason: 'Stalled', detail, transfer: t });
    }
    for (const t of [...this.#transfers.values()]) {
      if (t.lastProgressAtMs >= sinceMs) continue;
      this.#forget(t);
      const detail = `no chunk of message ${t.seq} for ${timeoutMs} ms (${t.receivedBytes} of ${t.totalBytes} bytes arrived)`;
      out.push({ kind: 'refuse', seq: t.seq, reason: 'Stalled', detail, transfer: t });
    }
    return out;
  }

  /** Drops every attachment still arriving, parked ones too (the session closed); returns them. */
  clear(): IncomingTransfer[] {
    const all = [...this.#transfers.values()];
    for (const t of all) {
      t.buffer = EMPTY;
      this.#budget.release(t.totalBytes);
    }
    this.#transfers.clear();
    all.push(...this.#parked.values());
    this.#parked.clear();
    return all;
  }

  /** Takes the next seq; a seq already accounted for is a duplicate, ignored (and acknowledged again). */
  #takeSeq(seq: number, what: string): InboxResult | undefined {
    if (this.#accounted(seq)) return this.#parked.has(seq) ? undefined : { kind: 'ignored' };
    if (seq !== this.#nextSeq) return { kind: 'violation', detail: `${what} seq ${seq}, expected ${this.#nextSeq}` };
    this.#nextSeq++;
    return undefined;
  }

  /** Progress of `t`, or nothing when as much was reported before (it is being sent again after a move). */
  #progress(t: Transfer): InboxResult {
    if (t.receivedBytes <= t.reportedBytes) return { kind: 'ignored' };
    t.reportedBytes = t.receivedBytes;
    return { kind: 'progress', transfer: t };
  }

  /** A seq that arrived already (delivered, refused, cancelled, or parked). */
  #accounted(seq: number): boolean {
    return seq > 0 && seq < this.#nextSeq;
  }

  #refuse(seq: number, reason: RefuseReason, detail: string): InboxResult {
    return { kind: 'refuse', seq, reason, detail };
  }

  #forget(t: Transfer): void {
    this.#transfers.delete(t.seq);
    this.#budget.release(t.totalBytes);
    t.buffer = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);
