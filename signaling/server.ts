/**
 * `createSignalingServer`: builds the server from its parts and runs its lifecycle (listen, drain,
 * close). What happens to a connection is decided elsewhere: admission.ts (who may connect),
 * request-pipeline.ts (how each event is queued and answered), join-handlers.ts and
 * messaging-handlers.ts (what each event does), participant-registry.ts (who this process holds).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../lib/protocol/signaling.js';
import { admitConnections, clientIp } from './admission.js';
import { createAuthenticator } from './auth.js';
import type { ConnectionState, HandlerContext, ServerSocket, Tell } from './connection.js';
import { httpHandler } from './http.js';
import { joinHandlers } from './join-handlers.js';
import { KeyedRateLimiter, TokenBucket, watchUnreadOutput } from './limits.js';
import { LocalMembershipStore, participantRoom, type MembershipStore } from './membership.js';
import { messagingHandlers } from './messaging-handlers.js';
import { relayHandlers } from './relay-handlers.js';
import { countRejection, createMetrics } from './metrics.js';
import { resolveOptions, type SignalingServerOptions } from './options.js';
import { ParticipantRegistry } from './participant-registry.js';
import { connectRedis, type RedisClient } from './redis-client.js';
import { RedisMembershipStore } from './redis-membership.js';
import { RequestQueue, serveRequests, storeCaller } from './request-pipeline.js';
import { ResumeTokens, resumeKeyFromOptions } from './resume.js';
import { batchWrites, type BatchedConnection } from './write-batching.js';

export { ConfigError, DEFAULT_SERVER_OPTIONS, type SignalingServerOptions } from './options.js';
export type { ServerLogger } from './options-serving.js';
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
  /**
   * Disconnects every client and stops listening. Its participants are removed; in a fleet they are left to
   * the other processes instead, which adopt them: their clients resume there, and no peer sees them leave.
   */
  close(): Promise<void>;
}

/** Addresses the per-IP join limiter remembers at most (about 100 bytes each). */
const MAX_TRACKED_IPS = 100_000;
/** Time a connected client has to join the socket.io namespace before it is dropped. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Most time close() waits for participants to be removed from the store. */
const CLOSE_REMOVAL_TIMEOUT_MS = 5000;

/**
 * Starts a signaling server: it assigns participant ids, keeps room membership and who has messaging
 * enabled, and relays offers, answers and ICE candidates between two participants of the same room, and the
 * end-to-end encrypted frames of pairs that have no direct channel (`relay`). Throws `ConfigError` for a bad option.
 * @example
 * const server = await createSignalingServer({ port: 8080 });
 * // … later
 * await server.close();
 */
export async function createSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const opts = resolveOptions(options);
  const logger = opts.logger;

  // A removed member's generation is parked as long as its token lives; a restarted store takes tokens of its
  // previous life for as long as it would hold a dropped connection.
  const tokenTerms = {
    parkMs: opts.resumeTokenTtlMs,
    restartWindowMs: opts.resumeGraceMs,
    holdMs: opts.resumeGraceMs,
  };
  let redis: RedisClient | undefined;
  let store: MembershipStore;
  let fleet: RedisMembershipStore | undefined;
  if (opts.adapter === 'redis') {
    redis = connectRedis(String(opts.redisUrl), logger);
    store = fleet = new RedisMembershipStore(redis, {
      keyPrefix: opts.redisKeyPrefix,
      heartbeatMs: opts.fleetHeartbeatMs,
      timeoutMs: opts.fleetTimeoutMs,
      logger,
      ...tokenTerms,
    });
  } else {
    store = new LocalMembershipStore(tokenTerms);
  }
  // Resume tokens: a configured or derived key at once; a fleet's shared key once Redis answers.
  const fixedResumeKey = resumeKeyFromOptions(opts);
  let resumeTokensReady: Promise<ResumeTokens> | undefined;
  const resumeTokens = (): Promise<ResumeTokens> => {
    if (resumeTokensReady === undefined) {
      const key =
        fixedResumeKey !== undefined
          ? Promise.resolve(fixedResumeKey)
          : (fleet as RedisMembershipStore).sharedResumeKey();
      const ready = key.then((k) => new ResumeTokens(k, opts.resumeTokenTtlMs));
      resumeTokensReady = ready;
      ready.catch(() => {
        if (resumeTokensReady === ready) resumeTokensReady = undefined;
      });
    }
    return resumeTokensReady;
  };

  let connections = 0;
  let listening = false;
  let draining = false;

  const notReadyReason = (): string | undefined => {
    if (draining) return 'draining';
    if (!listening) return 'starting';
    if (!store.healthy) return 'redis unavailable';
    return undefined;
  };
  const metrics = createMetrics({
    connections: () => connections,
    rooms: () => registry.rooms,
    participants: () => registry.participants,
    ready: () => notReadyReason() === undefined,
  });

  const http: HttpServer = createServer(
    httpHandler({
      notReadyReason,
      registry: opts.metrics ? metrics.registry : undefined,
      staticDir: opts.staticDir,
      onError: (err) => logger.error({ err }, 'metrics failed'),
    }),
  );

  const admission = admitConnections({
    opts,
    logger,
    isDraining: () => draining,
    connections: () => connections,
    onRefused: (reason) => countRejection(metrics, reason),
  });
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ConnectionState>(http, {
    transports: ['websocket'],
    allowRequest: admission.allowRequest,
    // Events up to 4 × the limit are read and refused with PayloadTooLarge; larger ones close the connection.
    maxHttpBufferSize: opts.maxPayloadBytes * 4,
    serveClient: false,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(redis !== undefined
      ? {
          adapter: createAdapter(redis, {
            streamName: `${opts.redisKeyPrefix}socket.io`,
            maxLen: opts.redisStreamMaxLen,
            channelPrefix: `${opts.redisKeyPrefix}socket.io`,
            blockTimeInMs: 1000,
          }),
        }
      : {}),
  });

  const tell: Tell = (room, ids, send) => {
    // io.to([]) would reach everyone: only ever call it with recipients.
    if (ids.length > 0) send(io.to(ids.map((id) => participantRoom(room, id))));
  };
  const tellHere: Tell = (room, ids, send) => {
    if (ids.length > 0) send(io.local.to(ids.map((id) => participantRoom(room, id))));
  };

  const registry = new ParticipantRegistry<ServerSocket>({
    store,
    logger,
    tell,
    resumeGraceMs: opts.resumeGraceMs,
    retryEveryMs: opts.fleetHeartbeatMs,
    // The old connection forgets the participant, so its close does not remove it, and goes.
    evict: (old) => {
      if (old.data.member === undefined) return;
      delete old.data.member;
      old.disconnect(true);
    },
  });

  // The members of a dead process are held here for the resume grace, as a dropped connection of this
  // process would be: their clients resume on any process with no leave seen by their peers.
  store.onLost((lost) => {
    metrics.membersSwept.inc(lost.length);
    for (const m of lost) void registry.handleAdopted(m.room, m.id);
  });
  // The fleet removed this process's members (Redis lost its data, or this process was frozen past the
  // fleet timeout): its joined clients are no longer in any room, so they are disconnected to join again.
  store.onEvicted(() => {
    for (const socket of io.of('/').sockets.values()) if (socket.data.member !== undefined) socket.disconnect(true);
  });

  admission.attach(io);

  const ctx: HandlerContext = {
    opts,
    logger,
    store,
    metrics,
    registry,
    auth: createAuthenticator(opts),
    joinLimiter:
      opts.joinsPerSecondPerIp > 0
        ? new KeyedRateLimiter(opts.joinsPerSecondPerIp, opts.joinBurstPerIp, MAX_TRACKED_IPS)
        : undefined,
    tell,
    tellHere,
    relayBudget:
      opts.relay && opts.relayBudgetBytesPerSecond > 0
        ? new TokenBucket(opts.relayBudgetBytesPerSecond, opts.relayBudgetBytesPerSecond, Date.now())
        : undefined,
    fromStore: storeCaller(logger, () => store.healthy),
    resumeTokens,
    isDraining: () => draining,
  };

  // The engine.io connections that have had their socket. socket.io lets a client leave the namespace ('41')
  // and join it again ('40') on the same websocket, and every hook below sits on that connection: each
  // rejoin stacked another set (a review found one client growing the server's memory without bound, 2,000
  // rejoins then 20,000 tiny events: 368 MiB of heap). roommesh's client never does it: its disconnect closes
  // the websocket. So a connection has one socket, ever, and closes with it.
  const hadSocket = new WeakSet<object>();

  io.on('connection', (socket: ServerSocket) => {
    if (hadSocket.has(socket.conn)) {
      countRejection(metrics, 'BadRequest');
      logger.debug({ socket: socket.id }, 'a second socket on one connection: closing');
      socket.conn.close();
      return;
    }
    hadSocket.add(socket.conn);
    connections++;
    const state: ConnectionState = socket.data;
    state.ip = clientIp(socket.handshake.headers, socket.handshake.address, opts.trustProxy);
    if (opts.signalsPerSecond > 0) state.signals = new TokenBucket(opts.signalsPerSecond, opts.signalBurst, Date.now());
    if (opts.togglesPerSecond > 0) state.toggles = new TokenBucket(opts.togglesPerSecond, opts.toggleBurst, Date.now());
    if (opts.relayBytesPerSecond > 0)
      state.relayBytes = new TokenBucket(opts.relayBytesPerSecond, opts.relayBurstBytes, Date.now());
    batchWrites(socket.conn as unknown as BatchedConnection);
    watchUnreadOutput(socket.conn, opts.maxUnreadOutputBytes, (bytes) => {
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

    const queue = new RequestQueue({
      maxPayloadBytes: opts.maxPayloadBytes,
      logger,
      onRefused: (reason) => countRejection(metrics, reason),
      onEventSize: (bytes) => metrics.payloadBytes.observe(bytes),
    });
    serveRequests(socket, queue, {
      ...joinHandlers(ctx, socket),
      ...messagingHandlers(ctx, socket),
      ...relayHandlers(ctx, socket),
    });

    socket.on('disconnect', (reason) => {
      connections--;
      clearTimeout(joinTimer);
      // Left the namespace: the websocket carries nothing more (see hadSocket), so it does not stay open idle.
      if (reason === 'client namespace disconnect') socket.conn.close();
      // Queued behind a join that may still be under way, so that join's member is removed too.
      registry.track(
        queue.afterQueued(async () => {
          const member = state.member;
          if (member === undefined) return;
          delete state.member;
          await registry.handleDisconnect(
            member.room,
            member.info.id,
            socket,
            reason === 'client namespace disconnect',
            reason,
          );
        }),
      );
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
      // In a fleet the participants stay in their rooms, and another process adopts them as it would those of
      // a process that died: their clients resume there and no peer sees them leave. One process forgets them
      // and tells nobody: their clients keep their channels and resume when it is back (a restart).
      if (await store.handOver()) {
        logger.info({ participants: registry.participants }, 'leaving the participants to the rest of the fleet');
        registry.handOver();
      } else registry.close();
      io.local.disconnectSockets(true);
      await registry.settled(CLOSE_REMOVAL_TIMEOUT_MS);
      await store.close();
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
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
    stats: () => ({ rooms: registry.rooms, participants: registry.participants, connections }),
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
