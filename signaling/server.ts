import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import type {
  ClientToServerEvents,
  IceServer,
  Reply,
  ServerToClientEvents,
  SignalingErrorReason,
} from '../lib/protocol/signaling.js';
import { SIGNALING_VERSION, checkJoinRequest, checkOutgoingSignal } from '../lib/protocol/signaling.js';
import type { Member } from './rooms.js';
import { RoomRegistry } from './rooms.js';
import { serveStatic } from './static.js';

/** The logger the server writes to: pino fits, and so does anything with these methods. */
export interface ServerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link createSignalingServer}. */
export interface SignalingServerOptions {
  /**
   * TCP port to listen on; 0 picks a free one.
   * @default 8080
   */
  port?: number;
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Largest socket.io event accepted, in bytes; a larger one closes that client's connection.
   * @default 65536
   */
  maxPayloadBytes?: number;
  /**
   * ICE servers handed to clients in the join reply.
   * @default []
   */
  iceServers?: IceServer[];
  /**
   * Folder served over HTTP at `/` (the demo page); false serves nothing.
   * @default the package's demo/ folder
   */
  staticDir?: string | false;
  /**
   * Where the server logs. It never logs SDP, ICE candidates or tokens.
   * @default a logger that prints nothing
   */
  logger?: ServerLogger;
}

/** Defaults of {@link SignalingServerOptions}. */
export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  maxPayloadBytes: 64 * 1024,
  iceServers: [] as IceServer[],
  staticDir: new URL('../../demo/', import.meta.url).pathname,
});

/** A running signaling server. */
export interface SignalingServer {
  /** The URL clients connect to, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Current number of rooms and participants. */
  stats(): { rooms: number; participants: number; connections: number };
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

type ServerSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { member?: Member<ServerSocket> }>;

const noop = (): void => {};
const silent: ServerLogger = { debug: noop, info: noop, warn: noop, error: noop };

class RequestError extends Error {
  constructor(readonly reason: SignalingErrorReason, message: string) {
    super(message);
  }
}

/**
 * Starts a signaling server: it assigns participant ids, keeps room membership and who has messaging
 * enabled, and relays offers, answers and ICE candidates between two participants of the same room.
 * It carries no application messages.
 * @example
 * const server = await createSignalingServer({ port: 8080 });
 * // … later
 * await server.close();
 */
export async function createSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const opts = { ...DEFAULT_SERVER_OPTIONS, ...options };
  const logger = options.logger ?? silent;
  const registry = new RoomRegistry<ServerSocket>();
  const staticDir = opts.staticDir;

  const http: HttpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (staticDir === false) {
      res.writeHead(404).end();
      return;
    }
    serveStatic(staticDir, req, res);
  });

  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { member?: Member<ServerSocket> }>(http, {
    transports: ['websocket'],
    maxHttpBufferSize: opts.maxPayloadBytes,
    serveClient: false,
  });

  io.on('connection', (socket: ServerSocket) => {
    logger.debug({ socket: socket.id }, 'connected');

    // Every event goes through here: validated, answered with a Reply, and never able to throw out.
    const handle = (event: keyof ClientToServerEvents, run: (args: unknown[]) => object): void => {
      socket.on(event, (...args: unknown[]) => {
        const last = args[args.length - 1];
        const ack = typeof last === 'function' ? (last as (r: Reply<object>) => void) : undefined;
        if (ack !== undefined) args.pop();
        let reply: Reply<object>;
        try {
          reply = { ok: true, data: run(args) };
        } catch (err) {
          const reason: SignalingErrorReason = err instanceof RequestError ? err.reason : 'Internal';
          const message = err instanceof RequestError ? err.message : 'internal error';
          if (!(err instanceof RequestError)) logger.error({ event, err }, 'handler failed');
          else logger.debug({ event, reason }, 'request refused');
          reply = { ok: false, error: { reason, message } };
        }
        if (ack !== undefined) ack(reply);
        else if (!reply.ok) socket.emit('request_error', { event, ...reply.error });
      });
    };

    const joined = (): Member<ServerSocket> => {
      const member = socket.data.member;
      if (member === undefined) throw new RequestError('NotJoined', 'join a room first');
      return member;
    };

    handle('join', ([req]) => {
      if (socket.data.member !== undefined) throw new RequestError('AlreadyJoined', 'this connection has already joined a room');
      const checked = checkJoinRequest(req);
      if (!checked.ok) throw new RequestError('BadRequest', checked.message);
      if (checked.value.v !== SIGNALING_VERSION) {
        throw new RequestError('UnsupportedVersion', `signaling protocol ${checked.value.v} is not supported; this server speaks ${SIGNALING_VERSION}`);
      }
      const member: Member<ServerSocket> = {
        info: { id: randomUUID(), name: checked.value.name, joinedAtMs: Date.now() },
        room: checked.value.room,
        socket,
        messagingEnabled: false,
      };
      registry.add(member);
      socket.data.member = member;
      logger.info({ room: member.room, participant: member.info.id }, 'joined');
      return opts.iceServers.length > 0 ? { self: member.info, iceServers: opts.iceServers } : { self: member.info };
    });

    handle('enable_messaging', () => {
      const member = joined();
      const peers = registry.enabledPeersOf(member);
      if (!member.messagingEnabled) {
        member.messagingEnabled = true;
        // Peers hear of the newcomer before the newcomer hears of them, so its offers never arrive first.
        for (const peer of peers) peer.socket.emit('peer_enabled', member.info);
        logger.info({ room: member.room, participant: member.info.id, peers: peers.length }, 'messaging enabled');
      }
      return { participants: peers.map((p) => p.info) };
    });

    handle('disable_messaging', () => {
      const member = joined();
      if (member.messagingEnabled) {
        member.messagingEnabled = false;
        for (const peer of registry.enabledPeersOf(member)) peer.socket.emit('peer_disabled', { id: member.info.id });
        logger.info({ room: member.room, participant: member.info.id }, 'messaging disabled');
      }
      return {};
    });

    handle('signal', ([raw]) => {
      const member = joined();
      if (!member.messagingEnabled) throw new RequestError('NotEnabled', 'enable messaging before signaling');
      const checked = checkOutgoingSignal(raw);
      if (!checked.ok) throw new RequestError('BadRequest', checked.message);
      const target = registry.get(member.room, checked.value.to);
      if (target === undefined || target === member) throw new RequestError('UnknownParticipant', 'no such participant in this room');
      if (!target.messagingEnabled) throw new RequestError('NotEnabled', 'that participant does not have messaging enabled');
      // The sender is stamped here; whatever the client claimed is not relayed.
      target.socket.emit('signal', { from: member.info.id, cid: checked.value.cid, data: checked.value.data });
      logger.debug({ room: member.room, from: member.info.id, to: target.info.id, kind: checked.value.data.type }, 'signal relayed');
      return {};
    });

    socket.onAny((event: string) => {
      if (!KNOWN_EVENTS.has(event)) socket.emit('request_error', { event: String(event).slice(0, 64), reason: 'BadRequest', message: 'unknown event' });
    });

    socket.on('disconnect', (reason) => {
      const member = socket.data.member;
      if (member === undefined) return;
      delete socket.data.member;
      registry.remove(member);
      if (member.messagingEnabled) {
        for (const peer of registry.enabledPeersOf(member)) peer.socket.emit('peer_disabled', { id: member.info.id });
      }
      logger.info({ room: member.room, participant: member.info.id, reason }, 'left');
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  logger.info({ url }, 'signaling server listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stats: () => ({ rooms: registry.roomCount, participants: registry.participantCount, connections: io.engine.clientsCount }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        io.disconnectSockets(true);
        io.close(() => resolve());
        http.closeAllConnections();
      });
      return closing;
    },
  };
}

const KNOWN_EVENTS = new Set<string>(['join', 'enable_messaging', 'disable_messaging', 'signal']);
