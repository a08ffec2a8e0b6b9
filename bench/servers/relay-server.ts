import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';

/** Events a relay client sends. */
export interface RelayClientEvents {
  /** Enters `room`; the reply lists who is already there. */
  join: (room: string, ack: (reply: { id: string; peers: string[] } | { error: string }) => void) => void;
  /** One message to one participant of the same room. */
  to: (target: string, type: string, payload: unknown, attachment?: Uint8Array) => void;
  /** One message to every other participant of the room. */
  all: (type: string, payload: unknown, attachment?: Uint8Array) => void;
}

/** Events the relay sends. */
export interface RelayServerEvents {
  m: (from: string, type: string, payload: unknown, attachment?: Uint8Array) => void;
  peer_joined: (id: string) => void;
  relay_error: (e: { reason: 'BadRequest' | 'UnknownParticipant'; message: string }) => void;
}

/** Options of {@link createRelayServer}. */
export interface RelayServerOptions {
  /**
   * TCP port; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Largest event accepted, in bytes (socket.io's own default); a 64 KiB chunk fits.
   * @default 1000000
   */
  maxPayloadBytes?: number;
}

/** Defaults of {@link RelayServerOptions}. */
export const DEFAULT_RELAY_OPTIONS = Object.freeze({ port: 0, host: '127.0.0.1', maxPayloadBytes: 1_000_000 });

/** A running relay server. */
export interface RelayServer {
  readonly url: string;
  close(): Promise<void>;
}

type RelaySocket = Socket<RelayClientEvents, RelayServerEvents, Record<string, never>, { room?: string }>;

const MAX_TYPE_LENGTH = 256;

/**
 * The socket.io baseline's server: relays each application message from one client to another (or to
 * the whole room), as an application does when it does not go peer to peer. The roommesh signaling
 * server deliberately carries no application messages, so the bench has this minimal one. Every event
 * is checked; a bad one is answered with `relay_error` and dropped.
 */
export async function createRelayServer(options: RelayServerOptions = {}): Promise<RelayServer> {
  const opts = { ...DEFAULT_RELAY_OPTIONS, ...options };
  const http = createServer((_req, res) => res.writeHead(404).end());
  const io = new Server<RelayClientEvents, RelayServerEvents, Record<string, never>, { room?: string }>(http, {
    transports: ['websocket'],
    maxHttpBufferSize: opts.maxPayloadBytes,
    serveClient: false,
  });

  io.on('connection', (socket: RelaySocket) => {
    const refuse = (reason: 'BadRequest' | 'UnknownParticipant', message: string): void => {
      socket.emit('relay_error', { reason, message });
    };
    socket.on('join', (room, ack) => {
      if (typeof ack !== 'function') return refuse('BadRequest', 'join needs an acknowledgement');
      if (typeof room !== 'string' || room.length === 0 || room.length > 128)
        return ack({ error: 'room must be a non-empty string' });
      if (socket.data.room !== undefined) return ack({ error: 'already joined' });
      const peers = [...(io.sockets.adapter.rooms.get(room) ?? [])];
      socket.data.room = room;
      void socket.join(room);
      socket.to(room).emit('peer_joined', socket.id);
      ack({ id: socket.id, peers });
    });
    socket.on('to', (target, type, payload, attachment) => {
      const room = socket.data.room;
      if (room === undefined) return refuse('BadRequest', 'join a room first');
      if (typeof target !== 'string' || !validMessage(type, payload, attachment))
        return refuse('BadRequest', 'expected (target, type, payload, attachment?)');
      if (target === socket.id || io.sockets.sockets.get(target)?.data.room !== room)
        return refuse('UnknownParticipant', 'no such participant in this room');
      if (attachment === undefined) io.to(target).emit('m', socket.id, type, payload);
      else io.to(target).emit('m', socket.id, type, payload, attachment);
    });
    socket.on('all', (type, payload, attachment) => {
      const room = socket.data.room;
      if (room === undefined) return refuse('BadRequest', 'join a room first');
      if (!validMessage(type, payload, attachment))
        return refuse('BadRequest', 'expected (type, payload, attachment?)');
      if (attachment === undefined) socket.to(room).emit('m', socket.id, type, payload);
      else socket.to(room).emit('m', socket.id, type, payload, attachment);
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${opts.host}:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        io.disconnectSockets(true);
        void io.close(() => resolve());
        http.closeAllConnections();
      });
      return closing;
    },
  };
}

function validMessage(type: unknown, payload: unknown, attachment: unknown): boolean {
  return (
    typeof type === 'string' &&
    type.length > 0 &&
    type.length <= MAX_TYPE_LENGTH &&
    typeof payload === 'object' &&
    payload !== null &&
    !Array.isArray(payload) &&
    (attachment === undefined || attachment instanceof Uint8Array)
  );
}
