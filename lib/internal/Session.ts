import type { RoomTimeouts } from '../defaults.js';
import { MessagingError, ProtocolError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Frame } from '../protocol/frames.js';
import { FrameKind, MAX_FRAME_BYTES, decodeFrame, encodeFrame, isFrameError } from '../protocol/frames.js';
import type { JsonObject } from '../protocol/json.js';
import type { ParticipantInfo } from '../protocol/signaling.js';
import type { PeerLink } from './PeerLink.js';
import { TypedEmitter } from './TypedEmitter.js';

/** Protocol errors tolerated from one peer before its link is closed. */
export const MAX_PROTOCOL_ERRORS = 32;
/** How long a graceful close waits for the bye frame to leave before closing the channel. */
const BYE_FLUSH_MS = 250;

/** Events of a {@link Session}. @internal */
export interface SessionEvents {
  /** The peer's hello arrived: it is present. */
  ready: (attributes: JsonObject) => void;
  message: (type: string, payload: JsonObject, attachment: Uint8Array | undefined) => void;
  attributes: (attributes: JsonObject) => void;
  protocol_error: (err: ProtocolError) => void;
  /** The session is over; `bye` is true when the peer said goodbye first. Fired once. */
  close: (reason: string, bye: boolean) => void;
}

interface PendingSend {
  seq: number;
  deadlineMs: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const scheduleSoon: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/**
 * The messaging protocol over one {@link PeerLink}: hello, numbered messages, cumulative acknowledgements,
 * attribute updates, heartbeat and goodbye. One per remote participant and connection attempt.
 * @internal
 */
export class Session extends TypedEmitter<SessionEvents> {
  readonly participant: ParticipantInfo;
  /** Connection id, chosen by the initiator; signals of other ids belong to other attempts. */
  readonly cid: string;
  readonly initiator: boolean;
  /** Which connection attempt this is, counting from 1 (initiator only). */
  readonly attempt: number;
  readonly #link: PeerLink;
  readonly #timeouts: RoomTimeouts;
  readonly #localAttributes: () => JsonObject;
  readonly #logger: Logger;
  #ready = false;
  #closed = false;
  #byeReceived = false;
  #lastSentSeq = 0;
  #pending: PendingSend[] = [];
  #pendingHead = 0;
  #receivedSeq = 0;
  #ackedSeq = 0;
  #ackScheduled = false;
  #lastSentAtMs = 0;
  #lastReceivedAtMs = 0;
  #protocolErrors = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: {
    participant: ParticipantInfo;
    cid: string;
    initiator: boolean;
    attempt: number;
    link: PeerLink;
    timeouts: RoomTimeouts;
    localAttributes: () => JsonObject;
    logger: Logger;
  }) {
    super();
    this.participant = options.participant;
    this.cid = options.cid;
    this.initiator = options.initiator;
    this.attempt = options.attempt;
    this.#link = options.link;
    this.#timeouts = options.timeouts;
    this.#localAttributes = options.localAttributes;
    this.#logger = options.logger;
    this.emitterLogger = options.logger;
    this.#link.on('open', () => this.#onOpen());
    this.#link.on('data', (bytes) => this.#onData(bytes));
    this.#link.on('close', (reason) => this.#onClose(reason));
  }

  /** The link this session runs on. */
  get link(): PeerLink {
    return this.#link;
  }

  /** True once the peer's hello arrived and until the session closes. */
  get isReady(): boolean {
    return this.#ready && !this.#closed;
  }

  /**
   * Sends a message. With `ack`, the promise resolves when the peer acknowledges it and rejects when the
   * peer leaves or the acknowledgement times out. Throws {@link MessagingError} `MessageTooLarge` before
   * sending anything when the frame would not fit.
   */
  sendMessage(type: string, payload: JsonObject, attachment: Uint8Array | undefined, ack: true): Promise<void>;
  sendMessage(type: string, payload: JsonObject, attachment: Uint8Array | undefined, ack: false): boolean;
  sendMessage(type: string, payload: JsonObject, attachment: Uint8Array | undefined, ack: boolean): Promise<void> | boolean {
    if (!this.isReady) {
      if (!ack) return false;
      return Promise.reject(MessagingError.participantLeft(this.participant.id));
    }
    const seq = this.#lastSentSeq + 1;
    const frame: Frame = attachment === undefined
      ? { kind: FrameKind.Message, seq, type, payload }
      : { kind: FrameKind.Message, seq, type, payload, attachment };
    const bytes = encodeFrame(frame);
    if (bytes.byteLength > MAX_FRAME_BYTES) throw MessagingError.tooLarge(bytes.byteLength, MAX_FRAME_BYTES);
    this.#lastSentSeq = seq;
    if (!ack) return this.#send(bytes);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ seq, deadlineMs: Date.now() + this.#timeouts.ackTimeoutMs, resolve, reject });
      if (!this.#send(bytes)) this.#rejectAll(MessagingError.participantLeft(this.participant.id));
    });
  }

  /** Tells the peer this side's new attributes. */
  sendAttributes(attributes: JsonObject): void {
    if (this.isReady) this.#send(encodeFrame({ kind: FrameKind.Attributes, attributes }));
  }

  /** Feeds signaling data for this connection attempt. */
  signal(data: Parameters<PeerLink['signal']>[0]): void {
    this.#link.signal(data);
  }

  /** Says goodbye (when open), lets the frame leave, and closes. */
  async closeGracefully(): Promise<void> {
    if (this.#closed) return;
    if (this.#link.isOpen) {
      this.#send(encodeFrame({ kind: FrameKind.Bye }));
      const until = Date.now() + BYE_FLUSH_MS;
      while (this.#link.bufferedBytes > 0 && Date.now() < until && !this.#closed) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    this.close('closed locally');
  }

  /** Closes at once. Unacknowledged sends reject with `ParticipantLeft`. */
  close(reason: string): void {
    this.#link.close(reason);
  }

  #send(bytes: Uint8Array): boolean {
    this.#lastSentAtMs = Date.now();
    return this.#link.send(bytes);
  }

  #onOpen(): void {
    this.#lastReceivedAtMs = Date.now();
    this.#send(encodeFrame({ kind: FrameKind.Hello, attributes: this.#localAttributes() }));
    this.#timer = setInterval(() => this.#tick(), this.#timeouts.heartbeatIntervalMs);
    // The heartbeat must not keep a Node process alive on its own; the peer connection decides that.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #onData(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#lastReceivedAtMs = Date.now();
    const frame = decodeFrame(bytes);
    if (isFrameError(frame)) {
      this.#protocolError('BadFrame', `${frame.error}: ${frame.detail}`);
      return;
    }
    if (!this.#ready && frame.kind !== FrameKind.Hello) {
      this.#protocolError('UnexpectedFrame', `frame kind ${frame.kind} before hello`);
      return;
    }
    switch (frame.kind) {
      case FrameKind.Hello:
        if (this.#ready) {
          this.#protocolError('UnexpectedFrame', 'second hello');
          return;
        }
        this.#ready = true;
        this.emit('ready', frame.attributes);
        return;
      case FrameKind.Message:
        if (frame.seq !== this.#receivedSeq + 1) {
          this.#protocolError('UnexpectedFrame', `message seq ${frame.seq}, expected ${this.#receivedSeq + 1}`);
          return;
        }
        this.#receivedSeq = frame.seq;
        this.emit('message', frame.type, frame.payload, frame.attachment);
        this.#scheduleAck();
        return;
      case FrameKind.Ack:
        this.#onAck(frame.seq);
        return;
      case FrameKind.Attributes:
        this.emit('attributes', frame.attributes);
        return;
      case FrameKind.Bye:
        this.#byeReceived = true;
        this.close('peer said bye');
        return;
      case FrameKind.Ping:
        return;
    }
  }

  #onAck(seq: number): void {
    if (seq > this.#lastSentSeq) {
      this.#protocolError('UnexpectedFrame', `ack for ${seq}, only ${this.#lastSentSeq} sent`);
      return;
    }
    const pending = this.#pending;
    while (this.#pendingHead < pending.length) {
      const p = pending[this.#pendingHead] as PendingSend;
      if (p.seq > seq) break;
      pending[this.#pendingHead++] = undefined as unknown as PendingSend;
      p.resolve();
    }
    this.#compactPending();
  }

  #compactPending(): void {
    if (this.#pendingHead === this.#pending.length) {
      this.#pending = [];
      this.#pendingHead = 0;
    } else if (this.#pendingHead > 1024 && this.#pendingHead * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#pendingHead);
      this.#pendingHead = 0;
    }
  }

  #scheduleAck(): void {
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    // One cumulative ack for every message that arrived in this turn of the event loop.
    scheduleSoon(() => {
      this.#ackScheduled = false;
      if (this.#closed || this.#receivedSeq === this.#ackedSeq) return;
      this.#ackedSeq = this.#receivedSeq;
      this.#send(encodeFrame({ kind: FrameKind.Ack, seq: this.#ackedSeq }));
    });
  }

  #tick(): void {
    const now = Date.now();
    if (now - this.#lastReceivedAtMs > this.#timeouts.heartbeatTimeoutMs) {
      this.close(`no frame for ${this.#timeouts.heartbeatTimeoutMs} ms`);
      return;
    }
    if (now - this.#lastSentAtMs >= this.#timeouts.heartbeatIntervalMs) this.#send(encodeFrame({ kind: FrameKind.Ping }));
    // Deadlines grow with seq, so the timed-out sends are at the head.
    while (this.#pendingHead < this.#pending.length) {
      const p = this.#pending[this.#pendingHead] as PendingSend;
      if (p.deadlineMs > now) break;
      this.#pending[this.#pendingHead++] = undefined as unknown as PendingSend;
      p.reject(MessagingError.timeout(this.participant.id, this.#timeouts.ackTimeoutMs));
    }
    this.#compactPending();
  }

  #protocolError(reason: 'BadFrame' | 'UnexpectedFrame', message: string): void {
    this.#protocolErrors++;
    this.#logger.warn({ participant: this.participant.id, reason, detail: message }, 'refused a frame');
    this.emit('protocol_error', new ProtocolError(reason, this.participant.id, message));
    if (this.#protocolErrors === MAX_PROTOCOL_ERRORS) {
      this.emit('protocol_error', new ProtocolError('TooManyErrors', this.participant.id, `${MAX_PROTOCOL_ERRORS} bad frames; disconnecting`));
      this.close('too many protocol errors');
    }
  }

  #rejectAll(err: Error): void {
    const pending = this.#pending;
    const head = this.#pendingHead;
    this.#pending = [];
    this.#pendingHead = 0;
    for (let i = head; i < pending.length; i++) (pending[i] as PendingSend).reject(err);
  }

  #onClose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#rejectAll(MessagingError.participantLeft(this.participant.id));
    this.emit('close', reason, this.#byeReceived);
  }
}
