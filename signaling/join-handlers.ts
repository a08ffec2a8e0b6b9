/**
 * `join` and `resume`: how a connection comes to stand for a participant of a room, either new (join)
 * or back after its connection dropped (resume, with a token from an earlier reply).
 */
import type { JoinReply, ParticipantInfo, ResumeReply } from '../lib/protocol/signaling.js';
import { RELAY_FRAME_COST_BYTES, SIGNALING_VERSION } from '../lib/protocol/signaling.js';
import { checkJoinRequest, checkResumeRequest } from '../lib/protocol/signaling-checks.js';
import { AuthError } from './auth.js';
import type { HandlerContext, ServerSocket } from './connection.js';
import { iceGrant } from './ice.js';
import { generatedParticipantId, participantRoom, type ResumeResult } from './membership.js';
import { MAX_PENDING_EVENTS, RequestError, type RequestHandlers } from './request-pipeline.js';
import { newGeneration, ResumeTokenError } from './resume.js';

/** The `join` and `resume` handlers of connection `socket`. */
export function joinHandlers(ctx: HandlerContext, socket: ServerSocket): Pick<RequestHandlers, 'join' | 'resume'> {
  const { opts, logger, store, metrics, registry, fromStore } = ctx;
  const state = socket.data;

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

  /** What a join and a resume check first after the request itself: the version, draining, the per-address rate. */
  const admit = (v: number): void => {
    if (v !== SIGNALING_VERSION) {
      throw new RequestError(
        'UnsupportedVersion',
        `signaling protocol ${v} is not supported; this server speaks ${SIGNALING_VERSION}`,
      );
    }
    if (ctx.isDraining()) throw new RequestError('Draining', 'the server is shutting down; connect to another one');
    if (ctx.joinLimiter !== undefined && !ctx.joinLimiter.take(state.ip, Date.now())) {
      throw new RequestError(
        'JoinRateLimited',
        `more than ${opts.joinsPerSecondPerIp} joins per second from this address`,
      );
    }
  };
  /** One room per connection. */
  const notYetJoined = (): void => {
    if (state.member !== undefined) {
      throw new RequestError(
        'AlreadyJoined',
        'this connection has already joined a room; one connection joins one room',
      );
    }
  };
  const roomFull = (): RequestError =>
    new RequestError('RoomFull', `the room has ${opts.maxParticipantsPerRoom} participants, the most it takes`);

  const withIce = <T extends JoinReply>(reply: T, id: string): T => {
    const grant = iceGrant(opts, id, Date.now());
    if (grant.iceServers.length > 0) reply.iceServers = grant.iceServers;
    if (grant.expireAtMs !== undefined) reply.iceServersExpireAtMs = grant.expireAtMs;
    if (opts.relay) {
      reply.relay = {
        maxFrameBytes: opts.maxRelayFrameBytes,
        bytesPerSecond: opts.relayBytesPerSecond,
        burstBytes: opts.relayBurstBytes,
        frameCostBytes: RELAY_FRAME_COST_BYTES,
      };
    }
    reply.maxPendingEvents = MAX_PENDING_EVENTS;
    return reply;
  };

  const join = async (req: unknown): Promise<JoinReply> => {
    notYetJoined();
    const checked = checkJoinRequest(req);
    if (!checked.ok) throw new RequestError('BadRequest', checked.message);
    const { v, room, name, token, relayKey } = checked.value;
    admit(v);
    let identity: { name: string; pid?: string; expiresAtMs?: number } = { name };
    if (ctx.auth !== undefined) {
      try {
        identity = await ctx.auth.verify(token, room);
      } catch (err) {
        if (err instanceof AuthError) throw new RequestError(err.reason, err.message);
        throw err;
      }
    }
    const info: ParticipantInfo = {
      id: identity.pid ?? generatedParticipantId(),
      name: identity.name,
      joinedAtMs: Date.now(),
    };
    // The key travels to peers stamped by the server, as DTLS fingerprints do in SDP: the same trust.
    if (relayKey !== undefined) info.relayKey = relayKey;
    const gen = newGeneration();
    const resumeToken = await fromStore(async () =>
      (await ctx.resumeTokens()).issue(room, info, { gen, epoch: await store.epoch() }, identity.expiresAtMs),
    );
    const added = await fromStore(() => store.add(room, info, opts.maxParticipantsPerRoom, gen));
    if (added === 'RoomFull') throw roomFull();
    if (added === 'IdInUse') throw new RequestError('IdInUse', 'a participant with this id is already in the room');
    state.member = { room, info, enabled: false };
    registry.handleJoin(room, info.id, socket);
    void socket.join(participantRoom(room, info.id));
    logger.info({ room, participant: info.id }, 'joined');
    return withIce({ self: info, resumeToken }, info.id);
  };

  // A participant back on a new connection (its old one dropped, or the server restarted): the same id,
  // its messaging state as the client says, and nobody told it left. The store takes each token once
  // (signaling/resume.ts says how); the reply's token is the only one that works next.
  const resume = async (req: unknown): Promise<ResumeReply> => {
    notYetJoined();
    const checked = checkResumeRequest(req);
    if (!checked.ok) throw new RequestError('BadRequest', checked.message);
    const { v, token, messagingEnabled, relayKey } = checked.value;
    admit(v);
    const tokens = await fromStore(() => ctx.resumeTokens());
    let claims;
    try {
      claims = await tokens.verify(token);
    } catch (err) {
      if (err instanceof ResumeTokenError) throw new RequestError('ResumeInvalid', err.message);
      throw err;
    }
    const { room, untilMs } = claims;
    // The token does not carry the key (it would grow every token); the returning client gives it again.
    const info: ParticipantInfo = relayKey === undefined ? claims.info : { ...claims.info, relayKey };
    // A hold of it here that runs out now waits for the store's answer (see ParticipantRegistry.resuming).
    registry.resuming(room, info.id);
    let resumed = false;
    let resumeToken: string;
    let r: ResumeResult;
    try {
      ({ resumeToken, r } = await fromStore(async () => {
        // Signed before the store rotates, so a rotation never happens without a token to hand out.
        const next = newGeneration();
        const issued = await tokens.issue(room, info, { gen: next, epoch: await store.epoch() }, untilMs);
        const grant = { gen: claims.gen, epoch: claims.epoch, next };
        return {
          resumeToken: issued,
          r: await store.resume(room, info, opts.maxParticipantsPerRoom, messagingEnabled, grant),
        };
      }));
      resumed = r.result !== 'RoomFull' && r.result !== 'Stale';
    } finally {
      registry.resumeSettled(room, info.id, resumed);
    }
    if (r.result === 'RoomFull') throw roomFull();
    if (r.result === 'Stale') {
      logger.info({ room, participant: info.id }, 'resume refused: a used or revoked token');
      throw new RequestError('ResumeInvalid', 'the resume token was used already, or its participant left: join again');
    }
    // This connection now stands for the participant (the registry stops its grace timer and evicts a
    // half-open connection of this process that still stood for it).
    registry.handleResume(room, info.id, socket);
    state.member = { room, info, enabled: messagingEnabled };
    void socket.join(participantRoom(room, info.id));
    // Enabled: told even when it was enabled before, so that peers relayed to it open a new relayed link
    // now (the old one died with its connection) rather than wait for the old one to fall silent.
    const peerIds = r.peers.map((p) => p.id);
    if (messagingEnabled) ctx.tell(room, peerIds, (to) => to.emit('peer_enabled', info));
    else if (r.changed) ctx.tell(room, peerIds, (to) => to.emit('peer_disabled', { id: info.id }));
    logger.info({ room, participant: info.id, how: r.result }, 'resumed');
    return withIce({ self: info, resumeToken, participants: messagingEnabled ? r.peers : [] }, info.id);
  };

  return {
    join: ([req]) => counted('ok', () => join(req)),
    resume: ([req]) => counted('resumed', () => resume(req)),
  };
}
