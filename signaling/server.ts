/**
 * `createSignalingServer`: wires socket.io, membership, auth, limits, metrics and the HTTP routes together.
 * Each part lives in its own module; this one decides what happens on each event and in which order.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server, type Socket } from 'socket.io';
import type {
  ClientToServerEvents,
  ConnectRefusal,
  JoinReply,
  ParticipantInfo,
  Reply,
  ResumeReply,
  ServerToClientEvents,
  SignalingErrorReason,
} from '../lib/protocol/signaling.js';
import { SIGNALING_VERSION, checkJoinRequest, checkOutgoingSignal, checkResumeRequest } from '../lib/protocol/signaling.js';
import { AuthError, createAuthenticator } from './auth.js';
import { resolveOptions, type SignalingServerOptions } from './config.js';
import { httpHandler } from './http.js';
import { iceGrant } from './ice.js';
import { KeyedRateLimiter, TokenBucket, watchUnreadOutput, type OutputConnection } from './limits.js';
import { generatedParticipantId, LocalMembershipStore, participantRoom, type MembershipStore } from './membership.js';
import { countRejection, countSignal, createMetrics } from './metrics.js';
import { connectRedis, RedisMembershipStore, type RedisClient } from './redis-membership.js';
import { newGeneration, ResumeTokenError, ResumeTokens, resumeKeyFromOptions } from './resume.js';

export { ConfigError, DEFAULT_SERVER_OPTIONS, type ServerLogger, type SignalingServerOptions } from './config.js';
export { mintToken, type MintOptions } from './auth.js';

/** A running signaling server. */
export interface SignalingServer {
  /** The URL clients connect to, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Rooms, participants and connections on this process. */
  stats(): { rooms: number; participants: number; connections: number };
  /** True when GET /readyz answers 200: started, not draining, and its Redis (if any) is reachable. */
  isReady(): boolean;
  /**
   * Stops being ready (GET /readyz answers 503, new connections are refused with `Draining`), keeps
   * serving the connected clients for `drainDelayMs`, then closes.
   */
  drain(): Promise<void>;
  /** Disconnects every client, removes its participants and stops listening. */
  close(): Promise<void>;
}

/** What the server keeps per connection. */
interface ConnectionState {
  ip: string;
  member?: { room: string; info: ParticipantInfo; enabled: boolean };
  /** Events of one connection are handled one after another, in the order they came. */
  queue: Promise<void>;
  pending: number;
  /** Bytes received since the last event was dispatched: the size of the event being dispatched. */
  unreadBytes: number;
  signals?: TokenBucket;
  toggles?: TokenBucket;
}

type ServerSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ConnectionState>;

/** Events one connection may have waiting; more are refused with `TooManyRequests`. */
const MAX_PENDING_EVENTS = 64;
/** Addresses the per-IP join limiter remembers at most (about 100 bytes each). */
const MAX_TRACKED_IPS = 100_000;
/** Time a connected client has to join the socket.io namespace before it is dropped. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Most time close() waits for participants to be removed from the store. */
const CLOSE_REMOVAL_TIMEOUT_MS = 5000;

class RequestError extends Error {
  constructor(readonly reason: SignalingErrorReason, message: string) {
    super(message);
  }
}

/** Why a member is removed: see removeMember. */
type Removal = 'left' | 'expired' | 'closing';

const KNOWN_EVENTS = new Set<string>(['join', 'resume', 'enable_messaging', 'disable_messaging', 'signal']);

/** Identifies a member on this process: ids are unique within a room. */
const memberKey = (room: string, id: string): string => `${room}\n${id}`;

/**
 * Starts a signaling server: it assigns participant ids, keeps room membership and who has messaging
 * enabled, and relays offers, answers and ICE candidates between two participants of the same room.
 * It carries no application messages. Throws `ConfigError` for a bad option.
 * @example
 * const server = await createSignalingServer({ port: 8080 });
 * // … later
 * await server.close();
 */
export async function createSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const opts = resolveOptions(options);
  const logger = opts.logger;
  const auth = createAuthenticator(opts);
  const allowedOrigins = new Set(opts.allowedOrigins);
  const joinLimiter = opts.joinsPerSecondPerIp > 0 ? new KeyedRateLimiter(opts.joinsPerSecondPerIp, opts.joinBurstPerIp, MAX_TRACKED_IPS) : undefined;

  // A removed member's generation is parked as long as its token lives; a restarted store takes tokens of its
  // previous life for as long as it would hold a dropped connection.
  const tokenTerms = { parkMs: opts.resumeTokenTtlMs, restartWindowMs: opts.resumeGraceMs };
  let redis: RedisClient | undefined;
  let store: MembershipStore;
  let fleet: RedisMembershipStore | undefined;
  if (opts.adapter === 'redis') {
    redis = connectRedis(String(opts.redisUrl), logger);
    store = fleet = new RedisMembershipStore(redis, {
      keyPrefix: opts.redisKeyPrefix, heartbeatMs: opts.fleetHeartbeatMs, timeoutMs: opts.fleetTimeoutMs, logger, ...tokenTerms,
    });
  } else {
    store = new LocalMembershipStore(tokenTerms);
  }
  // Resume tokens: a configured or derived key at once; a fleet's shared key once Redis answers.
  const fixedResumeKey = resumeKeyFromOptions(opts);
  let resumeTokensReady: Promise<ResumeTokens> | undefined;
  const resumeTokens = (): Promise<ResumeTokens> => {
    if (resumeTokensReady === undefined) {
      const key = fixedResumeKey !== undefined ? Promise.resolve(fixedResumeKey) : (fleet as RedisMembershipStore).sharedResumeKey();
      const ready = key.then((k) => new ResumeTokens(k, opts.resumeTokenTtlMs));
      resumeTokensReady = ready;
      ready.catch(() => {
        if (resumeTokensReady === ready) resumeTokensReady = undefined;
      });
    }
    return resumeTokensReady;
  };

  let connections = 0;
  /** Participants this process holds (connected, or waiting to resume), by room. */
  const localRooms = new Map<string, number>();
  let localParticipants = 0;
  const countIn = (room: string): void => {
    localRooms.set(room, (localRooms.get(room) ?? 0) + 1);
    localParticipants++;
  };
  const countOut = (room: string): void => {
    localParticipants--;
    const left = (localRooms.get(room) ?? 1) - 1;
    if (left > 0) localRooms.set(room, left);
    else localRooms.delete(room);
  };
  /** The connection that currently stands for each participant of this process. */
  const live = new Map<string, ServerSocket>();
  /** Participants whose connection dropped without a goodbye, kept for `resumeGraceMs`. */
  const held = new Map<string, { room: string; id: string; timer: NodeJS.Timeout }>();
  let listening = false;
  let draining = false;
  let closingNow = false;
  /** Removals under way, so close() can wait for them. */
  const removals = new Set<Promise<void>>();
  /** Members whose removal failed (store unreachable), retried until it works. */
  const unremoved = new Map<string, { room: string; id: string; how: Removal }>();

  const notReadyReason = (): string | undefined => {
    if (draining) return 'draining';
    if (!listening) return 'starting';
    if (!store.healthy) return 'redis unavailable';
    return undefined;
  };
  const metrics = createMetrics({
    connections: () => connections,
    rooms: () => localRooms.size,
    participants: () => localParticipants,
    ready: () => notReadyReason() === undefined,
  });

  const http: HttpServer = createServer(httpHandler({
    notReadyReason,
    registry: opts.metrics ? metrics.registry : undefined,
    staticDir: opts.staticDir,
    onError: (err) => logger.error({ err }, 'metrics failed'),
  }));

  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ConnectionState>(http, {
    transports: ['websocket'],
    // Events up to 4 × the limit are read and refused with PayloadTooLarge; larger ones close the connection.
    maxHttpBufferSize: opts.maxPayloadBytes * 4,
    serveClient: false,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(redis !== undefined
      ? { adapter: createAdapter(redis, { streamName: `${opts.redisKeyPrefix}socket.io`, channelPrefix: `${opts.redisKeyPrefix}socket.io`, blockTimeInMs: 1000 }) }
      : {}),
  });

  /** Open engine.io connections by client address, counted from the websocket's opening to its close. */
  const perIp = new Map<string, number>();
  io.engine.on('connection', (conn: { request: { headers: Record<string, string | string[] | undefined> }; remoteAddress: string; once(e: 'close', l: () => void): void }) => {
    const ip = clientIp(conn.request.headers, conn.remoteAddress, opts.trustProxy);
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    // An address leaves the map with its last connection: the map never holds more than the open connections.
    conn.once('close', () => {
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
    });
  });

  /** Sends to participants `ids` of `room`. */
  const tell = (room: string, ids: string[], send: (to: ReturnType<typeof io.to>) => void): void => {
    // io.to([]) would reach everyone: only ever call it with recipients.
    if (ids.length > 0) send(io.to(ids.map((id) => participantRoom(room, id))));
  };

  /**
   * Removes a participant from its room and tells the enabled others: the one way members leave. `left`:
   * it said goodbye, so its resume tokens die with it. `expired` (it did not come back within the grace
   * period): only while this process still holds it, as it may have resumed on another; its latest token
   * can still bring it back. `closing`: this process goes, and its members may resume on another. When the
   * store cannot be reached, the same removal is tried again later.
   */
  const removeMember = async (room: string, id: string, how: Removal): Promise<void> => {
    try {
      const { existed, peers } = how === 'expired' ? await store.removeIfHeld(room, id) : await store.remove(room, id, how === 'closing');
      unremoved.delete(id);
      if (existed) tell(room, peers, (to) => to.emit('peer_disabled', { id }));
      if (how === 'expired') logger.info({ room, participant: id }, existed ? 'did not resume in time: removed' : 'resumed on another process');
    } catch (err) {
      unremoved.set(id, { room, id, how });
      logger.warn({ room, participant: id, err: { message: (err as Error).message } }, 'could not remove a participant yet; will retry');
    }
  };

  const retryTimer = setInterval(() => {
    if (unremoved.size === 0 || !store.healthy) return;
    for (const { room, id, how } of [...unremoved.values()]) track(removeMember(room, id, how));
  }, opts.fleetHeartbeatMs);
  retryTimer.unref();

  const track = (p: Promise<void>): void => {
    removals.add(p);
    void p.finally(() => removals.delete(p));
  };

  store.onLost((lost) => {
    metrics.membersSwept.inc(lost.length);
    for (const m of lost) tell(m.room, m.peers, (to) => to.emit('peer_disabled', { id: m.id }));
  });
  // The fleet removed this process's members (Redis lost its data, or this process was frozen past the
  // fleet timeout): its joined clients are no longer in any room, so they are disconnected to join again.
  store.onEvicted(() => {
    for (const socket of io.of('/').sockets.values()) if (socket.data.member !== undefined) socket.disconnect(true);
  });

  // Connection-time checks live in socket.io middleware rather than in engine.io's allowRequest:
  // a refusal there reaches the client's connect_error with `data.reason`, so a page from a wrong
  // origin or a client of a full server learns why (ConnectionError Refused), instead of seeing a
  // bare network failure. The connection is closed right after.
  io.use((socket, next) => {
    const refuse = (reason: SignalingErrorReason, message: string): void => {
      countRejection(metrics, reason);
      logger.debug({ reason }, 'connection refused');
      const err = new Error(message) as Error & { data: ConnectRefusal };
      err.data = { reason };
      next(err);
      setImmediate(() => socket.conn.close());
    };
    if (draining) return refuse('Draining', 'the server is shutting down; connect to another one');
    const origin = socket.handshake.headers.origin;
    if (allowedOrigins.size > 0 && origin !== undefined && !allowedOrigins.has(origin)) {
      return refuse('OriginNotAllowed', 'pages of this origin may not connect to this server');
    }
    if (opts.maxConnections > 0 && connections >= opts.maxConnections) return refuse('ServerFull', 'the server has all the connections it accepts');
    // This connection is already among its address's count.
    const fromIp = perIp.get(clientIp(socket.handshake.headers, socket.handshake.address, opts.trustProxy)) ?? 0;
    if (opts.maxConnectionsPerIp > 0 && fromIp > opts.maxConnectionsPerIp) {
      return refuse('TooManyConnections', `this address has ${opts.maxConnectionsPerIp} connections, the most the server accepts from one address`);
    }
    next();
  });

  io.on('connection', (socket: ServerSocket) => {
    connections++;
    const state: ConnectionState = socket.data;
    state.ip = clientIp(socket.handshake.headers, socket.handshake.address, opts.trustProxy);
    state.queue = Promise.resolve();
    state.pending = 0;
    state.unreadBytes = 0;
    if (opts.signalsPerSecond > 0) state.signals = new TokenBucket(opts.signalsPerSecond, opts.signalBurst, Date.now());
    if (opts.togglesPerSecond > 0) state.toggles = new TokenBucket(opts.togglesPerSecond, opts.toggleBurst, Date.now());
    watchUnreadOutput(socket.conn as unknown as OutputConnection, opts.maxUnreadOutputBytes, (bytes) => {
      countRejection(metrics, 'SlowConsumer');
      const where = state.member === undefined ? {} : { room: state.member.room, participant: state.member.info.id };
      logger.warn({ socket: socket.id, ...where, bytes }, 'client leaves what it is sent unread: dropped');
    });
    const joinTimer = setTimeout(() => {
      if (state.member !== undefined) return;
      countRejection(metrics, 'NotJoined');
      logger.debug({ socket: socket.id }, 'no join in time: closing');
      socket.disconnect(true);
    }, opts.joinTimeoutMs);
    logger.debug({ socket: socket.id }, 'connected');

    const answer = (event: string, ack: ((r: Reply<object>) => void) | undefined, reply: Reply<object>): void => {
      if (ack !== undefined) ack(reply);
      else if (!reply.ok) socket.emit('request_error', { event: event.slice(0, 64), ...reply.error });
    };
    const refusal = (reason: SignalingErrorReason, message: string): Reply<object> => {
      countRejection(metrics, reason);
      return { ok: false, error: { reason, message } };
    };

    socket.conn.on('packet', (packet: { type: string; data?: unknown }) => {
      if (packet.type !== 'message') return;
      const d = packet.data;
      state.unreadBytes += typeof d === 'string' ? Buffer.byteLength(d) : d instanceof Uint8Array || d instanceof ArrayBuffer ? d.byteLength : 0;
    });
    socket.use((packet, next) => {
      const bytes = state.unreadBytes;
      state.unreadBytes = 0;
      metrics.payloadBytes.observe(bytes);
      if (bytes <= opts.maxPayloadBytes) return next();
      const last = packet[packet.length - 1];
      const ack = typeof last === 'function' ? (last as (r: Reply<object>) => void) : undefined;
      logger.debug({ bytes }, 'event too large');
      answer(String(packet[0]), ack, refusal('PayloadTooLarge', `the event is ${bytes} bytes; the largest accepted is ${opts.maxPayloadBytes}`));
    });

    // Every event goes through here: queued behind the connection's earlier events, validated, answered
    // with a Reply, and never able to throw out.
    const handle = (event: keyof ClientToServerEvents, run: (args: unknown[]) => Promise<object>): void => {
      socket.on(event, (...args: unknown[]) => {
        const last = args[args.length - 1];
        const ack = typeof last === 'function' ? (last as (r: Reply<object>) => void) : undefined;
        if (ack !== undefined) args.pop();
        if (state.pending >= MAX_PENDING_EVENTS) {
          answer(event, ack, refusal('TooManyRequests', `more than ${MAX_PENDING_EVENTS} events of this connection are waiting`));
          return;
        }
        state.pending++;
        state.queue = state.queue
          .then(() => run(args))
          .then(
            (data): Reply<object> => ({ ok: true, data }),
            (err: unknown): Reply<object> => {
              if (err instanceof RequestError) {
                logger.debug({ event, reason: err.reason }, 'request refused');
                return refusal(err.reason, err.message);
              }
              logger.error({ event, err: { message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'handler failed');
              return refusal('Internal', 'internal error');
            },
          )
          .then((reply) => {
            state.pending--;
            answer(event, ack, reply);
          });
      });
    };

    const joined = (): NonNullable<ConnectionState['member']> => {
      if (state.member === undefined) throw new RequestError('NotJoined', 'join a room first');
      return state.member;
    };
    /** Enabling and disabling are told to the whole room: a token bucket per connection bounds that fan-out. */
    const takeToggle = (): void => {
      if (state.toggles !== undefined && !state.toggles.take(Date.now())) {
        throw new RequestError('ToggleRateLimited', `more than ${opts.togglesPerSecond} enable/disable requests per second (burst ${opts.toggleBurst}) on this connection`);
      }
    };
    const unavailable = (err: unknown): RequestError => {
      logger.warn({ err: { message: (err as Error)?.message } }, 'membership store unavailable');
      return new RequestError('Unavailable', 'the server cannot reach its membership store; try again');
    };

    /** Runs a join or a resume, counting its result in the joins metric. */
    const counted = async <T>(success: string, run: () => Promise<T>): Promise<T> => {
      try {
        const reply = await run();
        metrics.joins.inc({ result: success });
        return reply;
      } catch (err) {
        metrics.joins.inc({ result: err instanceof RequestError ? err.reason : 'Internal' });
        throw err;
      }
    };

    /** What a join and a resume check first: one room per connection, the version, draining, the per-address rate. */
    const admit = (v: number): void => {
      if (v !== SIGNALING_VERSION) throw new RequestError('UnsupportedVersion', `signaling protocol ${v} is not supported; this server speaks ${SIGNALING_VERSION}`);
      if (draining) throw new RequestError('Draining', 'the server is shutting down; connect to another one');
      if (joinLimiter !== undefined && !joinLimiter.take(state.ip, Date.now())) {
        throw new RequestError('JoinRateLimited', `more than ${opts.joinsPerSecondPerIp} joins per second from this address`);
      }
    };
    const alreadyJoined = (): RequestError => new RequestError('AlreadyJoined', 'this connection has already joined a room; one connection joins one room');

    handle('join', ([req]) => counted('ok', () => join(req)));

    const join = async (req: unknown): Promise<JoinReply> => {
      if (state.member !== undefined) throw alreadyJoined();
      const checked = checkJoinRequest(req);
      if (!checked.ok) throw new RequestError('BadRequest', checked.message);
      const { v, room, name, token } = checked.value;
      admit(v);
      let identity: { name: string; pid?: string; expiresAtMs?: number } = { name };
      if (auth !== undefined) {
        try {
          identity = await auth.verify(token, room);
        } catch (err) {
          if (err instanceof AuthError) throw new RequestError(err.reason, err.message);
          throw err;
        }
      }
      const info: ParticipantInfo = { id: identity.pid ?? generatedParticipantId(), name: identity.name, joinedAtMs: Date.now() };
      const gen = newGeneration();
      let resumeToken: string;
      try {
        resumeToken = await (await resumeTokens()).issue(room, info, { gen, epoch: await store.epoch() }, identity.expiresAtMs);
      } catch (err) {
        throw unavailable(err);
      }
      let added;
      try {
        added = await store.add(room, info, opts.maxParticipantsPerRoom, gen);
      } catch (err) {
        throw unavailable(err);
      }
      if (added === 'RoomFull') throw new RequestError('RoomFull', `the room has ${opts.maxParticipantsPerRoom} participants, the most it takes`);
      if (added === 'IdInUse') throw new RequestError('IdInUse', 'a participant with this id is already in the room');
      state.member = { room, info, enabled: false };
      live.set(memberKey(room, info.id), socket);
      void socket.join(participantRoom(room, info.id));
      countIn(room);
      logger.info({ room, participant: info.id }, 'joined');
      return withIce({ self: info, resumeToken }, info.id);
    };

    const withIce = <T extends JoinReply>(reply: T, id: string): T => {
      const grant = iceGrant(opts, id, Date.now());
      if (grant.iceServers.length > 0) reply.iceServers = grant.iceServers;
      if (grant.expireAtMs !== undefined) reply.iceServersExpireAtMs = grant.expireAtMs;
      return reply;
    };

    handle('resume', ([req]) => counted('resumed', () => resume(req)));

    // A participant back on a new connection (its old one dropped, or the server restarted): the same id,
    // its messaging state as the client says, and nobody told it left. The store takes each token once
    // (signaling/resume.ts says how); the reply's token is the only one that works next.
    const resume = async (req: unknown): Promise<ResumeReply> => {
      if (state.member !== undefined) throw alreadyJoined();
      const checked = checkResumeRequest(req);
      if (!checked.ok) throw new RequestError('BadRequest', checked.message);
      const { v, token, messagingEnabled } = checked.value;
      admit(v);
      let tokens: ResumeTokens;
      try {
        tokens = await resumeTokens();
      } catch (err) {
        throw unavailable(err);
      }
      let claims;
      try {
        claims = await tokens.verify(token);
      } catch (err) {
        if (err instanceof ResumeTokenError) throw new RequestError('ResumeInvalid', err.message);
        throw err;
      }
      const { room, info, untilMs } = claims;
      const key = memberKey(room, info.id);
      let r;
      let resumeToken: string;
      try {
        // Signed before the store rotates, so a rotation never happens without a token to hand out.
        const next = newGeneration();
        resumeToken = await tokens.issue(room, info, { gen: next, epoch: await store.epoch() }, untilMs);
        r = await store.resume(room, info, opts.maxParticipantsPerRoom, messagingEnabled, { gen: claims.gen, epoch: claims.epoch, next });
      } catch (err) {
        throw unavailable(err);
      }
      if (r.result === 'RoomFull') throw new RequestError('RoomFull', `the room has ${opts.maxParticipantsPerRoom} participants, the most it takes`);
      if (r.result === 'Stale') {
        logger.info({ room, participant: info.id }, 'resume refused: a used or revoked token');
        throw new RequestError('ResumeInvalid', 'the resume token was used already, or its participant left: join again');
      }
      // This connection now stands for the participant: a grace timer stops, and a connection of this
      // process that still stood for it (half-open after a network change) forgets it and goes.
      const wasHeld = held.get(key);
      if (wasHeld !== undefined) {
        clearTimeout(wasHeld.timer);
        held.delete(key);
      }
      const old = live.get(key);
      if (old !== undefined && old !== socket && old.data.member !== undefined) {
        delete old.data.member;
        old.disconnect(true);
      }
      if (wasHeld === undefined && (old === undefined || old === socket)) countIn(room);
      state.member = { room, info, enabled: messagingEnabled };
      live.set(key, socket);
      void socket.join(participantRoom(room, info.id));
      if (r.changed) {
        const peerIds = r.peers.map((p) => p.id);
        if (messagingEnabled) tell(room, peerIds, (to) => to.emit('peer_enabled', info));
        else tell(room, peerIds, (to) => to.emit('peer_disabled', { id: info.id }));
      }
      logger.info({ room, participant: info.id, how: r.result }, 'resumed');
      return withIce({ self: info, resumeToken, participants: messagingEnabled ? r.peers : [] }, info.id);
    };

    handle('enable_messaging', async () => {
      const member = joined();
      takeToggle();
      let r;
      try {
        r = await store.enable(member.room, member.info.id);
      } catch (err) {
        throw unavailable(err);
      }
      if (r === undefined) throw new RequestError('NotJoined', 'this participant is no longer in its room');
      member.enabled = true;
      if (r.changed) {
        // Peers hear of the newcomer before the newcomer hears of them, so its offers never arrive first
        // (across a fleet too: both go through the same ordered stream).
        tell(member.room, r.peers.map((p) => p.id), (to) => to.emit('peer_enabled', member.info));
        logger.info({ room: member.room, participant: member.info.id, peers: r.peers.length }, 'messaging enabled');
      }
      return { participants: r.peers };
    });

    handle('disable_messaging', async () => {
      const member = joined();
      takeToggle();
      let r;
      try {
        r = await store.disable(member.room, member.info.id);
      } catch (err) {
        throw unavailable(err);
      }
      member.enabled = false;
      if (r.changed) {
        tell(member.room, r.peers, (to) => to.emit('peer_disabled', { id: member.info.id }));
        logger.info({ room: member.room, participant: member.info.id }, 'messaging disabled');
      }
      return {};
    });

    handle('signal', async ([raw]) => {
      const member = joined();
      if (!member.enabled) throw new RequestError('NotEnabled', 'enable messaging before signaling');
      if (state.signals !== undefined && !state.signals.take(Date.now())) {
        throw new RequestError('SignalRateLimited', `more than ${opts.signalsPerSecond} signals per second (burst ${opts.signalBurst}) on this connection`);
      }
      const checked = checkOutgoingSignal(raw);
      if (!checked.ok) throw new RequestError('BadRequest', checked.message);
      const { to, cid, data } = checked.value;
      if (to === member.info.id) throw new RequestError('UnknownParticipant', 'no such participant in this room');
      let target;
      try {
        target = await store.get(member.room, to);
      } catch (err) {
        throw unavailable(err);
      }
      if (target === undefined) throw new RequestError('UnknownParticipant', 'no such participant in this room');
      if (!target.enabled) throw new RequestError('PeerNotEnabled', 'that participant does not have messaging enabled');
      // The sender is stamped here; whatever the client claimed is not relayed.
      tell(member.room, [to], (t) => t.emit('signal', { from: member.info.id, cid, data }));
      countSignal(metrics, data);
      logger.debug({ room: member.room, from: member.info.id, to, kind: data.type }, 'signal relayed');
      return {};
    });

    socket.onAny((event: string) => {
      if (!KNOWN_EVENTS.has(event)) answer(String(event), undefined, refusal('BadRequest', 'unknown event'));
    });

    socket.on('disconnect', (reason) => {
      connections--;
      clearTimeout(joinTimer);
      // Queued behind a join that may still be under way, so that join's member is removed too.
      const removal = state.queue.then(async () => {
        const member = state.member;
        if (member === undefined) return;
        delete state.member;
        const { room } = member;
        const { id } = member.info;
        const key = memberKey(room, id);
        if (live.get(key) === socket) live.delete(key);
        // A client that said goodbye (Room.disconnect closes its socket) leaves at once; one whose
        // connection dropped is kept for a while, to resume on a new connection, and its peers are told
        // so they can check its data channel.
        const goodbye = reason === 'client namespace disconnect';
        if (goodbye || opts.resumeGraceMs === 0 || closingNow) {
          countOut(room);
          await removeMember(room, id, goodbye ? 'left' : closingNow ? 'closing' : 'expired');
          logger.info({ room, participant: id, reason }, 'left');
          return;
        }
        const timer = setTimeout(() => {
          held.delete(key);
          countOut(room);
          track(removeMember(room, id, 'expired'));
        }, opts.resumeGraceMs);
        timer.unref();
        held.set(key, { room, id, timer });
        const peers = await store.hold(room, id).catch(() => []);
        tell(room, peers, (to) => to.emit('peer_disconnected', { id }));
        logger.info({ room, participant: id, reason, graceMs: opts.resumeGraceMs }, 'connection dropped: kept for a resume');
      });
      track(removal);
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  listening = true;
  const port = (http.address() as AddressInfo).port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  logger.info({ url, adapter: opts.adapter, auth: opts.auth }, 'signaling server listening');

  let closing: Promise<void> | undefined;
  let drainingDone: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      closingNow = true;
      clearInterval(retryTimer);
      for (const h of held.values()) {
        clearTimeout(h.timer);
        countOut(h.room);
        track(removeMember(h.room, h.id, 'closing'));
      }
      held.clear();
      io.local.disconnectSockets(true);
      await Promise.race([Promise.allSettled([...removals]), new Promise((r) => setTimeout(r, CLOSE_REMOVAL_TIMEOUT_MS).unref())]);
      await store.close();
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
        http.closeAllConnections();
      });
      redis?.destroy();
      logger.info({}, 'signaling server closed');
    })();
    return closing;
  };
  return {
    url,
    port,
    stats: () => ({ rooms: localRooms.size, participants: localParticipants, connections }),
    isReady: () => notReadyReason() === undefined,
    drain: () => {
      drainingDone ??= (async () => {
        draining = true;
        logger.info({ delayMs: opts.drainDelayMs }, 'draining: not ready, closing soon');
        await new Promise((r) => setTimeout(r, opts.drainDelayMs));
        await close();
      })();
      return drainingDone;
    },
    close,
  };
}

/** The client's address: the socket's, or with `trustProxy` the last X-Forwarded-For entry (the one our proxy added). */
function clientIp(headers: Record<string, string | string[] | undefined>, address: string, trustProxy: boolean): string {
  if (trustProxy) {
    const header = headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header[header.length - 1] : header;
    const last = value?.split(',').pop()?.trim();
    if (last !== undefined && last.length > 0 && last.length <= 64) return last;
  }
  return address;
}
