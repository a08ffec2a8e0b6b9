import { ConnectionError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  IncomingSignal,
  JoinReply,
  JoinRequest,
  OutgoingRelay,
  ParticipantInfo,
  RelayRefusal,
  RelayTerms,
  Reply,
  SignalData,
} from '../protocol/signaling.js';
import { MAX_RESUME_TOKEN_LENGTH, MAX_ROOM_PARTICIPANTS } from '../protocol/signaling.js';
import { checkIncomingSignal, checkParticipantInfo } from '../protocol/signaling-checks.js';
import { checkIncomingRelay, checkRelayRefusal, checkRelayTerms } from '../protocol/signaling-relay-checks.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { backoffDelayMs } from '../util/backoff.js';
import { answeredInOrder, type EventSlot, type EventWindow, windowFor } from './EventWindow.js';
import { RelayPacer } from './RelayPacer.js';
import { isFinalRefusal, resumeOrRejoin } from './resume.js';
import { type ClientSocket, type EmitRequest, type SignalingTransport, openSocket, request } from './socket.js';

/** Events of a {@link SignalingClient}. @internal */
export interface SignalingClientEvents {
  peer_enabled: (p: ParticipantInfo) => void;
  peer_disabled: (id: string) => void;
  /** `processDied`: its server process died (the server adopted it), rather than its connection dropping. */
  peer_disconnected: (id: string, processDied: boolean) => void;
  signal: (s: IncomingSignal) => void;
  /** The server refused a signal because it does not list `to` as an enabled participant. */
  signal_refused: (to: string) => void;
  /** Bytes participant `from` relayed through the server (checked: a participant id and bytes). */
  relay: (from: string, data: Uint8Array) => void;
  /** The server refused and dropped a relayed frame this client sent. */
  relay_refused: (refusal: RelayRefusal) => void;
  /** The connection to the server is gone; reconnecting starts (not fired for {@link SignalingClient.close}). */
  disconnected: (reason: string) => void;
  /** Back on the server under the same participant id; `participants` have messaging enabled. */
  resumed: (participants: ParticipantInfo[]) => void;
  /**
   * Back on the server as a new participant, `self`: the server no longer knew `previousId` (it restarted
   * without a shared resume secret, so it could not read the resume token). Messaging is not enabled yet.
   */
  rejoined: (self: ParticipantInfo, previousId: string) => void;
  /** Reconnecting stopped for good: the server will not take this participant back, not even as a new one. */
  failed: (error: ConnectionError) => void;
}

/** Options of a {@link SignalingClient}. @internal */
export interface SignalingClientOptions {
  timeoutMs: number;
  reconnectMaxDelayMs: number;
  /** Whether messaging is (being) enabled, told to the server on resume. */
  messagingEnabled: () => boolean;
  logger: Logger;
  /**
   * How the websocket is made (the Node entry's sends its frames unmasked: node-websocket.ts).
   * @default 'websocket'
   */
  transport?: SignalingTransport;
}

/**
 * A timed socket's `relay`: socket.io's types give a timed emit its error-first acknowledgement only for
 * an event whose acknowledgement is required, and a relay frame's is optional.
 */
interface TimedRelay {
  emit(ev: 'relay', frame: OutgoingRelay, ack: (err: Error | null, reply: Reply<undefined>) => void): void;
}

/** Largest `maxPendingEvents` taken from a server; more is not believed. */
const MAX_ANNOUNCED_PENDING = 100_000;

/** First reconnection delay; it doubles up to `reconnectMaxDelayMs`. */
const RECONNECT_BASE_MS = 250;

/**
 * The client side of the signaling protocol: join, enable and disable messaging, relay signals. When the
 * connection drops, it reconnects with backoff and jitter and resumes under the same participant id with
 * the token the server gave at join. When the server cannot take that token (it restarted without a shared
 * resume secret and forgot everyone), it joins again with its first join request, as a new participant id:
 * without auth, nobody may take an id that could be live elsewhere, so the old id is never asked back.
 * Everything the server sends is validated before it is passed on.
 * @internal
 */
export class SignalingClient extends TypedEmitter<SignalingClientEvents> {
  readonly #url: string;
  readonly #options: SignalingClientOptions;
  #socket: ClientSocket;
  #resumeToken: string | undefined;
  /** The join request, sent again to re-join as a new participant when a resume is refused. */
  #joinRequest: JoinRequest | undefined;
  /** This participant's id on the server. */
  #selfId: string | undefined;
  #closed = false;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectAttempt = 0;
  /** Relayed frames on their way out, paced to the server's terms; absent when it does not relay. */
  #relay: RelayPacer | undefined;
  /**
   * This connection's events in flight, kept below the server's queue limit so that it never refuses one
   * with `TooManyRequests`; absent before the join reply and with a server that does not announce its limit.
   */
  #window: EventWindow | undefined;

  private constructor(url: string, socket: ClientSocket, options: SignalingClientOptions) {
    super();
    this.#url = url;
    this.#options = options;
    this.emitterLogger = options.logger;
    this.#socket = socket;
    this.#attach(socket);
  }

  /** Opens a websocket to the server; rejects with {@link ConnectionError} when it cannot. */
  static async connect(url: string, options: SignalingClientOptions): Promise<SignalingClient> {
    return new SignalingClient(url, await openSocket(url, options.timeoutMs, options.transport), options);
  }

  /** True while the websocket is connected. */
  get connected(): boolean {
    return this.#socket.connected && !this.#closed;
  }

  /** Joins a room; keeps the resume token of the reply. */
  async join(req: JoinRequest): Promise<JoinReply> {
    const reply = await this.#request<JoinReply>(this.#socket, 'join', (s, ack) => s.emit('join', req, ack));
    // Checked as every other reply is: a missing token left a client that never reconnected, and a bad
    // `self` reached the app as its own participant.
    const self = checkParticipantInfo(reply.self);
    if (!self.ok) throw ConnectionError.refused('join', 'BadReply', self.message);
    if (!isResumeToken(reply.resumeToken))
      throw ConnectionError.refused('join', 'BadReply', 'the join reply carries no resume token');
    this.#resumeToken = reply.resumeToken;
    this.#joinRequest = req;
    this.#selfId = self.value.id;
    this.#setWindow(reply.maxPendingEvents);
    this.#setRelayTerms(reply.relay);
    return reply;
  }

  /** The server's relay limits; undefined when it does not relay (or this client gave no relay key). */
  get relayTerms(): RelayTerms | undefined {
    return this.#relay?.terms;
  }

  /**
   * Sends bytes to participant `to` through the server's relay, paced to the server's byte rate so that
   * it never has to refuse one for rate. Resolves once the frame is handed to the connection; rejects
   * with {@link ConnectionError} when it cannot be (no relay, or the connection is gone: a relayed stream
   * has no gaps, so its link closes).
   */
  sendRelay(to: string, data: Uint8Array): Promise<void> {
    const pacer = this.#relay;
    if (pacer === undefined) return Promise.reject(ConnectionError.refused('relay', 'RelayDisabled', 'no relay'));
    return pacer.send(to, data);
  }

  /** Marks this participant as messaging-enabled and returns the participants already enabled. */
  async enableMessaging(): Promise<ParticipantInfo[]> {
    const data = await this.#request<{ participants: ParticipantInfo[] }>(this.#socket, 'enable_messaging', (s, ack) =>
      s.emit('enable_messaging', ack),
    );
    return participants(data.participants);
  }

  /** Marks this participant as no longer messaging-enabled. */
  async disableMessaging(): Promise<void> {
    await this.#request<Record<string, never>>(this.#socket, 'disable_messaging', (s, ack) =>
      s.emit('disable_messaging', ack),
    );
  }

  /** Relays signaling data to another participant. Fire and forget: a lost signal shows up as a connect timeout. */
  sendSignal(to: string, cid: string, data: SignalData): void {
    if (!this.connected) return;
    const socket = this.#socket;
    this.#inWindow(
      true,
      (slot) => {
        if (socket !== this.#socket || !this.connected) return;
        // Timed, as every acknowledged event is: a server that keeps the connection and stops answering
        // would otherwise hold this event's slot in the window, and the callback in socket.io's, for good.
        socket.timeout(this.#options.timeoutMs).emit('signal', { to, cid, data }, (err, reply) => {
          slot?.answered(err !== null || answeredInOrder(reply));
          if (err !== null) {
            this.#options.logger.debug({ to }, 'signal unanswered');
            return;
          }
          if (reply?.ok) return;
          const reason = reply?.error?.reason;
          this.#options.logger.debug({ to, reason }, 'signal refused');
          if (reason === 'UnknownParticipant' || reason === 'PeerNotEnabled') this.emit('signal_refused', to);
        });
      },
      () => undefined, // a lost signal shows up as a connect timeout
    );
  }

  /** Closes the connection and stops reconnecting. */
  close(): void {
    this.#closed = true;
    this.#window?.fail();
    this.#relay?.fail(ConnectionError.disconnected('relay'));
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#socket.removeAllListeners();
    this.#socket.close();
  }

  #attach(socket: ClientSocket): void {
    const { logger } = this.#options;
    socket.on('peer_enabled', (p) => {
      const checked = checkParticipantInfo(p);
      if (checked.ok) this.emit('peer_enabled', checked.value);
      else logger.warn({ detail: checked.message }, 'signaling server sent a bad peer_enabled');
    });
    socket.on('peer_disabled', (p) => {
      if (typeof p?.id === 'string') this.emit('peer_disabled', p.id);
    });
    socket.on('peer_disconnected', (p) => {
      if (typeof p?.id === 'string') this.emit('peer_disconnected', p.id, p.processDied === true);
    });
    socket.on('signal', (s) => {
      const checked = checkIncomingSignal(s);
      if (checked.ok) this.emit('signal', checked.value);
      else logger.warn({ detail: checked.message }, 'signaling server sent a bad signal');
    });
    socket.on('relay', (r) => {
      const checked = checkIncomingRelay(r);
      if (checked.ok) this.emit('relay', checked.value.from, checked.value.data);
      else logger.warn({ detail: checked.message }, 'signaling server sent a bad relay');
    });
    socket.on('relay_refused', (r) => {
      const checked = checkRelayRefusal(r);
      if (checked.ok) this.emit('relay_refused', checked.value);
      else logger.warn({ detail: checked.message }, 'signaling server sent a bad relay_refused');
    });
    socket.on('request_error', (e) =>
      logger.warn({ event: e?.event, reason: e?.reason, detail: e?.message }, 'signaling server refused a request'),
    );
    socket.on('disconnect', (reason) => {
      if (this.#closed || socket !== this.#socket) return;
      socket.removeAllListeners();
      // Relayed frames queued for the old connection cannot keep their order across it: their links close.
      this.#window?.fail();
      this.#window = undefined;
      this.#relay?.fail(ConnectionError.disconnected('relay'));
      logger.info({ reason }, 'signaling connection lost');
      this.emit('disconnected', reason);
      if (this.#resumeToken === undefined) return; // never joined: nothing to resume
      this.#reconnectAttempt = 0;
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    this.#reconnectAttempt++;
    const delayMs = backoffDelayMs(this.#reconnectAttempt, RECONNECT_BASE_MS, this.#options.reconnectMaxDelayMs);
    this.#reconnectTimer = setTimeout(() => void this.#reconnect(), delayMs);
  }

  async #reconnect(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (this.#closed) return;
    const { logger, timeoutMs } = this.#options;
    let socket: ClientSocket | undefined;
    try {
      socket = await openSocket(this.#url, timeoutMs, this.#options.transport);
      if (this.#closed) {
        socket.close();
        return;
      }
      const opened = socket;
      const outcome = await resumeOrRejoin({
        token: this.#resumeToken as string,
        joinRequest: this.#joinRequest,
        messagingEnabled: this.#options.messagingEnabled(),
        request: (what, send) => this.#request(opened, what, send),
        logger,
      });
      if (this.#closed) {
        socket.close();
        return;
      }
      if (!isResumeToken(outcome.reply.resumeToken))
        throw ConnectionError.refused(outcome.kind === 'resumed' ? 'resume' : 'join', 'BadReply', 'no resume token');
      this.#resumeToken = outcome.reply.resumeToken;
      this.#socket = socket;
      this.#attach(socket);
      this.#setWindow(outcome.reply.maxPendingEvents);
      this.#setRelayTerms(outcome.reply.relay);
      if (outcome.kind === 'resumed') {
        logger.info({ attempts: this.#reconnectAttempt }, 'back on the signaling server');
        this.emit('resumed', participants(outcome.reply.participants));
        return;
      }
      const previousId = this.#selfId ?? '';
      const self = checkParticipantInfo(outcome.reply.self);
      if (!self.ok) throw ConnectionError.refused('join', 'BadReply', self.message);
      this.#selfId = self.value.id;
      logger.info({ attempts: this.#reconnectAttempt, id: self.value.id, previousId }, 'joined the server again');
      this.emit('rejoined', self.value, previousId);
    } catch (err) {
      socket?.close();
      const error = err instanceof ConnectionError ? err : ConnectionError.unreachable(this.#url, err);
      if (isFinalRefusal(error)) {
        logger.warn({ reason: error.serverReason }, 'the signaling server will not take this participant back');
        this.#closed = true;
        this.emit('failed', error);
        return;
      }
      logger.debug(
        { attempt: this.#reconnectAttempt, reason: error.serverReason ?? error.reason },
        'reconnecting failed; trying again',
      );
      this.#scheduleReconnect();
    }
  }

  /** Takes the relay terms of a join or resume reply: relayed frames go out paced to them. */
  #setRelayTerms(raw: unknown): void {
    const checked = raw === undefined ? undefined : checkRelayTerms(raw);
    if (checked !== undefined && !checked.ok)
      this.#options.logger.warn({ detail: checked.message }, 'signaling server sent bad relay terms');
    const terms = checked?.ok === true && this.#joinRequest?.relayKey !== undefined ? checked.value : undefined;
    if (terms === undefined) {
      this.#relay?.fail(ConnectionError.refused('relay', 'RelayDisabled', 'the server does not relay'));
      this.#relay = undefined;
      return;
    }
    const socket = this.#socket;
    this.#relay = new RelayPacer(terms, (to, data, sent) =>
      this.#inWindow(
        false,
        (slot) => {
          if (socket !== this.#socket || !this.connected) return sent(false);
          if (slot?.ack === true)
            (socket.timeout(this.#options.timeoutMs) as TimedRelay).emit('relay', { to, data }, (err, reply) =>
              this.#relayAnswered(slot, err === null ? reply : undefined),
            );
          else socket.emit('relay', { to, data });
          sent(true);
        },
        () => sent(false),
      ),
    );
  }

  /**
   * The reply to a relay frame that asked for one (undefined: none within the timeout): frees the window;
   * a refusal is logged, as `request_error` is.
   */
  #relayAnswered(slot: EventSlot, reply: Reply<undefined> | undefined): void {
    slot.answered(reply === undefined || answeredInOrder(reply));
    if (reply?.ok === false) {
      const { reason, message } = reply.error ?? {};
      this.#options.logger.warn({ event: 'relay', reason, detail: message }, 'signaling server refused a request');
    }
  }

  /** Takes the server's queue limit from a join or resume reply; without one, events go out unwindowed. */
  #setWindow(raw: unknown): void {
    this.#window?.fail();
    const valid = typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 1 && raw <= MAX_ANNOUNCED_PENDING;
    if (raw !== undefined && !valid) this.#options.logger.warn({ raw }, 'signaling server sent a bad maxPendingEvents');
    this.#window = valid ? windowFor(raw) : undefined;
  }

  /** Runs `run` once this connection's window has room (its slot undefined without a window), or `drop`. */
  #inWindow(acked: boolean, run: (slot: EventSlot | undefined) => void, drop: () => void): void {
    if (this.#window === undefined) run(undefined);
    else this.#window.take(acked, run, drop);
  }

  /**
   * One request, answered within `timeoutMs` of this call: the time it waits for room in the window counts
   * (a window held by a server that stopped answering made `enable()` wait for good).
   */
  #request<T>(socket: ClientSocket, what: string, send: EmitRequest<T>): Promise<T> {
    if (!socket.connected || this.#closed) return Promise.reject(ConnectionError.disconnected(what));
    const { timeoutMs } = this.#options;
    const window = socket === this.#socket ? this.#window : undefined;
    if (window === undefined) return request(socket, what, timeoutMs, send);
    const deadline = Date.now() + timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (window.withdraw(ticket)) reject(ConnectionError.timeout(what, timeoutMs));
      }, timeoutMs);
      const ticket = window.take(
        true,
        (slot) => {
          clearTimeout(timer);
          // A reply frees the window. So does a timeout (see EventSlot.answered).
          const counted: EmitRequest<T> = (s, ack) =>
            send(s, (err, reply) => {
              slot.answered(err !== null || answeredInOrder(reply));
              ack(err, reply);
            });
          const left = Math.max(1, deadline - Date.now());
          request(socket, what, left, counted, timeoutMs).then(resolve, reject);
        },
        () => {
          clearTimeout(timer);
          reject(ConnectionError.disconnected(what));
        },
      );
    });
  }
}

/** The valid participants of a list from the server, at most {@link MAX_ROOM_PARTICIPANTS}. */
function participants(list: unknown): ParticipantInfo[] {
  const out: ParticipantInfo[] = [];
  for (const p of Array.isArray(list) ? list.slice(0, MAX_ROOM_PARTICIPANTS) : []) {
    const checked = checkParticipantInfo(p);
    if (checked.ok) out.push(checked.value);
  }
  return out;
}

/** A resume token as the server hands them out. */
function isResumeToken(token: unknown): token is string {
  return typeof token === 'string' && token.length > 0 && token.length <= MAX_RESUME_TOKEN_LENGTH;
}
