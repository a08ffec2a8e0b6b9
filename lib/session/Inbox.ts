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
  /** When its first start arrived (Date.now()); kept when it starts again, so its rate cannot be reset. */
  startedAtMs: number;
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
 * How long an incomplete attachment arrives before its rate is judged (see {@link AttachmentBudget.reclaim}):
 * long enough to mean something on a slow link, shorter than the stall timeout that a trickle evades.
 * @internal
 */
export const RECLAIM_JUDGED_AFTER_MS = 10_000;
/**
 * When the budget is full, an attachment that would need longer than this to finish, at its rate since it
 * started, gives its bytes to a new one (256 MiB in 10 minutes is 437 KiB/s). @internal
 */
export const RECLAIM_SLOWER_THAN_MS = 10 * 60_000;

/** An incomplete attachment that {@link AttachmentBudget.reclaim} may take the bytes of. @internal */
export interface SlowTransfer {
  seq: number;
  /** The bytes it holds. */
  bytes: number;
  /** How long it would take to finish at its rate so far (Infinity: nothing arrived). */
  finishMs: number;
}

/** What holds part of an {@link AttachmentBudget}: a session's receiver. @internal */
export interface BudgetHolder {
  /** Its incomplete attachments that are slow enough to give up their bytes at `nowMs`. */
  slowTransfers(nowMs: number): SlowTransfer[];
  /** Refuses attachment `seq` (`NoMemory`) and frees its bytes at once. */
  evict(seq: number, detail: string): void;
}

/**
 * Bytes held for incomplete incoming attachments, shared by every link of one participant: a `start`
 * reserves its `totalBytes` (the buffer is allocated whole, at once), completion or abandonment releases them.
 * When a start does not fit, the slowest attachments may give theirs up ({@link reclaim}).
 * @internal
 */
export class AttachmentBudget {
  readonly #maxBytes: number;
  #heldBytes = 0;
  readonly #holders = new Set<BudgetHolder>();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Adds a holder whose slow attachments {@link reclaim} may take; {@link removeHolder} when it closes. */
  addHolder(holder: BudgetHolder): void {
    this.#holders.add(holder);
  }

  /** Removes a holder added by {@link addHolder}. */
  removeHolder(holder: BudgetHolder): void {
    this.#holders.delete(holder);
  }

  /** How many holders there are (a closed session that stayed would leak). */
  get holders(): number {
    return this.#holders.size;
  }

  /**
   * Makes room for `bytes` that do not fit, by refusing the slowest incomplete attachments of any peer
   * (this one's too): those that have arrived for {@link RECLAIM_JUDGED_AFTER_MS} and would need more than
   * {@link RECLAIM_SLOWER_THAN_MS} to finish at their rate so far, slowest first. Without this, peers that
   * announce attachments and send a chunk every few seconds (under the stall timeout) held the whole budget,
   * and every other attachment was refused. Refuses none when they cannot free enough. True when `bytes`
   * are reserved.
   */
  reclaim(bytes: number, nowMs: number): boolean {
    const need = this.#heldBytes + bytes - this.#maxBytes;
    if (need <= 0) return this.reserve(bytes);
    if (bytes > this.#maxBytes) return false;
    const slow: Array<SlowTransfer & { holder: BudgetHolder }> = [];
    for (const holder of this.#holders) for (const t of holder.slowTransfers(nowMs)) slow.push({ ...t, holder });
    slow.sort((a, b) => b.finishMs - a.finishMs);
    const chosen: typeof slow = [];
    let freed = 0;
    for (const t of slow) {
      if (freed >= need) break;
      chosen.push(t);
      freed += t.bytes;
    }
    if (freed < need) return false;
    for (const t of chosen) {
      const finish = Number.isFinite(t.finishMs) ? `${Math.round(t.finishMs / 1000)} s` : 'ever (nothing arrived)';
      t.holder.evict(
        t.seq,
        `attachment ${t.seq} would take ${finish} to finish at its rate so far; its ${t.bytes} bytes went to a new attachment`,
      );
    }
    return this.reserve(bytes);
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
    const nowMs = Date.now();
    if (!this.#budget.reserve(totalBytes) && !this.#budget.reclaim(totalBytes, nowMs)) {
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
      startedAtMs: parked?.startedAtMs ?? nowMs,
      lastProgressAtMs: nowMs,
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

  /** The attachments being received that {@link AttachmentBudget.reclaim} may take the bytes of at `nowMs`. */
  slowTransfers(nowMs: number): SlowTransfer[] {
    const out: SlowTransfer[] = [];
    for (const t of this.#transfers.values()) {
      const ageMs = nowMs - t.startedAtMs;
      if (ageMs < RECLAIM_JUDGED_AFTER_MS) continue;
      const finishMs = t.receivedBytes === 0 ? Infinity : ((t.totalBytes - t.receivedBytes) * ageMs) / t.receivedBytes;
      if (finishMs > RECLAIM_SLOWER_THAN_MS) out.push({ seq: t.seq, bytes: t.totalBytes, finishMs });
    }
    return out;
  }

  /** Refuses attachment `seq` being received, for the budget (`NoMemory`), freeing its bytes; undefined when it is not. */
  evict(seq: number, detail: string): InboxResult | undefined {
    const t = this.#transfers.get(seq);
    if (t === undefined) return undefined;
    this.#forget(t);
    return { kind: 'refuse', seq, reason: 'NoMemory', detail, transfer: t };
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
