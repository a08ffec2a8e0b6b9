import { io, type Socket } from 'socket.io-client';
import { ConnectionError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  ClientToServerEvents,
  IncomingSignal,
  JoinReply,
  JoinRequest,
  ParticipantInfo,
  Reply,
  ServerToClientEvents,
  SignalData,
} from '../protocol/signaling.js';
import { checkIncomingSignal, checkParticipantInfo } from '../protocol/signaling.js';
import { TypedEmitter } from './TypedEmitter.js';

/** Events of a {@link SignalingClient}. @internal */
export interface SignalingClientEvents {
  peer_enabled: (p: ParticipantInfo) => void;
  peer_disabled: (id: string) => void;
  signal: (s: IncomingSignal) => void;
  /** The connection to the server is gone (not fired for {@link SignalingClient.close}). */
  disconnected: (reason: string) => void;
}

/**
 * The client side of the signaling protocol over one socket.io connection: join, enable and disable
 * messaging, relay signals. Everything the server sends is validated before it is passed on.
 * @internal
 */
export class SignalingClient extends TypedEmitter<SignalingClientEvents> {
  readonly #socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  #closed = false;

  private constructor(socket: Socket<ServerToClientEvents, ClientToServerEvents>, timeoutMs: number, logger: Logger) {
    super();
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#logger = logger;
    this.emitterLogger = logger;
    socket.on('peer_enabled', (p) => {
      const checked = checkParticipantInfo(p);
      if (checked.ok) this.emit('peer_enabled', checked.value);
      else logger.warn({ detail: checked.message }, 'signaling server sent a bad peer_enabled');
    });
    socket.on('peer_disabled', (p) => {
      if (typeof p?.id === 'string') this.emit('peer_disabled', p.id);
    });
    socket.on('signal', (s) => {
      const checked = checkIncomingSignal(s);
      if (checked.ok) this.emit('signal', checked.value);
      else logger.warn({ detail: checked.message }, 'signaling server sent a bad signal');
    });
    socket.on('request_error', (e) => logger.warn({ event: e?.event, reason: e?.reason, detail: e?.message }, 'signaling server refused a request'));
    socket.on('disconnect', (reason) => {
      if (this.#closed) return;
      this.#closed = true;
      logger.info({ reason }, 'signaling connection lost');
      this.emit('disconnected', reason);
    });
  }

  /** Opens a websocket to the server; rejects with {@link ConnectionError} when it cannot. */
  static connect(url: string, timeoutMs: number, logger: Logger): Promise<SignalingClient> {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        socket.close();
        reject(ConnectionError.timeout('connect', timeoutMs));
      }, timeoutMs);
      const onConnect = (): void => {
        cleanup();
        resolve(new SignalingClient(socket, timeoutMs, logger));
      };
      const onError = (err: Error): void => {
        cleanup();
        socket.close();
        // A server that refuses the connection in its middleware says why in `data`; anything else is a network failure.
        const refusal = (err as { data?: unknown }).data;
        const reason = typeof refusal === 'object' && refusal !== null ? (refusal as { reason?: unknown }).reason : undefined;
        if (typeof reason === 'string' && reason.length > 0 && reason.length <= 64) {
          reject(ConnectionError.refused('connect', reason, err.message.slice(0, 500)));
        } else {
          reject(ConnectionError.unreachable(url, err));
        }
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('connect_error', onError);
      };
      socket.on('connect', onConnect);
      socket.on('connect_error', onError);
    });
  }

  /** True while the websocket is connected. */
  get connected(): boolean {
    return this.#socket.connected && !this.#closed;
  }

  /** Joins a room. */
  join(req: JoinRequest): Promise<JoinReply> {
    return this.#request('join', (ack) => this.#socket.timeout(this.#timeoutMs).emit('join', req, ack));
  }

  /** Marks this participant as messaging-enabled and returns the participants already enabled. */
  async enableMessaging(): Promise<ParticipantInfo[]> {
    const data = await this.#request<{ participants: ParticipantInfo[] }>('enable_messaging', (ack) => this.#socket.timeout(this.#timeoutMs).emit('enable_messaging', ack));
    const list = Array.isArray(data.participants) ? data.participants : [];
    const out: ParticipantInfo[] = [];
    for (const p of list) {
      const checked = checkParticipantInfo(p);
      if (checked.ok) out.push(checked.value);
    }
    return out;
  }

  /** Marks this participant as no longer messaging-enabled. */
  async disableMessaging(): Promise<void> {
    await this.#request<Record<string, never>>('disable_messaging', (ack) => this.#socket.timeout(this.#timeoutMs).emit('disable_messaging', ack));
  }

  /** Relays signaling data to another participant. Fire and forget: a lost signal shows up as a connect timeout. */
  sendSignal(to: string, cid: string, data: SignalData): void {
    if (!this.connected) return;
    this.#socket.emit('signal', { to, cid, data }, (reply) => {
      if (!reply?.ok) this.#logger.debug({ to, reason: reply?.error?.reason }, 'signal refused');
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#closed = true;
    this.#socket.removeAllListeners();
    this.#socket.close();
  }

  #request<T>(what: string, send: (ack: (err: Error | null, reply: Reply<T>) => void) => void): Promise<T> {
    if (!this.connected) return Promise.reject(ConnectionError.disconnected(what));
    return new Promise((resolve, reject) => {
      send((err, reply) => {
        if (err) reject(ConnectionError.timeout(what, this.#timeoutMs));
        else if (reply?.ok === true) resolve(reply.data);
        else if (reply?.ok === false) reject(ConnectionError.refused(what, String(reply.error?.reason), String(reply.error?.message)));
        else reject(ConnectionError.refused(what, 'BadReply', 'the server sent an unreadable reply'));
      });
    });
  }
}
