import type { Logger } from '../logger.js';
import {
  CHUNK_OVERHEAD_BYTES,
  FrameKind,
  MAX_CONCURRENT_TRANSFERS,
  encodeChunk,
  encodeFrame,
} from '../protocol/frames.js';
import { HeldMessages } from './HeldMessages.js';

/** Where the outbox writes: a {@link PeerLink} in practice. @internal */
export interface FrameSink {
  /** True when a frame may be written now. */
  readonly writable: boolean;
  /** Writes one frame; false when the link is gone. */
  write(bytes: Uint8Array): boolean;
}

/** Told how much of an attachment was handed to the channel so far. @internal */
export type ProgressCallback = (sentBytes: number, totalBytes: number) => void;

/** A message in the outbox. @internal */
export interface OutgoingMessage {
  readonly seq: number;
  /** `queued`: nothing written; `sending`: start frame written, chunks going; `sent`: all written; `dropped`: cancelled or refused. */
  readonly state: 'queued' | 'sending' | 'sent' | 'dropped';
}

/**
 * A message held by the outbox. A class, not an object literal: V8 (Node 20) tracks each literal's allocation
 * site, and once a burst of pipelined sends held every message until its ack (all outliving scavenges), it
 * allocated this site's objects in the old generation from then on. Every later message's entry then died
 * there, and the young objects it pointed to (frame, promise, callbacks) survived scavenges through it.
 * Objects made by `new` have no allocation site.
 */
class Entry implements OutgoingMessage {
  /** The most `onProgress` was told (-1: nothing yet): sent again after a move, it is not told less. */
  reportedBytes = -1;
  sentBytes = 0;
  /** An ack covered it: it is no longer held, and not sent again. */
  released: boolean;
  /** Bytes of its head it counts among those written whole and not yet acknowledged (0: not counted). */
  unackedBytes = 0;
  /** When it was first written whole (Date.now()); 0 until then. Sent again after a move, it keeps this. */
  writtenAtMs = 0;

  constructor(
    readonly seq: number,
    public state: 'queued' | 'sending' | 'sent' | 'dropped',
    /** The whole message, or its start frame when `attachment` follows in chunks. */
    public head: Uint8Array,
    public attachment: Uint8Array | undefined,
    public onProgress: ProgressCallback | undefined,
    /** Handed to the outbox's `onSent` when the last frame left. */
    public tag: unknown,
    released = false,
  ) {
    this.released = released;
  }
}

/**
 * Messages written whole to a peer that no ack covers yet, or the bytes of their frames (whole messages and
 * start frames; an attachment sent in chunks is the app's own buffer, not counted), past which the peer is
 * *behind*. An honest peer acknowledges what it has at each turn of its event loop: it is behind only while
 * it works through a burst (1,000,000 pipelined messages kept up to 395,470 waiting, measured here). A peer
 * behind whose oldest such message waits too long (see Session) reads but does not acknowledge, and every
 * message (the reply to each of its requests too) would be held for good: a review written as a hostile peer
 * took a receiver's heap past 220 MB that way, to a crash, with requests it never acknowledged.
 */
export const UNACKNOWLEDGED_BEHIND = Object.freeze({ messages: 4096, bytes: 16 * 1024 * 1024 });

/** A control frame, or a function that encodes one when it is its turn (so that acks coalesce). */
type Control = Uint8Array | (() => Uint8Array | undefined);

/**
 * The frames waiting for one link, and the order they go in. Control frames (acks, pings, attributes,
 * cancel, refuse, bye) go first. Then lanes take turns, one frame each: the message lane (whole
 * messages and start frames, in seq order) and one lane per attachment being sent (up to
 * {@link MAX_CONCURRENT_TRANSFERS}). So a small message sent during a large transfer goes out after at
 * most a few chunks, and two transfers share the channel. Chunks are cut from the caller's attachment
 * only when it is their turn and the link is writable: nothing is copied ahead.
 *
 * Every message stays held (its head frame and a reference to its attachment, never a copy) until the
 * peer's cumulative ack covers it, so that {@link rewind} can send it again on another link.
 * @internal
 */
export class Outbox {
  readonly #sink: FrameSink;
  readonly #logger: Logger;
  readonly #onSent: (tag: unknown) => void;
  #chunkBytes: number;
  #control: Control[] = [];
  #controlHead = 0;
  #messages: Entry[] = [];
  #messagesHead = 0;
  /** Lanes in turn order: `null` is the message lane, an entry is an attachment being sent. */
  #turns: Array<Entry | null> = [null];
  #transfers = 0;
  /** The attachment bytes of the transfers under way, and the most the peer holds for this side at once. */
  #transferBytes = 0;
  #peerHeldBytes = Infinity;
  /** Every message pushed and not yet covered by an ack. */
  readonly #held = new HeldMessages<Entry>(PLACEHOLDER);
  #pumping = false;
  #closed = false;
  /** Messages written whole (every frame handed to a link, once at least) that no ack covers yet, and their bytes. */
  #unacked = 0;
  #unackedBytes = 0;
  /** Message frames written (whole messages, start frames, chunks): how a watcher sees the message lanes move. */
  #messageFrames = 0;

  /** `onSent` is told, with a message's `tag`, when the last frame of a tagged message was handed to the channel. */
  constructor(sink: FrameSink, chunkFrameBytes: number, logger: Logger, onSent: (tag: unknown) => void = () => {}) {
    this.#sink = sink;
    this.#chunkBytes = chunkFrameBytes;
    this.#logger = logger;
    this.#onSent = onSent;
  }

  /** True while more messages written whole wait for an ack than {@link UNACKNOWLEDGED_BEHIND}, in number or bytes. */
  get behind(): boolean {
    return this.#unacked > UNACKNOWLEDGED_BEHIND.messages || this.#unackedBytes > UNACKNOWLEDGED_BEHIND.bytes;
  }

  /**
   * When the oldest message written whole that no ack covers yet was first written (Date.now()), or undefined.
   * Messages are written in seq order but for attachments, which finish later: the first held message
   * written is the oldest, past at most a few not written yet.
   */
  get oldestUnacknowledgedAtMs(): number | undefined {
    let oldest: number | undefined;
    this.#held.scan(MAX_CONCURRENT_TRANSFERS + 2, (entry) => {
      if (entry.writtenAtMs === 0 || entry.unackedBytes === 0) return false;
      if (oldest === undefined || entry.writtenAtMs < oldest) oldest = entry.writtenAtMs;
      return true;
    });
    return oldest;
  }

  /** Messages written whole that no ack covers yet. */
  get unacknowledged(): number {
    return this.#unacked;
  }

  /** The bytes of their frames. */
  get unacknowledgedBytes(): number {
    return this.#unackedBytes;
  }

  /** Sets the chunk frame size (once the peer's limits are known). */
  setChunkFrameBytes(bytes: number): void {
    this.#chunkBytes = bytes;
  }

  /**
   * Message frames written so far (whole messages, start frames, chunks; not control frames): unchanged while
   * {@link messagesWaiting}, the message lanes are not moving.
   */
  get messageFramesWritten(): number {
    return this.#messageFrames;
  }

  /** True while a message waits to be written, or an attachment's chunks are still going. */
  get messagesWaiting(): boolean {
    return this.#messagesHead < this.#messages.length || this.#transfers > 0;
  }

  /** Messages held until an ack covers them. */
  get heldCount(): number {
    return this.#held.size;
  }

  /** True when nothing waits. */
  get isEmpty(): boolean {
    return (
      this.#controlHead === this.#control.length &&
      this.#messagesHead === this.#messages.length &&
      this.#transfers === 0
    );
  }

  /**
   * Queues a control frame ahead of every message, and writes what it can. An `urgent` one goes ahead of
   * the other control frames too.
   */
  pushControl(frame: Control, urgent = false): void {
    if (this.#closed) return;
    if (urgent) this.#control.splice(this.#controlHead, 0, frame);
    else this.#control.push(frame);
    this.pump();
  }

  /**
   * Queues a message. `head` is the whole message frame, or the start frame when `attachment` is to be
   * sent in chunks after it. A message with a `tag` is reported to `onSent` once all of it left.
   */
  pushMessage(
    seq: number,
    head: Uint8Array,
    attachment: Uint8Array | undefined,
    onProgress?: ProgressCallback,
    tag?: unknown,
  ): OutgoingMessage {
    const entry = new Entry(seq, 'queued', head, attachment, onProgress, tag);
    if (this.#closed) {
      entry.state = 'dropped';
      return entry;
    }
    this.#held.push(entry);
    // The common case, a small message on an idle writable link, goes out at once.
    if (attachment === undefined && this.isEmpty && !this.#pumping && this.#sink.writable) {
      if (this.#sink.write(head)) {
        this.#messageFrames++;
        if (onProgress !== undefined) this.#report(entry); // an attachment in the frame (see Sender.send)
        this.#finishSent(entry);
      }
      return entry;
    }
    this.#messages.push(entry);
    this.pump();
    return entry;
  }

  /**
   * Withdraws a message. Not yet written: a cancel frame takes its place, so its seq is still accounted
   * for. Partly written: its chunks stop and a cancel frame follows. Returns false when it is too late
   * (all written) or already dropped.
   */
  cancel(message: OutgoingMessage): boolean {
    const entry = message as Entry;
    if (entry.state === 'queued') {
      this.#drop(entry);
      this.pump();
      return true;
    }
    if (entry.state === 'sending') {
      this.#endTransfer(entry);
      this.#drop(entry);
      this.pushControl(entry.head);
      return true;
    }
    return false;
  }

  /** The receiver refused message `seq`: stop sending its chunks. Returns the message when one was in flight. */
  refused(seq: number): OutgoingMessage | undefined {
    for (const lane of this.#turns) {
      if (lane !== null && lane.seq === seq) {
        this.#endTransfer(lane);
        this.#drop(lane);
        return lane;
      }
    }
    const held = this.#held.find(seq);
    if (held !== undefined && held.state !== 'dropped') this.#drop(held);
    return undefined;
  }

  /**
   * The peer's cumulative ack: it has every message up to `seq` except the `incomplete` ones, which are
   * released (their bytes are no longer held) and will not be sent again. Amortised O(1) per message.
   */
  acknowledged(seq: number, incomplete: readonly number[]): void {
    this.#held.acknowledged(seq, incomplete, (entry) => this.#release(entry));
  }

  /**
   * The session moved to another link: every held message goes again, in seq order and ahead of what was
   * still queued (it is all one queue), whole messages and start frames as they were, attachments from
   * offset 0, withdrawn ones as their cancel frame (so the seq stays accounted for). Control frames queued
   * stay queued: they go first on the new link, after `first` (a hello), when given.
   */
  rewind(first?: Uint8Array): void {
    if (this.#closed) return;
    // Queued, not written yet: a write now would let messages still queued for the old link go ahead of
    // the held ones that go again before them.
    if (first !== undefined) this.#control.splice(this.#controlHead, 0, first);
    const again = this.#held.all();
    for (const e of again) {
      if (e.state === 'dropped') continue;
      e.state = 'queued';
      e.sentBytes = 0;
    }
    this.#messages = again;
    this.#messagesHead = 0;
    this.#turns = [null];
    this.#transfers = 0;
    this.#transferBytes = 0;
    this.pump();
  }

  /** Drops everything; later pushes are ignored. */
  close(): void {
    this.#closed = true;
    this.#control = [];
    this.#controlHead = 0;
    this.#messages = [];
    this.#messagesHead = 0;
    this.#turns = [null];
    this.#transfers = 0;
    this.#transferBytes = 0;
    this.#held.clear();
    this.#unacked = 0;
    this.#unackedBytes = 0;
  }

  /** Writes frames while the link takes them. Called again by the owner when the link becomes writable. */
  pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      while (!this.#closed && !this.isEmpty && this.#sink.writable) {
        if (!this.#writeNext()) break;
      }
    } finally {
      this.#pumping = false;
    }
    this.#compact();
  }

  /** Writes one frame; false when nothing could be written (the message lane waits for a transfer slot). */
  #writeNext(): boolean {
    if (this.#controlHead < this.#control.length) {
      const control = this.#control[this.#controlHead] as Control;
      this.#control[this.#controlHead++] = EMPTY;
      const bytes = typeof control === 'function' ? control() : control;
      if (bytes !== undefined) this.#sink.write(bytes);
      return true;
    }
    // Each lane in turn; a lane that cannot write now passes its turn.
    for (let tried = 0; tried < this.#turns.length; tried++) {
      const lane = this.#turns.shift() as Entry | null;
      this.#turns.push(lane);
      if (lane === null ? this.#writeMessageLane() : this.#writeChunk(lane)) return true;
    }
    return false;
  }

  #writeMessageLane(): boolean {
    const entry = this.#messages[this.#messagesHead];
    if (entry === undefined) return false;
    if (entry.released) {
      this.#messages[this.#messagesHead++] = PLACEHOLDER; // acknowledged while it waited to go again
      return true;
    }
    if (entry.attachment !== undefined && !this.#roomFor(entry.attachment.byteLength)) return false;
    this.#messages[this.#messagesHead++] = PLACEHOLDER;
    if (!this.#sink.write(entry.head)) return true;
    this.#messageFrames++;
    if (entry.state === 'dropped') return true; // a cancel frame in place of a message that never left
    if (entry.attachment === undefined) {
      if (entry.onProgress !== undefined) this.#report(entry); // an attachment in the frame (see Sender.send)
      this.#finishSent(entry);
    } else if (entry.attachment.byteLength === 0) {
      // The receiver delivers an empty attachment at its start frame: no chunk may follow.
      this.#report(entry);
      this.#finishSent(entry);
    } else {
      entry.state = 'sending';
      this.#transfers++;
      this.#transferBytes += entry.attachment.byteLength;
      this.#turns.push(entry);
      this.#report(entry);
    }
    return true;
  }

  #writeChunk(entry: Entry): boolean {
    const attachment = entry.attachment as Uint8Array;
    const start = entry.sentBytes;
    const end = Math.min(attachment.byteLength, start + this.#chunkBytes - CHUNK_OVERHEAD_BYTES);
    // A full-size chunk is cut into one buffer reused for every chunk: the sink writes a frame this
    // large to the channel at once, and channels copy what they are given. Fresh 64 KiB buffers cost a
    // page fault per 4 KiB here, measured as 29% of a sender's time. A small last chunk may wait in a
    // batch, so it gets a buffer of its own.
    const into = (end - start) * 4 > this.#chunkBytes ? this.#scratch() : undefined;
    if (!this.#sink.write(encodeChunk(entry.seq, start, attachment, start, end, into))) return true;
    this.#messageFrames++;
    entry.sentBytes = end;
    // Sent before the progress callback runs: a cancel from it is too late, not a cancel frame after the
    // last chunk (which the receiver, having delivered the message, would take as a violation).
    if (end === attachment.byteLength) {
      this.#endTransfer(entry);
      this.#finishSent(entry);
    }
    this.#report(entry);
    return true;
  }

  #scratchBuffer: Uint8Array | undefined;

  #scratch(): Uint8Array {
    if (this.#scratchBuffer === undefined || this.#scratchBuffer.byteLength < this.#chunkBytes)
      this.#scratchBuffer = new Uint8Array(this.#chunkBytes);
    return this.#scratchBuffer;
  }

  #endTransfer(entry: Entry): void {
    const i = this.#turns.indexOf(entry);
    if (i < 0) return;
    this.#turns.splice(i, 1);
    this.#transfers--;
    this.#transferBytes -= entry.attachment?.byteLength ?? 0;
  }

  /**
   * The most bytes of incomplete attachments the peer holds for this side (its hello's `maxHeldBytes`): an
   * attachment that would take the transfers under way past it waits for them, as a fifth one waits for a
   * slot, instead of being refused (`NoMemory`). One alone always goes (a peer holds one of its largest).
   */
  setPeerHeldBytes(bytes: number): void {
    this.#peerHeldBytes = bytes;
  }

  /** Whether an attachment of `bytes` may start now: a transfer slot, and room in what the peer holds. */
  #roomFor(bytes: number): boolean {
    if (this.#transfers >= MAX_CONCURRENT_TRANSFERS) return false;
    return this.#transfers === 0 || this.#transferBytes + bytes <= this.#peerHeldBytes;
  }

  /** Withdrawn (cancelled, or refused by the peer): from now on it is its cancel frame, holding no bytes. */
  #drop(entry: Entry): void {
    this.#uncount(entry);
    entry.state = 'dropped';
    entry.head = encodeFrame({ kind: FrameKind.Cancel, seq: entry.seq });
    entry.attachment = undefined;
  }

  /** Covered by an ack: the caller's bytes are no longer held, and the message is not sent again. */
  #release(entry: Entry): void {
    this.#uncount(entry);
    if (entry.state === 'sending') this.#endTransfer(entry); // restarted, but the peer had it already
    if (entry.state !== 'dropped') entry.state = 'sent';
    entry.released = true;
    entry.head = EMPTY;
    entry.attachment = undefined;
  }

  #finishSent(entry: Entry): void {
    entry.state = 'sent';
    if (entry.writtenAtMs === 0) {
      // Counted once: sent again after a move between links, it waits for the same ack.
      entry.writtenAtMs = Date.now();
      entry.unackedBytes = entry.head.byteLength; // the frame this side made: an attachment is the app's own
      this.#unacked++;
      this.#unackedBytes += entry.unackedBytes;
    }
    if (entry.tag !== undefined) this.#onSent(entry.tag);
  }

  /** No longer counted among the messages written whole and not acknowledged. */
  #uncount(entry: Entry): void {
    if (entry.unackedBytes === 0) return;
    this.#unacked--;
    this.#unackedBytes -= entry.unackedBytes;
    entry.unackedBytes = 0;
  }

  /** Tells `onProgress` how much left, unless it was told as much before (the message is being sent again). */
  #report(entry: Entry): void {
    const onProgress = entry.onProgress;
    if (onProgress === undefined || entry.sentBytes <= entry.reportedBytes) return;
    const sent = entry.sentBytes;
    entry.reportedBytes = sent;
    const total = entry.attachment?.byteLength ?? sent;
    this.#call(() => onProgress(sent, total));
  }

  /** Runs a caller's callback; what it throws is logged, not let into the network code. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#logger.error({ err }, 'a send callback threw');
    }
  }

  #compact(): void {
    // Emptied in place, and only when something was taken: this runs after every write, and a new array
    // each time was garbage to collect.
    if (this.#controlHead > 0 && this.#controlHead === this.#control.length) {
      this.#control.length = 0;
      this.#controlHead = 0;
    }
    if (this.#messagesHead > 0 && this.#messagesHead === this.#messages.length) {
      this.#messages.length = 0;
      this.#messagesHead = 0;
    } else if (this.#messagesHead > 1024 && this.#messagesHead * 2 > this.#messages.length) {
      this.#messages = this.#messages.slice(this.#messagesHead);
      this.#messagesHead = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
const PLACEHOLDER = new Entry(0, 'dropped', EMPTY, undefined, undefined, undefined, true);
