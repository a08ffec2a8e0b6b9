import { ConnectionError, InvalidArgumentError, MessagingError, RequestError } from './errors.js';
import { MESSAGING_EVENT_NAMES, type MessagingEvents } from './events.js';
import type { Logger } from './logger.js';
import type { Mesh } from './mesh/Mesh.js';
import { broadcast } from './messaging/broadcast.js';
import { hearMessages } from './messaging/incoming.js';
import { Presence, type Present } from './messaging/Presence.js';
import { CallKind, MessageBody } from './protocol/frames.js';
import type { JsonObject } from './protocol/json.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { AnyHandler } from './requests/answering.js';
import { Requests } from './requests/Requests.js';
import { checkMessageFields, checkRequestOptions, checkSendOptions } from './send-options.js';
import type { Session } from './session/Session.js';
import { checkFitsAnyLink } from './session/message-plan.js';
import type {
  BroadcastMessageOptions,
  BroadcastResult,
  MessageMap,
  MessageMapOf,
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
  /** Room.disconnect() began: messaging stays off. */
  #left = false;
  #enabling: Promise<void> | undefined;
  #disabling: Promise<void> | undefined;
  /** Present participants, in the order they became present. */
  readonly #present: Presence<M>;

  /** Made by its Room. @internal */
  static create(deps: MessagingClientDeps): MessagingClient {
    return new MessagingClient(deps);
  }

  private constructor(deps: MessagingClientDeps) {
    super(MESSAGING_EVENT_NAMES);
    this.#deps = deps;
    this.emitterLogger = deps.logger;
    this.#mesh = deps.mesh;
    const { logger } = deps;
    const emit = this.emit.bind(this);
    const requests = this.#requests;
    this.#present = new Presence<M>({
      emit,
      logger,
      hear: (s, p) => hearMessages<M>(s, p, { emit, requests, logger, maxAttachmentBytes: deps.maxAttachmentBytes }),
    });
    this.#mesh.on('participant_up', (session, attributes, state) => {
      const replaced = this.#present.handleUp(session, attributes, state);
      // Its requests' replies would come on the replaced session, which is closed: they never come.
      if (replaced !== undefined) this.#requests.closeLink(replaced.cid);
    });
    this.#mesh.on('participant_down', (session, reason) => {
      this.#requests.closeLink(session.cid);
      this.#present.handleDown(session, reason);
    });
    this.#mesh.on('participant_moved', (session, previousId) => this.#present.handleMoved(session, previousId));
    this.#mesh.on('link_state', (session, state) => this.#present.handleLinkState(session, state));
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

  /** Present participants: those with messaging enabled and a session with this one, direct or relayed (or `reconnecting`). */
  get remoteParticipants(): RemoteParticipant[] {
    return this.#present.participants();
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
    return this.#present.byName(name);
  }

  /**
   * Enables messaging: connects to every participant that already has messaging enabled (relayed and
   * direct by the `paths` policy), and resolves when each one is present or has failed to connect. Participants enabling later arrive
   * through `participant_added`.
   * @example
   * await room.messaging.enable();
   * console.log(room.messaging.remoteParticipants.map((p) => p.name));
   */
  enable(): Promise<void> {
    if (this.#left) return Promise.reject(ConnectionError.disconnected('enable'));
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
    if (this.#state !== 'enabling') {
      // disable() came first; disconnect() too, which ends this enable() as it ends later ones.
      if (this.#left) throw ConnectionError.disconnected('enable');
      return;
    }
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

  /** The room is leaving (`Room.disconnect()`): disables messaging for good; enable() rejects from now on. @internal */
  leave(): Promise<void> {
    this.#left = true;
    return this.disable();
  }

  async #disable(): Promise<void> {
    await this.#mesh.close();
    // Every session closed, and with it what their requests wait for: none may wait for good.
    this.#requests.closeAll();
    this.#state = 'disabled';
    this.#deps.logger.info({}, 'messaging disabled');
    this.emit('messaging_disabled');
  }

  /**
   * Sends a message to one participant. Resolves when the recipient has acknowledged it; rejects with
   * {@link InvalidArgumentError}, or {@link MessagingError} `NotEnabled`, `ParticipantNotFound` or
   * `MessageTooLarge` (nothing was sent), `Refused` (the recipient did not take it), `ParticipantLeft`,
   * `Timeout` or `Aborted` (it may or may not have arrived: see README, *What you can rely on*).
   * @example
   * await room.messaging.sendMessage({ to: bob, type: 'chat', message: { text: 'hi' } });
   */
  sendMessage(options: SendMessageOptions<M>): Promise<void> {
    // Not an async function: thousands of sends may be under way, and the extra promise of an async
    // wrapper was a measurable share of a sender's time. Errors still arrive as rejections.
    try {
      const checked = checkSendOptions(options, 'sendMessage', this.#deps.maxAttachmentBytes);
      const { id, type, message, attachment, onProgress, signal } = checked;
      const session = this.#sessionFor(id, checked.participant, 'sendMessage');
      if (session === undefined) {
        if (options.ignoreOffline === true) return Promise.resolve();
        throw this.#notFound(id, checked.participant);
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
    const checked = checkSendOptions(options, 'sendMessageNowait', this.#deps.maxAttachmentBytes);
    const { id, type, message, attachment } = checked;
    const session = this.#sessionFor(id, checked.participant, 'sendMessageNowait');
    return session === undefined ? false : session.sendMessage(new MessageBody(type, message), attachment, false);
  }

  /**
   * Sends a message to every participant present at the call (not to this one). Resolves, once each
   * has acknowledged or left, with who received it.
   * @example
   * const { delivered, failed } = await room.messaging.broadcastMessage({ type: 'announce', message: { text: 'hi all' } });
   */
  async broadcastMessage(options: BroadcastMessageOptions<M>): Promise<BroadcastResult> {
    // Sending to everyone, not to `to`, would be the wrong thing done quietly (JavaScript has no types to stop it).
    if (typeof options === 'object' && options !== null && 'to' in options)
      throw new InvalidArgumentError('broadcastMessage: sends to everyone and takes no `to`; use sendMessage for one');
    const fields = checkMessageFields(options, 'broadcastMessage', this.#deps.maxAttachmentBytes);
    const { type, message, attachment, signal } = fields;
    this.#requireEnabled('broadcastMessage');
    if (signal?.aborted === true) throw MessagingError.aborted();
    // Too large for any link: refused at the call, before anything reaches anyone.
    const body = new MessageBody(type, message);
    checkFitsAnyLink(body, attachment);
    return broadcast(this.#present.entries(), body, fields);
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
      const present = this.#presentAs(to, checked.participant);
      if (present === undefined) throw this.#notFound(to, checked.participant);
      if (signal?.aborted === true) throw MessagingError.aborted(to);
      const { session, participant } = present;
      const { cid } = session;
      const { id, reply } = this.#requests.open(cid, to, type, timeoutMs, signal);
      const report =
        onProgress === undefined
          ? undefined
          : (sentBytes: number, totalBytes: number) => onProgress({ sentBytes, totalBytes });
      // A request that ends unanswered (timeout, abort, the peer's failure) stops sending its attachment: the
      // rest would only take the link and one of its transfer slots for a reply nobody waits for.
      let sendSignal = signal;
      if (attachment !== undefined && attachment.byteLength > 0) {
        const controller = new AbortController();
        const forward = (): void => controller.abort();
        signal?.addEventListener('abort', forward, { once: true });
        sendSignal = controller.signal;
        reply.then(
          () => signal?.removeEventListener('abort', forward),
          () => {
            signal?.removeEventListener('abort', forward);
            controller.abort();
          },
        );
      }
      try {
        const body = new MessageBody(type, message, { kind: CallKind.Request, id });
        session.sendMessage(body, attachment, true, report, sendSignal).catch((err: unknown) => {
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
    for (const [, { session }] of this.#present.entries()) session.sendAttributes(attributes);
  }

  /** Closes everything at once, without telling the server (the room is going away). @internal */
  async shutdown(): Promise<void> {
    if (this.#state !== 'disabled') await this.disable();
  }

  #requireEnabled(what: string): void {
    if (!this.#mesh.accepting) throw MessagingError.notEnabled(what);
  }

  /**
   * The present participant with this id; when the caller named it by object, only if that object is the
   * one present (an object stands for one presence: the one of an earlier presence reaches nobody).
   */
  #presentAs(id: string, participant: RemoteParticipant | undefined): Present | undefined {
    const present = this.#present.get(id);
    return participant === undefined || present?.participant === participant ? present : undefined;
  }

  /** Why a send to `id` (named by `participant`, when by object) found nobody. */
  #notFound(id: string, participant: RemoteParticipant | undefined): MessagingError {
    return participant !== undefined && this.#present.get(id) !== undefined
      ? MessagingError.earlierPresence(id)
      : MessagingError.participantNotFound(id);
  }

  /** The session to a present participant. Sending is allowed while enable() runs, to those already present. */
  #sessionFor(id: string, participant: RemoteParticipant | undefined, what: string): Session | undefined {
    this.#requireEnabled(what);
    return this.#presentAs(id, participant)?.session;
  }
}
