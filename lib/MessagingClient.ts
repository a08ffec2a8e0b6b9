import type { ReceiveLimits, RoomTimeouts } from './defaults.js';
import { InvalidArgumentError, MessagingError } from './errors.js';
import type { MessagingEvents } from './events.js';
import type { Logger } from './logger.js';
import type { PeerLink } from './link/PeerLink.js';
import type { Delivery, IncomingTransfer } from './session/Inbox.js';
import { AttachmentBudget } from './session/Inbox.js';
import { Session, checkFitsAnyLink } from './session/Session.js';
import { TypedEmitter } from './util/TypedEmitter.js';
import { backoffDelayMs } from './util/backoff.js';
import { randomId } from './util/random-id.js';
import { MAX_TYPE_LENGTH } from './protocol/frames.js';
import type { JsonObject } from './protocol/json.js';
import { checkJsonObject } from './protocol/json.js';
import type { IncomingSignal, ParticipantInfo, SignalData } from './protocol/signaling.js';
import { RemoteParticipant } from './RemoteParticipant.js';

/** How long an open channel stays after the server says its participant left, for the goodbye to arrive. */
const PEER_LEFT_LINGER_MS = 1000;

/**
 * The first re-dial after a channel failed or a connect failed once goes within this (jitter only): most
 * failed connects on node-datachannel fail at once and work when tried again ("remote candidate without
 * ICE transport", about 1 connect in 10 when 10 processes share 2 cores), and each waited 200-400 ms.
 */
const FIRST_REDIAL_MAX_MS = 50;
/** Re-dial delay after the second failure in a row; it doubles with each further one up to `reconnectMaxDelayMs`. */
const REDIAL_BASE_MS = 400;

/** Options of {@link MessagingClient.sendMessage}. */
export interface SendMessageOptions {
  /** The recipient, or its id. */
  to: RemoteParticipant | string;
  /** What kind of message this is, for the receiver to switch on; a non-empty string. */
  type: string;
  /** The message itself: a JSON object. */
  message: JsonObject;
  /** Optional bytes carried with the message, up to `maxAttachmentBytes` (sent in chunks when larger than one frame). */
  attachment?: Uint8Array;
  /**
   * When true, an absent recipient is not an error: the call resolves and the message is dropped.
   * @default false
   */
  ignoreOffline?: boolean;
  /** Called as the attachment is handed to the channel, chunk by chunk (once for a message sent whole). */
  onProgress?: (progress: SendProgress) => void;
  /** Aborts the send: unsent chunks are not sent, the recipient drops what it got, the call rejects with `Aborted`. */
  signal?: AbortSignal;
}

/** Options of {@link MessagingClient.broadcastMessage}. */
export interface BroadcastMessageOptions {
  /** What kind of message this is; a non-empty string. */
  type: string;
  /** The message itself: a JSON object. */
  message: JsonObject;
  /** Optional bytes carried with the message, up to `maxAttachmentBytes` (sent in chunks when larger than one frame). */
  attachment?: Uint8Array;
  /** Called as the attachment is handed to the channels; the byte counts are summed over the recipients. */
  onProgress?: (progress: SendProgress) => void;
  /** Aborts the broadcast: what is unsent to each recipient is not sent, and the call rejects with `Aborted`. */
  signal?: AbortSignal;
}

/** How much of an attachment has been handed to the data channel. */
export interface SendProgress {
  /** Attachment bytes handed to the channel so far. */
  sentBytes: number;
  /** Attachment bytes in all (for a broadcast: times the recipients). */
  totalBytes: number;
}

/** Who received a broadcast. */
export interface BroadcastResult {
  /** Ids of the participants that acknowledged the message. */
  delivered: string[];
  /**
   * Ids of the participants present at the call that could not take the message (a limit they announced),
   * refused it, left or timed out before acknowledging.
   */
  failed: string[];
  /** Why each of {@link failed} failed, by participant id. */
  errors: Record<string, MessagingError>;
}

/** A message received from another participant. */
export interface ReceivedMessage {
  /** Identifies this message among all received; the same as in its `attachment_progress` events. */
  messageId: string;
  /** The sender. */
  from: RemoteParticipant;
  /** The sender's id. */
  fromParticipantId: string;
  /** The sender's `type`. */
  type: string;
  /** The sender's JSON object. */
  message: JsonObject;
  /** The bytes sent with the message, if any. */
  attachment: Uint8Array | undefined;
}

/** An attachment arriving in chunks, as `attachment_progress` and `attachment_aborted` report it. */
export interface IncomingAttachment {
  /** The `messageId` its `message` event will carry. */
  messageId: string;
  /** The sender. */
  from: RemoteParticipant;
  /** The sender's id. */
  fromParticipantId: string;
  /** The sender's `type`. */
  type: string;
  /** The sender's JSON object, known from the start (a file name, say). */
  message: JsonObject;
  /** Attachment bytes received so far. */
  receivedBytes: number;
  /** Attachment bytes in all. */
  totalBytes: number;
}

/** What messaging needs from the signaling connection. @internal */
export interface SignalingPort {
  enableMessaging(): Promise<ParticipantInfo[]>;
  disableMessaging(): Promise<void>;
  sendSignal(to: string, cid: string, data: SignalData): void;
}

/** What a {@link MessagingClient} is built from. @internal */
export interface MessagingClientDeps {
  localId: string;
  signaling: SignalingPort;
  createLink: (initiator: boolean) => PeerLink;
  localAttributes: () => JsonObject;
  timeouts: RoomTimeouts;
  maxAttachmentBytes: number;
  receiveLimits: ReceiveLimits;
  logger: Logger;
}

type State = 'disabled' | 'enabling' | 'enabled' | 'disabling';

/**
 * Participant-to-participant messaging in a room, on `room.messaging`: presence derived from open data
 * channels, direct and broadcast messages with acknowledgement. It knows nothing of socket.io or
 * RTCPeerConnection: signaling comes in through its `handle…` methods, links from a factory.
 */
export class MessagingClient extends TypedEmitter<MessagingEvents> {
  readonly #deps: MessagingClientDeps;
  #state: State = 'disabled';
  #enabling: Promise<void> | undefined;
  #disabling: Promise<void> | undefined;
  /** Participants the server says have messaging enabled. */
  readonly #known = new Map<string, ParticipantInfo>();
  /** The current session to each participant, ready or still connecting. */
  readonly #sessions = new Map<string, Session>();
  /** Present participants, in the order they became present. */
  readonly #present = new Map<string, RemoteParticipant>();
  /** Pending re-dials, by participant id. */
  readonly #redials = new Map<string, ReturnType<typeof setTimeout>>();
  /** Connection attempts that failed in a row, by participant id; cleared when one succeeds. */
  readonly #failures = new Map<string, number>();
  /** Callers of enable() waiting for a participant to be present or given up on. */
  readonly #settleWaiters = new Map<string, Array<() => void>>();
  /** Bytes held for incomplete incoming attachments, over every session. */
  readonly #attachmentBudget: AttachmentBudget;

  /** @internal */
  constructor(deps: MessagingClientDeps) {
    super();
    this.#deps = deps;
    this.#attachmentBudget = new AttachmentBudget(deps.receiveLimits.maxIncomingAttachmentBytesTotal);
    this.emitterLogger = deps.logger;
  }

  /** True while enabling or enabled: what the signaling server should think after a reconnection. @internal */
  get wantsEnabled(): boolean {
    return this.#accepting();
  }

  /** True once {@link enable} has completed and until {@link disable}. */
  get isEnabled(): boolean {
    return this.#state === 'enabled';
  }

  /** Present participants: those with messaging enabled and an open data channel to this one. */
  get remoteParticipants(): RemoteParticipant[] {
    return [...this.#present.values()];
  }

  /** Same as {@link remoteParticipants}. */
  getParticipants(): RemoteParticipant[] {
    return this.remoteParticipants;
  }

  /** The present participant with this id. */
  getParticipant(id: string): RemoteParticipant | undefined {
    return this.#present.get(id);
  }

  /** The present participant with this name; the one that joined the room first when names repeat. */
  getParticipantByName(name: string): RemoteParticipant | undefined {
    let best: RemoteParticipant | undefined;
    for (const p of this.#present.values()) {
      if (p.name !== name) continue;
      if (best === undefined || p.joinedAtMs < best.joinedAtMs || (p.joinedAtMs === best.joinedAtMs && p.id < best.id)) best = p;
    }
    return best;
  }

  /**
   * Enables messaging: opens a data channel to every participant that already has messaging enabled,
   * and resolves when each one is present or has failed to connect. Participants enabling later arrive
   * through `participant_added`.
   * @example
   * await room.messaging.enable();
   * console.log(room.messaging.remoteParticipants.map((p) => p.name));
   */
  enable(): Promise<void> {
    if (this.#state === 'enabled') return Promise.resolve();
    if (this.#state === 'enabling') return this.#enabling as Promise<void>;
    if (this.#state === 'disabling') return (this.#disabling as Promise<void>).then(() => this.enable());
    this.#state = 'enabling';
    this.#enabling = this.#enable().finally(() => {
      this.#enabling = undefined;
    });
    return this.#enabling;
  }

  async #enable(): Promise<void> {
    let infos: ParticipantInfo[];
    try {
      infos = await this.#deps.signaling.enableMessaging();
    } catch (err) {
      this.#state = 'disabled';
      throw err;
    }
    if (this.#state !== 'enabling') return;
    for (const info of infos) {
      if (info.id === this.#deps.localId) continue;
      this.#known.set(info.id, info);
      this.#dial(info);
    }
    await Promise.all(infos.map((info) => this.#whenSettled(info.id)));
    if (this.#state !== 'enabling') return;
    this.#state = 'enabled';
    this.#deps.logger.info({ present: this.#present.size, expected: infos.length }, 'messaging enabled');
    this.emit('messaging_enabled', this.remoteParticipants);
  }

  /**
   * Disables messaging: tells the others (they get `participant_removed`), closes every channel and
   * rejects unacknowledged sends with `ParticipantLeft`.
   */
  disable(): Promise<void> {
    if (this.#state === 'disabled') return Promise.resolve();
    if (this.#state === 'disabling') return this.#disabling as Promise<void>;
    this.#state = 'disabling';
    this.#disabling = this.#disable().finally(() => {
      this.#disabling = undefined;
    });
    return this.#disabling;
  }

  async #disable(): Promise<void> {
    for (const timer of this.#redials.values()) clearTimeout(timer);
    this.#redials.clear();
    this.#failures.clear();
    this.#known.clear();
    // Goodbye on every channel first, behind whatever acknowledgements are due: the server's word that
    // this participant left travels another path and could otherwise overtake frames still in flight.
    // A peer that got the goodbye does not re-dial; offers that arrive meanwhile are ignored.
    await Promise.all([...this.#sessions.values()].map((s) => s.closeGracefully()));
    await this.#deps.signaling.disableMessaging().catch((err: unknown) => {
      this.#deps.logger.info({ err: String(err) }, 'could not tell the signaling server; disabling locally');
    });
    for (const id of [...this.#settleWaiters.keys()]) this.#settle(id);
    this.#state = 'disabled';
    this.#deps.logger.info({}, 'messaging disabled');
    this.emit('messaging_disabled');
  }

  /**
   * Sends a message to one participant. Resolves when the recipient has received it; rejects with
   * {@link MessagingError} (`ParticipantNotFound`, `ParticipantLeft`, `Timeout`, `MessageTooLarge`,
   * `NotEnabled`) or {@link InvalidArgumentError}, in which case nothing was delivered.
   * @example
   * await room.messaging.sendMessage({ to: bob, type: 'chat', message: { text: 'hi' } });
   */
  sendMessage(options: SendMessageOptions): Promise<void> {
    // Not an async function: thousands of sends may be under way, and the extra promise of an async
    // wrapper was a measurable share of a sender's time. Errors still arrive as rejections.
    try {
      const { id, type, message, attachment, onProgress, signal } = checkSendOptions(options, 'sendMessage', this.#deps.maxAttachmentBytes);
      const session = this.#sessionFor(id, 'sendMessage');
      if (session === undefined) {
        if (options.ignoreOffline === true) return Promise.resolve();
        throw MessagingError.participantNotFound(id);
      }
      const report = onProgress === undefined ? undefined : (sentBytes: number, totalBytes: number) => onProgress({ sentBytes, totalBytes });
      return session.sendMessage(type, message, attachment, true, report, signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sends a message without waiting for acknowledgement, for high-rate updates such as cursors.
   * Returns true when it was handed to an open channel, false when the recipient is not present.
   * Throws {@link InvalidArgumentError} or {@link MessagingError} for a message that cannot be sent.
   * @example
   * room.messaging.sendMessageNowait({ to: bob, type: 'cursor', message: { x: 1, y: 2 } });
   */
  sendMessageNowait(options: SendMessageOptions): boolean {
    const { id, type, message, attachment } = checkSendOptions(options, 'sendMessageNowait', this.#deps.maxAttachmentBytes);
    const session = this.#sessionFor(id, 'sendMessageNowait');
    return session === undefined ? false : session.sendMessage(type, message, attachment, false);
  }

  /**
   * Sends a message to every participant present at the call (not to this one). Resolves, once each
   * has acknowledged or left, with who received it.
   * @example
   * const { delivered, failed } = await room.messaging.broadcastMessage({ type: 'announce', message: { text: 'hi all' } });
   */
  async broadcastMessage(options: BroadcastMessageOptions): Promise<BroadcastResult> {
    const { type, message, attachment, onProgress, signal } = checkMessageFields(options, 'broadcastMessage', this.#deps.maxAttachmentBytes);
    this.#requireEnabled('broadcastMessage');
    if (signal?.aborted === true) throw MessagingError.aborted();
    // Too large for any link: refused at the call, before anything reaches anyone.
    checkFitsAnyLink(type, message, attachment);
    const result: BroadcastResult = { delivered: [], failed: [], errors: {} };
    // A recipient whose announced limits cannot take it fails alone (one participant announcing tiny limits
    // must not veto the broadcast for everyone). Recipients with limits already found fine share that check.
    const fine = new Set<string>();
    const targets: Session[] = [];
    for (const id of this.#present.keys()) {
      const s = this.#sessions.get(id);
      if (s === undefined || !s.isReady) continue;
      const limits = s.peerLimits;
      const key = `${limits?.maxAttachmentBytes}/${limits?.maxFrameBytes}/${s.link.maxMessageBytes}`;
      const err = fine.has(key) ? undefined : checkSession(s, type, message, attachment);
      if (err === undefined) {
        fine.add(key);
        targets.push(s);
      } else {
        result.failed.push(id);
        result.errors[id] = err;
      }
    }
    let report: ((i: number) => (sentBytes: number) => void) | undefined;
    if (onProgress !== undefined && attachment !== undefined) {
      const sent = targets.map(() => 0);
      let sum = 0;
      const totalBytes = attachment.byteLength * targets.length;
      report = (i) => (sentBytes) => {
        sum += sentBytes - (sent[i] as number);
        sent[i] = sentBytes;
        onProgress({ sentBytes: sum, totalBytes });
      };
    }
    const sends = targets.map((s, i) => s.sendMessage(type, message, attachment, true, report?.(i), signal));
    const settled = await Promise.allSettled(sends);
    if (settled.some((s) => s.status === 'rejected' && (s.reason as MessagingError).reason === 'Aborted')) throw MessagingError.aborted();
    settled.forEach((s, i) => {
      const id = (targets[i] as Session).participant.id;
      if (s.status === 'fulfilled') {
        result.delivered.push(id);
      } else {
        result.failed.push(id);
        result.errors[id] = s.reason as MessagingError;
      }
    });
    return result;
  }

  /** Tells present participants this participant's new attributes. @internal */
  handleLocalAttributes(attributes: JsonObject): void {
    for (const id of this.#present.keys()) this.#sessions.get(id)?.sendAttributes(attributes);
  }

  /** The server says a participant enabled messaging (or came back to signaling); it dials this one. @internal */
  handlePeerEnabled(info: ParticipantInfo): void {
    if (info.id === this.#deps.localId || !this.#accepting()) return;
    this.#known.set(info.id, info);
    this.#failures.delete(info.id);
  }

  /**
   * The server says a participant disabled messaging or left. An open channel is given a moment for the
   * participant's goodbye, which may still be on its way with the last frames before it; a channel still
   * connecting is closed at once. @internal
   */
  handlePeerDisabled(id: string): void {
    this.#known.delete(id);
    this.#failures.delete(id);
    this.#cancelRedial(id);
    const session = this.#sessions.get(id);
    if (session?.isReady === true) session.closeWithin(PEER_LEFT_LINGER_MS, 'left the room');
    else session?.close('left the room');
    this.#settle(id);
  }

  /**
   * The server says a participant's signaling connection dropped; it may come back. Its channel may be
   * fine (a network blip on the way to the server) or dead with it (a crashed process): ask the channel,
   * which must show a sign of life within a little over two heartbeats. @internal
   */
  handlePeerDisconnected(id: string): void {
    this.#sessions.get(id)?.probe(2 * this.#deps.timeouts.heartbeatIntervalMs + 500);
  }

  /** The server refused to relay a signal to this participant because it is not there. @internal */
  handleSignalRefused(id: string): void {
    if (this.#known.has(id)) {
      this.#deps.logger.info({ participant: id }, 'the signaling server no longer lists this participant');
      this.handlePeerDisabled(id);
    }
  }

  /**
   * This participant is back on the signaling server (after an outage or a dropped connection) and these
   * participants have messaging enabled. Open channels are left alone; a channel is dialed at once to
   * each participant without one. @internal
   */
  handleResumed(participants: ParticipantInfo[]): void {
    if (!this.#accepting()) return;
    for (const info of participants) {
      if (info.id === this.#deps.localId) continue;
      this.#known.set(info.id, info);
      this.#failures.delete(info.id);
      if (this.#sessions.has(info.id)) continue;
      this.#cancelRedial(info.id);
      this.#dial(info);
    }
  }

  /** Signaling data from another participant. @internal */
  handleSignal(signal: IncomingSignal): void {
    if (!this.#accepting()) return;
    const info = this.#known.get(signal.from);
    if (info === undefined) {
      this.#deps.logger.debug({ from: signal.from }, 'signal from a participant not known to have messaging enabled');
      return;
    }
    const current = this.#sessions.get(signal.from);
    if (current !== undefined && current.cid === signal.cid) {
      current.signal(signal.data);
      return;
    }
    if (signal.data.type !== 'offer') return; // a late signal of an attempt that is over
    if (current !== undefined) {
      // Both sides dialing should not happen (the newcomer dials); if it does, the lower id keeps its attempt.
      if (current.initiator && !current.isReady && this.#deps.localId < signal.from) return;
      this.#sessions.delete(signal.from);
      current.close('replaced by a new connection');
    }
    const session = this.#startSession(info, signal.cid, false, 1);
    session.signal(signal.data);
  }

  /** Closes everything at once, without telling the server (the room is going away). @internal */
  async shutdown(): Promise<void> {
    if (this.#state !== 'disabled') await this.disable();
  }

  #accepting(): boolean {
    return this.#state === 'enabling' || this.#state === 'enabled';
  }

  #requireEnabled(what: string): void {
    if (!this.#accepting()) throw MessagingError.notEnabled(what);
  }

  /** The session to a present participant. Sending is allowed while enable() runs, to those already present. */
  #sessionFor(id: string, what: string): Session | undefined {
    this.#requireEnabled(what);
    return this.#present.has(id) ? this.#sessions.get(id) : undefined;
  }

  #dial(info: ParticipantInfo): void {
    this.#redials.delete(info.id);
    if (!this.#accepting() || !this.#known.has(info.id)) {
      this.#settle(info.id);
      return;
    }
    if (this.#sessions.has(info.id)) return; // the other side dialed first
    this.#startSession(info, randomId(), true, (this.#failures.get(info.id) ?? 0) + 1);
  }

  #cancelRedial(id: string): void {
    const timer = this.#redials.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#redials.delete(id);
  }

  #startSession(info: ParticipantInfo, cid: string, initiator: boolean, attempt: number): Session {
    const { timeouts, logger } = this.#deps;
    const link = this.#deps.createLink(initiator);
    this.#cancelRedial(info.id);
    const session = new Session({
      participant: info,
      cid,
      initiator,
      attempt,
      link,
      timeouts,
      maxAttachmentBytes: this.#deps.maxAttachmentBytes,
      attachmentBudget: this.#attachmentBudget,
      receiveRate: { bytesPerSecond: this.#deps.receiveLimits.receiveBytesPerSecond, burstBytes: this.#deps.receiveLimits.receiveBurstBytes },
      localAttributes: this.#deps.localAttributes,
      logger,
    });
    this.#sessions.set(info.id, session);
    const attemptTimer = setTimeout(() => {
      if (!session.isReady) session.close(`not connected within ${timeouts.connectAttemptTimeoutMs} ms`);
    }, timeouts.connectAttemptTimeoutMs);
    link.on('signal', (data) => this.#deps.signaling.sendSignal(info.id, cid, data));
    session.on('ready', (attributes) => {
      clearTimeout(attemptTimer);
      this.#onReady(session, attributes);
    });
    session.on('message', (d: Delivery) => {
      const from = this.#present.get(info.id);
      if (from === undefined) return;
      this.emit('message', { messageId: `${cid}:${d.seq}`, from, fromParticipantId: info.id, type: d.type, message: d.payload, attachment: d.attachment });
    });
    const incoming = (t: IncomingTransfer): IncomingAttachment | undefined => {
      const from = this.#present.get(info.id);
      if (from === undefined) return undefined;
      return { messageId: `${cid}:${t.seq}`, from, fromParticipantId: info.id, type: t.type, message: t.payload, receivedBytes: t.receivedBytes, totalBytes: t.totalBytes };
    };
    session.on('progress', (t) => {
      const p = incoming(t);
      if (p !== undefined) this.emit('attachment_progress', p);
    });
    session.on('aborted', (t, reason) => {
      const p = incoming(t);
      if (p !== undefined) this.emit('attachment_aborted', p, reason);
    });
    session.on('attributes', (attributes) => {
      const p = this.#present.get(info.id);
      if (p === undefined) return;
      const changed = p.updateAttributes(attributes);
      if (Object.keys(changed).length > 0) this.emit('participant_attributes_updated', p, changed);
    });
    session.on('protocol_error', (err) => this.emit('error', err));
    session.on('close', (reason, bye) => {
      clearTimeout(attemptTimer);
      this.#onSessionClose(session, reason, bye);
    });
    logger.debug({ participant: info.id, initiator, attempt }, 'connecting');
    return session;
  }

  #onReady(session: Session, attributes: JsonObject): void {
    const id = session.participant.id;
    if (this.#sessions.get(id) !== session) return;
    const p = new RemoteParticipant(session.participant, attributes);
    this.#present.set(id, p);
    this.#failures.delete(id);
    this.#deps.logger.info({ participant: id, name: p.name }, 'participant present');
    this.emit('participant_added', p);
    this.#settle(id);
  }

  #onSessionClose(session: Session, reason: string, bye: boolean): void {
    const id = session.participant.id;
    if (this.#sessions.get(id) !== session) return; // replaced; the new session owns presence
    this.#sessions.delete(id);
    const p = this.#present.get(id);
    if (p !== undefined) {
      this.#present.delete(id);
      this.#deps.logger.info({ participant: id, reason }, 'participant removed');
      this.emit('participant_removed', p);
    }
    // While the server lists the participant as enabled and nobody said goodbye, the channel is re-dialed,
    // with backoff, for as long as it takes: the side that dialed at once, the other side a connect
    // timeout later if by then no offer has come (so a link comes back whichever side slept or lost its
    // network). enable() stops waiting for a participant after connectAttempts failures in a row.
    if (bye || !this.#accepting() || !this.#known.has(id)) {
      this.#settle(id);
      return;
    }
    const { connectAttempts, connectAttemptTimeoutMs, reconnectMaxDelayMs } = this.#deps.timeouts;
    const failures = p !== undefined ? 0 : (this.#failures.get(id) ?? 0) + 1;
    this.#failures.set(id, failures);
    const backoff = failures <= 1 ? Math.random() * FIRST_REDIAL_MAX_MS : backoffDelayMs(failures - 1, REDIAL_BASE_MS, reconnectMaxDelayMs);
    const delayMs = backoff + (session.initiator ? 0 : connectAttemptTimeoutMs);
    this.#deps.logger.debug({ participant: id, reason, failures, delayMs }, 'will redial');
    this.#redials.set(id, setTimeout(() => this.#dial(session.participant), delayMs));
    if (failures >= connectAttempts) {
      if (failures === connectAttempts) this.#deps.logger.warn({ participant: id, reason, attempts: failures }, 'cannot connect to participant; still trying');
      this.#settle(id);
    }
  }

  #whenSettled(id: string): Promise<void> {
    if (this.#present.has(id) || !this.#known.has(id) || (this.#failures.get(id) ?? 0) >= this.#deps.timeouts.connectAttempts) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#settleWaiters.get(id);
      if (list === undefined) this.#settleWaiters.set(id, [resolve]);
      else list.push(resolve);
    });
  }

  #settle(id: string): void {
    const list = this.#settleWaiters.get(id);
    if (list === undefined) return;
    this.#settleWaiters.delete(id);
    for (const resolve of list) resolve();
  }
}

/** The error {@link Session.check} throws for this message on this session's link, if any. */
function checkSession(s: Session, type: string, message: JsonObject, attachment: Uint8Array | undefined): MessagingError | undefined {
  try {
    s.check(type, message, attachment);
    return undefined;
  } catch (err) {
    if (err instanceof MessagingError) return err;
    throw err;
  }
}

function checkMessageFields(options: BroadcastMessageOptions, what: string, maxAttachmentBytes: number): BroadcastMessageOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${what}: expected an options object`);
  const { type, message, attachment, onProgress, signal } = options;
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
    throw new InvalidArgumentError(`${what}: type must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters`);
  }
  const problem = checkJsonObject(message, 'message');
  if (problem !== undefined) throw new InvalidArgumentError(`${what}: ${problem}`);
  if (attachment !== undefined && !(attachment instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what}: attachment must be a Uint8Array`);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new InvalidArgumentError(`${what}: onProgress must be a function`);
  if (signal !== undefined && !isAbortSignal(signal)) throw new InvalidArgumentError(`${what}: signal must be an AbortSignal`);
  if (attachment !== undefined && attachment.byteLength > maxAttachmentBytes) {
    throw MessagingError.attachmentTooLarge(attachment.byteLength, maxAttachmentBytes);
  }
  const out: BroadcastMessageOptions = { type, message };
  if (attachment !== undefined) out.attachment = attachment;
  if (onProgress !== undefined) out.onProgress = onProgress;
  if (signal !== undefined) out.signal = signal;
  return out;
}

function isAbortSignal(v: unknown): v is AbortSignal {
  return typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean' && typeof (v as AbortSignal).addEventListener === 'function';
}

function checkSendOptions(options: SendMessageOptions, what: string, maxAttachmentBytes: number): BroadcastMessageOptions & { id: string } {
  const fields = checkMessageFields(options, what, maxAttachmentBytes) as BroadcastMessageOptions & { id: string };
  const to = options.to;
  const id = to instanceof RemoteParticipant ? to.id : to;
  if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError(`${what}: to must be a RemoteParticipant or a participant id`);
  if (options.ignoreOffline !== undefined && typeof options.ignoreOffline !== 'boolean') {
    throw new InvalidArgumentError(`${what}: ignoreOffline must be a boolean`);
  }
  fields.id = id;
  return fields;
}
