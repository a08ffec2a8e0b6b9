import { MessagingError, RequestError } from './errors.js';
import type { MessagingEvents } from './events.js';
import type { Logger } from './logger.js';
import type { Mesh } from './mesh/Mesh.js';
import type { LinkState } from './mesh/paths.js';
import { CallKind, MessageBody } from './protocol/frames.js';
import type { JsonObject } from './protocol/json.js';
import { RemoteParticipant } from './RemoteParticipant.js';
import { type AnyHandler, handleCall } from './requests/answering.js';
import { Requests } from './requests/Requests.js';
import { checkMessageFields, checkRequestOptions, checkSendOptions } from './send-options.js';
import type { IncomingTransfer } from './session/Inbox.js';
import type { Session } from './session/Session.js';
import { checkFitsAnyLink } from './session/message-plan.js';
import type {
  BroadcastMessageOptions,
  BroadcastResult,
  IncomingAttachment,
  MessageMap,
  MessageMapOf,
  ReceivedMessage,
  ReplyOf,
  RequestHandler,
  RequestOptions,
  RequestReply,
  SendMessageOptions,
} from './types.js';
import { TypedEmitter } from './util/TypedEmitter.js';

/** A handler as the request bookkeeping holds it, whatever the maps. */

/** What a {@link MessagingClient} is built from. @internal */
export interface MessagingClientDeps {
  /** The connections to the other participants. */
  mesh: Mesh;
  /** The largest attachment this participant sends. */
  maxAttachmentBytes: number;
  logger: Logger;
}

type State = 'disabled' | 'enabling' | 'enabled' | 'disabling';

/** A present participant and the session that carries its messages. */
interface Present {
  readonly participant: RemoteParticipant;
  readonly session: Session;
}

/**
 * Participant-to-participant messaging in a room, on `room.messaging`: presence, direct and broadcast
 * messages with acknowledgement, request and reply. `M` types the messages and requests by `type` and `R`
 * the replies (see {@link MessageMap}); both are types only. The connections themselves are the {@link Mesh}'s: this class hears
 * of a participant when its session is up or down, and knows nothing of signaling or WebRTC.
 */
export class MessagingClient<
  M extends MessageMapOf<M> = MessageMap,
  R extends MessageMapOf<R> = MessageMap,
> extends TypedEmitter<MessagingEvents<M>> {
  readonly #deps: MessagingClientDeps;
  readonly #requests = new Requests<AnyHandler>();
  readonly #mesh: Mesh;
  #state: State = 'disabled';
  #enabling: Promise<void> | undefined;
  #disabling: Promise<void> | undefined;
  /** Present participants, in the order they became present. */
  readonly #present = new Map<string, Present>();

  /** Made by its Room. @internal */
  static create(deps: MessagingClientDeps): MessagingClient {
    return new MessagingClient(deps);
  }

  private constructor(deps: MessagingClientDeps) {
    super();
    this.#deps = deps;
    this.emitterLogger = deps.logger;
    this.#mesh = deps.mesh;
    this.#mesh.on('participant_up', (session, attributes, state) => this.#onUp(session, attributes, state));
    this.#mesh.on('participant_down', (session, reason) => this.#onDown(session, reason));
    this.#mesh.on('participant_moved', (session, previousId) => this.#onMoved(session, previousId));
    this.#mesh.on('link_state', (session, state) => this.#onLinkState(session, state));
    this.#mesh.on('protocol_error', (err) => this.emit('error', err));
  }

  /** True while enabling or enabled: what the signaling server should think after a reconnection. @internal */
  get wantsEnabled(): boolean {
    return this.#mesh.accepting;
  }

  /** True once {@link enable} has completed and until {@link disable}. */
  get isEnabled(): boolean {
    return this.#state === 'enabled';
  }

  /** Present participants: those with messaging enabled and an open data channel to this one. */
  get remoteParticipants(): RemoteParticipant[] {
    return [...this.#present.values()].map((p) => p.participant);
  }

  /** Same as {@link remoteParticipants}. */
  getParticipants(): RemoteParticipant[] {
    return this.remoteParticipants;
  }

  /** The present participant with this id. */
  getParticipant(id: string): RemoteParticipant | undefined {
    return this.#present.get(id)?.participant;
  }

  /** The present participant with this name; the one that joined the room first when names repeat. */
  getParticipantByName(name: string): RemoteParticipant | undefined {
    let best: RemoteParticipant | undefined;
    for (const { participant: p } of this.#present.values()) {
      if (p.name !== name) continue;
      if (best === undefined || p.joinedAtMs < best.joinedAtMs || (p.joinedAtMs === best.joinedAtMs && p.id < best.id))
        best = p;
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
    let expected: number;
    try {
      expected = await this.#mesh.open();
    } catch (err) {
      this.#state = 'disabled';
      throw err;
    }
    if (this.#state !== 'enabling') return;
    this.#state = 'enabled';
    this.#deps.logger.info({ present: this.#present.size, expected }, 'messaging enabled');
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
    await this.#mesh.close();
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
  sendMessage(options: SendMessageOptions<M>): Promise<void> {
    // Not an async function: thousands of sends may be under way, and the extra promise of an async
    // wrapper was a measurable share of a sender's time. Errors still arrive as rejections.
    try {
      const { id, type, message, attachment, onProgress, signal } = checkSendOptions(
        options,
        'sendMessage',
        this.#deps.maxAttachmentBytes,
      );
      const session = this.#sessionFor(id, 'sendMessage');
      if (session === undefined) {
        if (options.ignoreOffline === true) return Promise.resolve();
        throw MessagingError.participantNotFound(id);
      }
      const report =
        onProgress === undefined
          ? undefined
          : (sentBytes: number, totalBytes: number) => onProgress({ sentBytes, totalBytes });
      return session.sendMessage(new MessageBody(type, message), attachment, true, report, signal);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Sends a message without waiting for acknowledgement, for high-rate updates such as cursors.
   * Returns true when it was handed to an open channel, false when the recipient is not present.
   * Throws {@link InvalidArgumentError} or {@link MessagingError} for a message that cannot be sent.
   * @example
   * room.messaging.sendMessageNowait({ to: bob, type: 'cursor', message: { x: 1, y: 2 } });
   */
  sendMessageNowait(options: SendMessageOptions<M>): boolean {
    const { id, type, message, attachment } = checkSendOptions(
      options,
      'sendMessageNowait',
      this.#deps.maxAttachmentBytes,
    );
    const session = this.#sessionFor(id, 'sendMessageNowait');
    return session === undefined ? false : session.sendMessage(new MessageBody(type, message), attachment, false);
  }

  /**
   * Sends a message to every participant present at the call (not to this one). Resolves, once each
   * has acknowledged or left, with who received it.
   * @example
   * const { delivered, failed } = await room.messaging.broadcastMessage({ type: 'announce', message: { text: 'hi all' } });
   */
  async broadcastMessage(options: BroadcastMessageOptions<M>): Promise<BroadcastResult> {
    const { type, message, attachment, onProgress, signal } = checkMessageFields(
      options,
      'broadcastMessage',
      this.#deps.maxAttachmentBytes,
    );
    this.#requireEnabled('broadcastMessage');
    if (signal?.aborted === true) throw MessagingError.aborted();
    // Too large for any link: refused at the call, before anything reaches anyone.
    // Encoded once for every recipient; each session only puts its seq in front.
    const body = new MessageBody(type, message);
    checkFitsAnyLink(body, attachment);
    const result: BroadcastResult = { delivered: [], failed: [], errors: {} };
    // A recipient whose announced limits cannot take it fails alone (one participant announcing tiny limits
    // must not veto the broadcast for everyone). Recipients with limits already found fine share that check.
    const fine = new Set<string>();
    const targets: Session[] = [];
    for (const [id, { session: s }] of this.#present) {
      if (!s.isReady) continue;
      const limits = s.peerLimits;
      const key = `${limits?.maxAttachmentBytes}/${limits?.maxFrameBytes}/${s.link.maxMessageBytes}`;
      const err = fine.has(key) ? undefined : checkSession(s, body, attachment);
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
    const sends = targets.map((s, i) => s.sendMessage(body, attachment, true, report?.(i), signal));
    const settled = await Promise.allSettled(sends);
    if (settled.some((s) => s.status === 'rejected' && (s.reason as MessagingError).reason === 'Aborted'))
      throw MessagingError.aborted();
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

  /**
   * Asks one participant and resolves with its reply: the handler it registered for `type` with
   * {@link handle} gets the request, and what it returns comes back. The request and the reply travel as
   * acknowledged messages, so either may carry an attachment of any size up to the limits. Rejects with
   * {@link RequestError} (`NoHandler`, `HandlerFailed`, `Busy`, `Timeout` after `timeoutMs`, default 10 s,
   * `ParticipantLeft`), {@link MessagingError} (`ParticipantNotFound`, `MessageTooLarge`, `Aborted`,
   * `NotEnabled`) or {@link InvalidArgumentError}.
   * @example
   * const { message } = await room.messaging.request({ to: bob, type: 'sum', message: { a: 1, b: 2 } });
   */
  request<K extends keyof M & string>(options: RequestOptions<M, K>): Promise<RequestReply<ReplyOf<R, K>>> {
    try {
      const checked = checkRequestOptions(options, this.#deps.maxAttachmentBytes);
      const { id: to, type, message, attachment, onProgress, signal, timeoutMs } = checked;
      this.#requireEnabled('request');
      const present = this.#present.get(to);
      if (present === undefined) throw MessagingError.participantNotFound(to);
      if (signal?.aborted === true) throw MessagingError.aborted(to);
      const { session, participant } = present;
      const { cid } = session;
      const { id, reply } = this.#requests.open(cid, to, type, timeoutMs, signal);
      const report =
        onProgress === undefined
          ? undefined
          : (sentBytes: number, totalBytes: number) => onProgress({ sentBytes, totalBytes });
      try {
        const body = new MessageBody(type, message, { kind: CallKind.Request, id });
        session.sendMessage(body, attachment, true, report, signal).catch((err: unknown) => {
          // Left before acknowledging is left before replying; every other send error is the request's.
          const left = err instanceof MessagingError && err.reason === 'ParticipantLeft';
          this.#requests.fail(cid, id, left ? RequestError.leftBeforeReply(to, type) : (err as Error));
        });
      } catch (err) {
        this.#requests.fail(cid, id, err as Error);
      }
      return reply.then((r) => ({ message: r.payload as ReplyOf<R, K>, attachment: r.attachment, from: participant }));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Registers the one handler for requests of `type`; returns a function that unregisters it. What the
   * handler returns (or resolves with), `{ message, attachment? }`, is the reply. When it throws, the
   * requester gets `HandlerFailed` with the error's `message` (cut to 1024 characters; never the stack).
   * Requests of a type with no handler are answered `NoHandler`. Throws {@link InvalidArgumentError} when
   * `type` has a handler already.
   * @example
   * const off = room.messaging.handle('sum', async (req) => ({ message: { sum: req.message.a + req.message.b } }));
   */
  handle<K extends keyof M & string>(type: K, handler: RequestHandler<M, R, K>): () => void {
    return this.#requests.handle(type, handler as unknown as AnyHandler);
  }

  /** Tells present participants this participant's new attributes. @internal */
  handleLocalAttributes(attributes: JsonObject): void {
    for (const { session } of this.#present.values()) session.sendAttributes(attributes);
  }

  /** Closes everything at once, without telling the server (the room is going away). @internal */
  async shutdown(): Promise<void> {
    if (this.#state !== 'disabled') await this.disable();
  }

  #requireEnabled(what: string): void {
    if (!this.#mesh.accepting) throw MessagingError.notEnabled(what);
  }

  /** The session to a present participant. Sending is allowed while enable() runs, to those already present. */
  #sessionFor(id: string, what: string): Session | undefined {
    this.#requireEnabled(what);
    return this.#present.get(id)?.session;
  }

  #onUp(session: Session, attributes: JsonObject, state: LinkState): void {
    const info = session.participant;
    const participant = RemoteParticipant.create(info, attributes, state);
    this.#present.set(info.id, { participant, session });
    const { cid } = session;
    session.on('message', (d) => {
      if (d.call !== undefined) {
        handleCall(this.#requests, session, participant, d, d.call, this.#deps.logger);
        return;
      }
      this.emit('message', {
        messageId: `${cid}:${d.seq}`,
        from: participant,
        fromParticipantId: participant.id,
        type: d.type,
        message: d.payload,
        attachment: d.attachment,
      } as ReceivedMessage<M>);
    });
    const incoming = (t: IncomingTransfer): IncomingAttachment<M> =>
      ({
        messageId: `${cid}:${t.seq}`,
        from: participant,
        fromParticipantId: participant.id,
        type: t.type,
        message: t.payload,
        receivedBytes: t.receivedBytes,
        totalBytes: t.totalBytes,
      }) as IncomingAttachment<M>;
    // A request's or reply's attachment is its handler's or caller's business, not a message's.
    session.on('progress', (t) => {
      if (t.call === undefined) this.emit('attachment_progress', incoming(t));
    });
    session.on('aborted', (t, reason) => {
      if (t.call === undefined) this.emit('attachment_aborted', incoming(t), reason);
    });
    session.on('attributes', (next) => {
      const changed = participant.updateAttributes(next);
      if (Object.keys(changed).length > 0) this.emit('participant_attributes_updated', participant, changed);
    });
    this.#deps.logger.info({ participant: info.id, name: participant.name }, 'participant present');
    this.emit('participant_added', participant);
  }

  /** A present participant re-joined the server as a new id: same session, same object, new key. */
  #onLinkState(session: Session, state: LinkState): void {
    const present = this.#present.get(session.participant.id);
    if (present?.session !== session || present.participant.linkState === state) return;
    present.participant.setLinkState(state);
    this.emit('participant_link_changed', present.participant, state);
  }

  #onMoved(session: Session, previousId: string): void {
    const present = this.#present.get(previousId);
    if (present?.session !== session) return;
    const id = session.participant.id;
    // Re-inserted at its place in the order of presence.
    const entries = [...this.#present.entries()].map(([k, v]): [string, Present] => [k === previousId ? id : k, v]);
    this.#present.clear();
    for (const [k, v] of entries) this.#present.set(k, v);
    present.participant.rename(id);
    this.#deps.logger.info({ participant: id, previousId }, 'participant re-joined the server under a new id');
    this.emit('participant_id_changed', present.participant, previousId);
  }

  #onDown(session: Session, reason: string): void {
    this.#requests.closeLink(session.cid);
    const id = session.participant.id;
    const present = this.#present.get(id);
    if (present?.session !== session) return;
    this.#present.delete(id);
    this.#deps.logger.info({ participant: id, reason }, 'participant removed');
    this.emit('participant_removed', present.participant);
  }
}

/** The error {@link Session.check} throws for this message on this session's link, if any. */
function checkSession(s: Session, body: MessageBody, attachment: Uint8Array | undefined): MessagingError | undefined {
  try {
    s.check(body, attachment);
    return undefined;
  } catch (err) {
    if (err instanceof MessagingError) return err;
    throw err;
  }
}
