/** The websocket to the signaling server: opening it, and one request on it answered by the server's reply. */
import type { TransportCtor } from 'engine.io-client';
import { Manager, type Socket } from 'socket.io-client';
import { ConnectionError } from '../errors.js';
import type { ClientToServerEvents, Reply, ServerToClientEvents } from '../protocol/signaling.js';

/** A socket.io socket that speaks the signaling event maps. @internal */
export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
/** A socket whose next emit fails with an error after a timeout, unless acknowledged. @internal */
export type TimedSocket = ReturnType<ClientSocket['timeout']>;
/** Emits one request on a {@link TimedSocket}, with `ack` for the server's reply. @internal */
export type EmitRequest<T> = (s: TimedSocket, ack: (err: Error | null, reply: Reply<T>) => void) => void;

/**
 * How the websocket is made: engine.io's own (`'websocket'`: the browser's WebSocket, or `ws` in Node), or a
 * transport class (the Node entry's, which sends unmasked: node-websocket.ts). @internal
 */
export type SignalingTransport = 'websocket' | TransportCtor;

/** socket.io's packet type of a connection refusal (socket.io-parser's `PacketType.CONNECT_ERROR`). */
const CONNECT_ERROR = 4;

/**
 * A connection refusal (`CONNECT_ERROR`) whose `message` is not a string is given one. socket.io-client
 * builds an Error from that message in a `nextTick` of its own, and a message that cannot become a string
 * (`{"toString":0}`) threw there, uncaught: a hostile server, or anyone in the middle of a plain `ws://`
 * connection, ended the Node process with one frame. Listening on the manager before its socket exists
 * runs this first, on the same packet object. (An extended socket.io-parser decoder did the same, but
 * importing the parser into the library cost every participant ~15 ms of CPU in the presence window at
 * N = 10, measured; the cause was not found.)
 */
function checkRefusal(packet: { type: number; data?: unknown }): void {
  if (packet.type !== CONNECT_ERROR) return;
  const data = packet.data;
  const fields = typeof data === 'object' && data !== null ? (data as { message?: unknown; data?: unknown }) : {};
  if (typeof fields.message !== 'string')
    packet.data = { message: 'the server refused the connection (unreadable refusal)', data: fields.data };
}

/** Opens one websocket to the server (socket.io's own reconnection off: the client decides when). @internal */
export function openSocket(
  url: string,
  timeoutMs: number,
  transport: SignalingTransport = 'websocket',
): Promise<ClientSocket> {
  // io(url, { forceNew: true }), with the manager's packets checked first (see checkRefusal).
  const manager = new Manager(url, {
    transports: transport === 'websocket' ? ['websocket'] : [transport],
    reconnection: false,
    timeout: timeoutMs,
  });
  manager.on('packet', checkRefusal);
  const socket: ClientSocket = manager.socket('/');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      socket.close();
      reject(ConnectionError.timeout('connect', timeoutMs));
    }, timeoutMs);
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.close();
      // A server that refuses the connection in its middleware says why in `data`; anything else is a network failure.
      const refusal = (err as { data?: unknown }).data;
      const reason =
        typeof refusal === 'object' && refusal !== null ? (refusal as { reason?: unknown }).reason : undefined;
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

/**
 * Sends one request (`what`, for errors) and resolves with the data of the server's reply; rejects with a
 * {@link ConnectionError}: `Timeout` without a reply within `timeoutMs` (told as `reportedMs`: the request's
 * whole timeout, of which it may have spent some waiting to be sent), `Refused` with the server's reason.
 * @internal
 */
export function request<T>(
  socket: ClientSocket,
  what: string,
  timeoutMs: number,
  send: EmitRequest<T>,
  reportedMs = timeoutMs,
): Promise<T> {
  return new Promise((resolve, reject) => {
    send(socket.timeout(timeoutMs), (err, reply) => {
      // socket.io answers a pending request with an error on a timeout and when the connection closes.
      if (err)
        reject(socket.connected ? ConnectionError.timeout(what, reportedMs) : ConnectionError.disconnected(what));
      else if (reply?.ok === true) resolve(reply.data);
      else if (reply?.ok === false) {
        // The server's words, checked: String() of an object that cannot become a string threw here, in
        // socket.io-client's nextTick, uncaught (one reply ended a Node process).
        const error: unknown = reply.error;
        const { reason, message } =
          typeof error === 'object' && error !== null ? (error as { reason?: unknown; message?: unknown }) : {};
        const readable = typeof reason === 'string' && reason.length > 0 && reason.length <= 64;
        reject(
          ConnectionError.refused(
            what,
            readable ? reason : 'BadReply',
            typeof message === 'string' ? message.slice(0, 500) : 'the server sent an unreadable refusal',
          ),
        );
      } else reject(ConnectionError.refused(what, 'BadReply', 'the server sent an unreadable reply'));
    });
  });
}
