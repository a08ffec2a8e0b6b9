import { MessagingError } from '../errors.js';
import type { Link } from '../link/Link.js';
import type { JsonObject } from '../protocol/json.js';
import type { Logger } from '../logger.js';
import { CHUNK_FRAME_BYTES, FrameKind, MAX_FRAME_BYTES, type MessageBody, encodeFrame } from '../protocol/frames.js';
import { FrameBatch, type MessageSink } from './FrameBatch.js';
import { type LinkSizes, applyPeerLimits, planMessage, setLinkUnit } from './message-plan.js';
import { type OutgoingMessage, Outbox, type ProgressCallback } from './Outbox.js';
import { type PendingSend, PendingSends } from './PendingSends.js';
import type { PeerLimits } from './session-types.js';

/** How long a graceful close waits for queued frames to leave and sent messages to be acknowledged. */
const GOODBYE_DRAIN_MS = 1000;
/**
 * How long a graceful close waits, after its bye, for the peer to close the link the bye went on (it closes its
 * session when it reads a bye) before closing that link itself.
 */
const BYE_FLUSH_MS = 250;

/** What this side's hello says: its attributes, the largest attachment it takes, its session tag. @internal */
export interface HelloContent {
  attributes: JsonObject;
  maxAttachmentBytes: number;
  /** The most bytes of incomplete attachments this side holds for the peer at once. */
  maxHeldBytes: number;
  session: number;
  /** The peer's session tag, once its hello came. */
  peer?: number;
}

function helloFrame(hello: HelloContent): Uint8Array {
  return encodeFrame({ kind: FrameKind.Hello, ...hello, maxFrameBytes: MAX_FRAME_BYTES });
}

/** What a {@link Sender} needs from its session. @internal */
export interface SenderContext {
  /** The participant at the other end, for errors. */
  participantId: () => string;
  ackTimeoutMs: number;
  /** Runs before each message is queued (an ack due anyway rides along with it). */
  beforeMessage(): void;
  logger: Logger;
}

/**
 * The sending half of a session: numbers messages, plans their frames, queues them in an {@link Outbox}
 * (which holds each until acknowledged) and tracks the acknowledgements in {@link PendingSends}. Writes go
 * through a {@link FrameBatch} to the session's current link.
 * @internal
 */
export class Sender {
  readonly outbox: Outbox;
  readonly batch: FrameBatch;
  readonly #pending = new PendingSends();
  readonly #context: SenderContext;
  /** The sizes messages are planned with (final once the peer's hello arrived). */
  readonly sizes: LinkSizes;
  #lastSentSeq = 0;
  /** The last moved frame sent (told again after a move between links). */
  #moved: Uint8Array | undefined;
  /** When a frame was last handed to the link (Date.now()). */
  lastSentAtMs = 0;
  /** The bye is queued: nothing more goes out, not even again on another link. */
  byeSent = false;

  constructor(sink: MessageSink, context: SenderContext) {
    this.#context = context;
    this.sizes = {
      maxWholeFrameBytes: MAX_FRAME_BYTES,
      wholeWithAttachmentBytes: CHUNK_FRAME_BYTES,
      chunkFrameBytes: CHUNK_FRAME_BYTES,
      linkUnitBytes: undefined,
      peerMaxAttachmentBytes: undefined,
      participantId: context.participantId(),
    };
    const batch = (this.batch = new FrameBatch(sink, CHUNK_FRAME_BYTES));
    this.outbox = new Outbox(
      {
        get writable() {
          return batch.writable;
        },
        write: (bytes) => {
          this.lastSentAtMs = Date.now();
          return batch.write(bytes);
        },
      },
      CHUNK_FRAME_BYTES,
      context.logger,
      (pending) => {
        // Sent again after a move between links, it keeps the deadline of its first sending.
        const p = pending as PendingSend;
        if (p.deadlineMs === Infinity) p.deadlineMs = Date.now() + context.ackTimeoutMs;
      },
    );
  }

  /** The highest seq used. */
  get lastSentSeq(): number {
    return this.#lastSentSeq;
  }

  /** True while a sent message may still wait for its acknowledgement. */
  get hasWaiting(): boolean {
    return this.#pending.hasWaiting;
  }

  /** Sets the sizes once the peer's hello told its limits; `channelMax` is the link's own, when it tells. */
  applyPeerLimits(limits: PeerLimits, channelMax: number | undefined): void {
    applyPeerLimits(this.sizes, limits, channelMax);
    this.outbox.setPeerHeldBytes(limits.maxHeldBytes ?? Infinity);
    this.#chunkSizeChanged();
  }

  /** Cuts chunks to fit `link` (its {@link Link.unitMessageBytes}), the link messages go on from now. */
  fitLink(link: Link): void {
    setLinkUnit(this.sizes, link.unitMessageBytes);
    this.#chunkSizeChanged();
  }

  #chunkSizeChanged(): void {
    this.outbox.setChunkFrameBytes(this.sizes.chunkFrameBytes);
    this.batch.setMaxBytes(this.sizes.chunkFrameBytes);
  }

  /** Sends a message, as {@link Session.sendMessage} describes; the session checked it is ready. */
  send(
    body: MessageBody,
    attachment: Uint8Array | undefined,
    ack: boolean,
    onProgress?: ProgressCallback,
    signal?: AbortSignal,
  ): Promise<void> | boolean {
    const peer = this.#context.participantId; // called only to make an error
    if (signal?.aborted === true) {
      if (!ack) return false;
      return Promise.reject(MessagingError.aborted(peer()));
    }
    const seq = this.#lastSentSeq + 1;
    // The ack due goes first, encoded just before the message: both then lie back to back in the encoder's
    // buffer, and the batch writes them as one view of it instead of copying them into a new message.
    this.#context.beforeMessage();
    const bytes = planMessage(seq, body, attachment, this.sizes);
    const chunked = bytes[2] === FrameKind.Start; // after the array head and the version
    this.#lastSentSeq = seq;
    const rest = chunked ? attachment : undefined;
    // An attachment in the message's own frame is sent whole when the frame is: its one progress report.
    if (!chunked && attachment !== undefined && onProgress !== undefined) {
      const total = attachment.byteLength;
      const report = onProgress;
      onProgress = () => report(total, total);
    }
    if (!ack) {
      this.outbox.pushMessage(seq, bytes, rest, onProgress);
      this.batch.flushFirst();
      return true;
    }
    if (signal === undefined) {
      // The common case, kept to the allocations it needs: thousands of these may be under way.
      return new Promise<void>((resolve, reject) => {
        const pending = this.#pending.add(seq, chunked, resolve, reject);
        const message = this.outbox.pushMessage(seq, bytes, rest, onProgress, pending);
        this.batch.flushFirst();
        if (message.state === 'dropped') this.#pending.reject(pending, MessagingError.participantLeft(peer()));
      });
    }
    return new Promise<void>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const pending = this.#pending.add(
        seq,
        chunked,
        () => {
          if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (err) => {
          if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
      const message = this.outbox.pushMessage(seq, bytes, rest, onProgress, pending);
      this.batch.flushFirst();
      if (message.state === 'dropped') {
        this.#pending.reject(pending, MessagingError.participantLeft(peer()));
        return;
      }
      if (!pending.settled) {
        onAbort = () => this.#abort(message, pending);
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /** The peer's ack. Returns why it makes no sense, or undefined. */
  acknowledged(seq: number, incomplete: readonly number[]): string | undefined {
    if (seq > this.#lastSentSeq) return `ack for ${seq}, only ${this.#lastSentSeq} sent`;
    this.#pending.ack(seq, incomplete);
    this.outbox.acknowledged(seq, incomplete);
    return undefined;
  }

  /** The peer refused message `seq`. Returns why that makes no sense, or undefined. */
  refused(seq: number, reason: string): string | undefined {
    if (seq > this.#lastSentSeq) return `refuse of message ${seq}, only ${this.#lastSentSeq} sent`;
    this.outbox.refused(seq);
    this.#pending.rejectSeq(seq, MessagingError.refused(this.#context.participantId(), reason));
    return undefined;
  }

  /** Sends hello ahead of everything queued: the peer takes nothing before it. */
  sendHello(hello: HelloContent): void {
    this.outbox.pushControl(helloFrame(hello), true);
  }

  /**
   * Tells the peer this side has participant id `id` now, with `proof` that it holds its relay key (see
   * `movedProof`); told again after a move between links.
   */
  sendMoved(id: string, proof?: Uint8Array): void {
    this.#moved = encodeFrame(
      proof === undefined ? { kind: FrameKind.Moved, id } : { kind: FrameKind.Moved, id, proof },
    );
    this.outbox.pushControl(this.#moved, true);
  }

  /** Why messages cannot go on `link` (it takes smaller ones than the session plans with), or undefined. */
  misfit(link: Link): string | undefined {
    const max = link.maxMessageBytes;
    const planned = this.sizes.maxWholeFrameBytes;
    if (max !== undefined && max < planned)
      return `the new link takes at most ${max} bytes, this session sends ${planned}`;
    return undefined;
  }

  /**
   * The session moved to another link: what was batched for the old one is dropped, held messages go again,
   * and, with `attributes` (the peer has this side's hello), the attributes and the moved id, which may have
   * been lost with the old link.
   */
  rewind(attributes: JsonObject | undefined, hello?: HelloContent): void {
    // Frames batched for the old link are dropped (what matters of them goes again), so a hello to
    // repeat goes in after that and ahead of everything sent again: the peer decodes nothing before it.
    this.batch.clear();
    this.outbox.rewind(hello === undefined ? undefined : helloFrame(hello));
    if (attributes === undefined) return;
    this.outbox.pushControl(encodeFrame({ kind: FrameKind.Attributes, attributes }));
    if (this.#moved !== undefined) this.outbox.pushControl(this.#moved);
  }

  /**
   * The link was closed as stuck: sends none of whose frames were written get their acknowledgement deadline
   * now, so that a peer which stalls every link it is given cannot keep them waiting for good.
   */
  startDeadlines(nowMs: number): void {
    this.#pending.startDeadlines(nowMs + this.#context.ackTimeoutMs);
  }

  /** Rejects the sends whose acknowledgement is overdue. */
  expire(nowMs: number): void {
    const { ackTimeoutMs } = this.#context;
    this.#pending.expire(nowMs, () => MessagingError.timeout(this.#context.participantId(), ackTimeoutMs));
  }

  /**
   * The first half of a goodbye: acknowledges what arrived (`ack`, so the peer's last sends resolve), lets
   * queued messages leave and waits for their acknowledgements (up to a second), then sends bye and waits
   * for the peer to close the link it went on. Stops early once `closed`.
   */
  async goodbye(link: () => Link, ack: () => void, closed: () => boolean): Promise<void> {
    const until = async (done: () => boolean, maxMs: number): Promise<void> => {
      const end = Date.now() + maxMs;
      while (!closed() && !done() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    };
    ack();
    await until(() => this.outbox.isEmpty && !this.#pending.hasWaiting, GOODBYE_DRAIN_MS);
    ack();
    this.outbox.pushControl(encodeFrame({ kind: FrameKind.Bye }));
    this.batch.flush();
    this.byeSent = true;
    // Handed to the link is not delivered: closing a peer connection discards what it has not delivered
    // yet, and the bye went with it. The peer then took the closed channel for a broken one, moved to the
    // relayed link, saw that close too and showed the participant as reconnecting until the server's word
    // that it left, plus the second it waits for a goodbye (seen in 2 of 3 runs with three participants).
    // The peer closes its session on reading the bye, so its closing this link is the receipt.
    const byeLink = link();
    await until(() => !byeLink.isOpen, BYE_FLUSH_MS);
  }

  /** Drops everything and rejects every send still waiting with `err`. */
  close(err: Error): void {
    this.outbox.close();
    this.batch.clear();
    this.#pending.rejectAll(err);
  }

  #abort(message: OutgoingMessage, pending: PendingSend): void {
    if (pending.settled) return;
    this.outbox.cancel(message);
    this.#pending.reject(pending, MessagingError.aborted(this.#context.participantId()));
  }
}
