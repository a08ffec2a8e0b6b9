/**
 * The mesh: one session to each participant that has messaging enabled, and everything it takes to keep
 * it there. Who dials whom, connect attempts and their timeout, re-dials with backoff, failure counts,
 * waiting for `enable()` to settle, and the signaling traffic in both directions. What the sessions carry
 * is for the messaging layer above: it hears of a participant through `participant_up` and `participant_down`.
 * What runs under each session, a direct data channel or the relay, is each {@link Connection}'s business.
 */
import type { JsonObject } from '../protocol/json.js';
import { decodeRelayFrame } from '../protocol/relay-frames.js';
import {
  type IncomingSignal,
  MAX_ROOM_PARTICIPANTS,
  type ParticipantInfo,
  type RelayRefusal,
  type SignalData,
} from '../protocol/signaling.js';
import type { ProtocolError } from '../errors.js';
import type { Session } from '../session/Session.js';
import { Connection, type ConnectionDeps } from './Connection.js';
import { DirectGate } from './DirectGate.js';
import { Intake } from './Intake.js';
import { MoveChecks, proveMove, type MoveIdentity } from './move-proofs.js';
import type { LinkState } from './paths.js';
import { redialBackoffMs, Redials } from './Redials.js';
import { SettleWaiters } from './SettleWaiters.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { randomId } from '../util/random-id.js';

/** How long an open channel stays after the server says its participant left, for the goodbye to arrive. */
const PEER_LEFT_LINGER_MS = 1000;

/**
 * After this participant re-joined the server under a new id, how long it waits before dialing a listed
 * participant it has no channel to: a peer that also re-joined says so on its open channel (a moved frame)
 * just before it enables messaging, and that frame may trail the server's list by a moment. Dialing at once
 * would replace a working channel with a new one, and the app would see the peer leave and come back.
 */
const MOVED_GRACE_MS = 1000;

/**
 * relay-first: how long the mesh must be quiet (no pair up, added or gone) with every pair present before
 * the held direct attempts start: the word of a participant that enabled at the same moment may trail.
 */
const DIRECT_QUIET_MS = 30;
/**
 * relay-first: the longest a pair present over the relay holds its direct attempt for the rest of the mesh.
 * Under load presence takes longer (N = 20 Chromium pages on 2 cores: 2.4–4.7 s), so attempts go before it;
 * 3 s measured no better there (presence 0.60–0.80× raw against 0.53–0.94×, all direct 2.1–3.8× against
 * 2.4–3.2×, within the noise at load 10–20) now that released attempts start two at a time, and it would
 * make every pair wait longer when one pair never becomes present.
 */
const DIRECT_HOLD_MAX_MS = 1000;
/**
 * relay-first: most direct attempts of this participant the gate lets be under way at once, and the longest
 * one keeps its place (a slow attempt does not stall the rest): the released attempts go a few at a time
 * rather than in one burst of signals through the server.
 */
const DIRECT_STARTING_MAX = 2;
const DIRECT_SLOT_MS = 500;

/** What the mesh needs from the signaling connection. @internal */
export interface SignalingPort {
  enableMessaging(): Promise<ParticipantInfo[]>;
  disableMessaging(): Promise<void>;
  sendSignal(to: string, cid: string, data: SignalData): void;
}

/** Events of a {@link Mesh}. @internal */
export interface MeshEvents {
  /** A participant's session has its hello: the participant is present. */
  participant_up: (session: Session, attributes: JsonObject, state: LinkState) => void;
  /** A session that was up closed: the participant is not present (it may come back on a new session). */
  participant_down: (session: Session, reason: string) => void;
  /** A participant with an open session re-joined the server as `session.participant.id` (it said so on the session). */
  participant_moved: (session: Session, previousId: string) => void;
  /** The path to a participant changed (see {@link LinkState}). */
  link_state: (session: Session, state: LinkState) => void;
  /** A peer broke the protocol on some session. */
  protocol_error: (error: ProtocolError) => void;
}

/** What a {@link Mesh} is built from: what each {@link Connection} is, and the signaling port. @internal */
export interface MeshOptions extends Omit<ConnectionDeps, 'sendSignal' | 'holdDirect'> {
  localId: string;
  signaling: SignalingPort;
  /** This participant's relay key pair, which proves its moves and checks its peers' (none: paths 'direct'). */
  identity?: MoveIdentity;
}

/**
 * Connections to every participant with messaging enabled, a {@link Session} each over direct data
 * channels or the relay.
 * Signaling comes in through `handle…` methods and goes out through the {@link SignalingPort}.
 * @internal
 */
export class Mesh extends TypedEmitter<MeshEvents> {
  readonly #options: MeshOptions;
  /** This participant's id on the signaling server: changes when it re-joins as a new participant. */
  #localId: string;
  #accepting = false;
  /** Participants the server says have messaging enabled. */
  readonly #known = new Map<string, ParticipantInfo>();
  /** Said once that the server listed more than {@link MAX_ROOM_PARTICIPANTS}. */
  #overfullTold = false;
  /** The current connection to each participant, up or still connecting. */
  readonly #connections = new Map<string, Connection>();
  /**
   * Relayed sessions whose participant re-joined the server under a new id, by that id, from the relayed
   * link to it until its moved frame renames the session (see {@link #relinkMoved}).
   */
  readonly #moving = new Map<string, Connection>();
  /** The up session each participant had when a new connection replaced it, until the new one is up or closes. */
  readonly #replacedUp = new Map<string, Session>();
  /** Pending re-dials and connect failures in a row, by participant id. */
  readonly #redials = new Redials();
  /** Callers of open() waiting for a participant to be up or given up on. */
  readonly #settleWaiters = new SettleWaiters();
  /** Where signals and relayed frames from other participants go. */
  readonly #intake: Intake;
  /** relay-first: direct attempts held until every pair is present. */
  readonly #directGate = new DirectGate({
    mayStart: () => this.#presentOverRelay(),
    quietMs: DIRECT_QUIET_MS,
    maxHoldMs: DIRECT_HOLD_MAX_MS,
    maxStarting: DIRECT_STARTING_MAX,
    slotMs: DIRECT_SLOT_MS,
  });

  constructor(options: MeshOptions) {
    super();
    this.#options = options;
    this.#localId = options.localId;
    this.emitterLogger = options.logger;
    this.#intake = new Intake({
      known: (id) => this.#known.get(id),
      current: (id) => this.#connections.get(id),
      localId: () => this.#localId,
      moving: (id) => this.#moving.get(id),
      acceptMoved: (info, cid, open) => this.#acceptMoved(info, cid, open),
      forget: (id) => {
        // An up session replaced by a new one: the participant stays present through it (no leave seen)
        // if the new one comes up; see #onClose for when it does not.
        const replaced = this.#connections.get(id);
        if (replaced?.up === true) this.#replacedUp.set(id, replaced.session);
        this.#connections.delete(id);
      },
      track: (connection) => this.#track(connection),
      connectionDeps: () => this.#deps,
      logger: options.logger,
    });
  }

  /** True from {@link open} until {@link close}: signals and newcomers are taken. */
  get accepting(): boolean {
    return this.#accepting;
  }

  /**
   * Tells the server this participant has messaging enabled, dials everyone it lists, and resolves once
   * each is up or was given up on after `connectAttempts` failed attempts (attempts go on in the
   * background). Resolves with how many the server listed. Rejects, taking nothing, when the server does.
   */
  async open(): Promise<number> {
    this.#accepting = true;
    let infos: ParticipantInfo[];
    try {
      infos = await this.#options.signaling.enableMessaging();
    } catch (err) {
      this.#accepting = false;
      throw err;
    }
    if (!this.#accepting) return 0;
    const others: ParticipantInfo[] = [];
    for (const info of infos) {
      if (info.id === this.#localId || !this.#listed(info)) continue;
      others.push(info);
      this.#dial(info);
    }
    await Promise.all(others.map((info) => this.#whenSettled(info.id)));
    return others.length;
  }

  /**
   * Says goodbye on every session (behind what is due on it), then tells the server. Offers that arrive
   * meanwhile are ignored; a peer that got the goodbye does not re-dial.
   */
  async close(): Promise<void> {
    this.#accepting = false;
    this.#redials.clear();
    this.#known.clear();
    this.#moving.clear();
    this.#replacedUp.clear();
    this.#intake.clear();
    this.#directGate.clear();
    // Goodbye on every channel first: the server's word that this participant left travels another path
    // and could otherwise overtake frames still in flight.
    await Promise.all([...this.#connections.values()].map((c) => c.session.closeGracefully()));
    await this.#options.signaling.disableMessaging().catch((err: unknown) => {
      this.#options.logger.info({ err: String(err) }, 'could not tell the signaling server; disabling locally');
    });
    this.#settleWaiters.settleAll();
  }

  /** The server says a participant enabled messaging (or came back to signaling); it dials this one. */
  handlePeerEnabled(info: ParticipantInfo): void {
    if (info.id === this.#localId || !this.#accepting || !this.#listed(info)) return;
    this.#redials.clearFailures(info.id);
    this.#intake.release(info.id);
    // Also said when a participant resumes: its relayed link died with its connection.
    const connection = this.#connections.get(info.id);
    if (connection !== undefined) connection.peerBack();
    else this.#relinkMoved(info);
    this.#directGate.changed();
  }

  /**
   * The server says a participant disabled messaging or left. An open channel is given a moment for the
   * participant's goodbye, which may still be on its way with the last frames before it; a channel still
   * connecting is closed at once.
   */
  handlePeerDisabled(id: string): void {
    this.#known.delete(id);
    this.#redials.clearFailures(id);
    this.#redials.cancel(id);
    const session = this.#connections.get(id)?.session;
    if (session?.isReady === true) session.closeWithin(PEER_LEFT_LINGER_MS, 'left the room');
    else session?.close('left the room');
    this.#settleWaiters.settle(id);
    this.#directGate.changed();
  }

  /**
   * The server says a participant's signaling connection dropped; it may come back. Its channel may be
   * fine (a network blip on the way to the server) or dead with it (a crashed process): ask the channel,
   * which must show a sign of life within a little over two heartbeats. A relayed session cannot show one
   * while the participant is off the server: when its server process died (`processDied`) it waits for the
   * server's word, else it must be back and relinked in that time (see {@link Connection.peerDisconnected}).
   */
  handlePeerDisconnected(id: string, processDied = false): void {
    this.#options.logger.debug({ participant: id, processDied }, 'the server says its connection dropped');
    this.#connections.get(id)?.peerDisconnected(processDied, 2 * this.#options.timeouts.heartbeatIntervalMs + 500);
  }

  /** This participant lost the signaling server (it reconnects): relayed links wait until it is back. */
  handleSignalingLost(): void {
    for (const c of this.#connections.values()) c.signalingLost();
  }

  /** The signaling server will not take this participant back: relayed sessions wait no longer than the grace. */
  handleSignalingFailed(): void {
    for (const c of this.#connections.values()) c.peerUnlisted();
  }

  /** The server refused to relay a signal to this participant because it is not there. */
  handleSignalRefused(id: string): void {
    if (this.#known.has(id)) {
      this.#options.logger.info({ participant: id }, 'the signaling server no longer lists this participant');
      this.handlePeerDisabled(id);
    }
  }

  /**
   * This participant is back on the signaling server (after an outage or a dropped connection) and these
   * participants have messaging enabled. Open channels are left alone; a channel is dialed at once to
   * each participant without one.
   */
  handleResumed(participants: ParticipantInfo[]): void {
    if (!this.#accepting) return;
    const listed = new Set<string>();
    for (const info of participants) {
      if (info.id === this.#localId) continue;
      if (!this.#listed(info)) continue;
      listed.add(info.id);
      this.#redials.clearFailures(info.id);
      this.#intake.release(info.id);
      const connection = this.#connections.get(info.id);
      if (connection !== undefined) {
        // Its relayed links died with this side's connection: the dialing side opens a new one.
        connection.peerBack();
        continue;
      }
      this.#redials.cancel(info.id);
      this.#dial(info);
    }
    for (const [id, connection] of this.#connections) if (!listed.has(id)) connection.peerUnlisted();
  }

  /**
   * This participant re-joined the signaling server as a new participant `id` (the server forgot the old
   * one). Every open channel is told first (a moved frame: the peer keeps the channel and follows the new
   * id); then, when messaging was enabled, it is enabled again under the new id, and the listed participants
   * without a channel are dialed, a moment later if a peer may still be about to say it moved too.
   */
  async handleRejoined(id: string): Promise<void> {
    this.#localId = id;
    // Nobody is listed under the ids the server gave before: its word on them is void (a refusal to relay
    // to an old id must not close a session whose participant is about to say it moved).
    this.#known.clear();
    const up: Connection[] = [];
    for (const c of this.#connections.values()) {
      // The server knows nobody under the ids they had. A relayed session's peer re-joins too, but its
      // reconnect backoff (up to reconnectMaxDelayMs) may bring it back seconds after this side: the session
      // waits that long, then the relink grace. Waiting the grace alone, a pair whose sides came back 6 s
      // apart saw each other leave and join again (found in the demo around a server restart, 1 run in 3).
      c.peerUnlisted(this.#options.timeouts.reconnectMaxDelayMs);
      if (c.up) up.push(c);
    }
    const proofs = await Promise.all(up.map((c) => proveMove(this.#options.identity, c.session, id)));
    if (this.#localId !== id) return; // re-joined again meanwhile: that call tells them
    up.forEach((c, i) => c.session.sendMoved(id, proofs[i]));
    const open = up.length;
    if (!this.#accepting) return;
    let infos: ParticipantInfo[];
    try {
      infos = await this.#options.signaling.enableMessaging();
    } catch (err) {
      // Resuming later tells the server messaging is enabled, and lists the participants then.
      this.#options.logger.warn({ err: String(err) }, 'could not enable messaging again after re-joining');
      return;
    }
    if (!this.#accepting || this.#localId !== id) return;
    for (const info of infos) {
      if (info.id === id || !this.#listed(info)) continue;
      this.#redials.clearFailures(info.id);
      this.#intake.release(info.id);
      if (this.#connections.has(info.id) || this.#redials.has(info.id) || this.#relinkMoved(info)) continue;
      if (open === 0) this.#dial(info);
      else this.#redials.schedule(info.id, MOVED_GRACE_MS, () => this.#dial(info));
    }
  }

  /** Signaling data from another participant. */
  handleSignal(signal: IncomingSignal): void {
    if (this.#accepting) this.#intake.handleSignal(signal);
  }

  /** Bytes a participant relayed: a frame of one of its relayed links, or the open frame of a new one. */
  handleRelay(from: string, data: Uint8Array): void {
    if (this.#accepting) {
      this.#intake.handleRelay(from, data);
      return;
    }
    // Disabling: a session saying goodbye over its relayed link still takes the acknowledgements of its last
    // messages on it (a new link, an open frame, is not taken any more).
    const frame = decodeRelayFrame(data);
    if (typeof frame !== 'string' && frame.kind !== 'open') this.#connections.get(from)?.handleRelayFrame(data, false);
  }

  /** The server refused a relayed frame to `refusal.to`. */
  handleRelayRefused(refusal: RelayRefusal): void {
    (this.#connections.get(refusal.to) ?? this.#moving.get(refusal.to))?.handleRelayRefused(refusal.reason, refusal.to);
    if (refusal.reason === 'UnknownParticipant' || refusal.reason === 'PeerNotEnabled')
      this.handleSignalRefused(refusal.to);
  }

  /**
   * A relayed session (its only path through the server, which forgot the ids: a restart without a shared
   * resume key) to the participant that is listed now as `info`, with the relay key it had under its old
   * id. The relay key is the pair's identity, not the server's word: the new relayed link's keys bind it,
   * so a participant that copied the public key cannot open the link. The side that dialed the session
   * opens a relayed link to the new id; the other side waits for it. When the participant's moved frame
   * comes on it, the session follows the new id (as it would on a direct channel): nobody sees a leave.
   * True when `info` is taken that way (then it is not dialed as a newcomer).
   */
  #relinkMoved(info: ParticipantInfo): boolean {
    if (this.#moving.has(info.id)) return true;
    const connection = this.#movedFrom(info);
    if (connection === undefined || (connection.initiator && !connection.relinkMoved(info))) return false;
    this.#moving.set(info.id, connection);
    return true;
  }

  /** An open frame of session `cid` from `info`: the peer side of {@link #relinkMoved}. */
  #acceptMoved(info: ParticipantInfo, cid: string, open: Uint8Array): boolean {
    const connection = this.#moving.get(info.id) ?? this.#movedFrom(info);
    if (connection?.session.cid !== cid || !connection.relinkMoved(info, open)) return false;
    this.#moving.set(info.id, connection);
    return true;
  }

  /**
   * The relayed-only session whose participant had `info`'s relay key and name under another id, one the
   * server no longer lists: a participant that re-joined. While the server still lists the old id, a newcomer
   * with the same key is someone else (the key is public in the room): taking it for the old one cut a
   * working relayed pair off for the relink grace, again at each such join (found by a review written as a
   * hostile peer).
   */
  #movedFrom(info: ParticipantInfo): Connection | undefined {
    if (info.relayKey === undefined || this.#connections.has(info.id)) return undefined;
    for (const connection of this.#connections.values()) {
      const { participant } = connection.session;
      if (
        participant.id !== info.id &&
        !this.#known.has(participant.id) &&
        sameParticipant(participant, info) &&
        connection.relayedOnly
      )
        return connection;
    }
    return undefined;
  }

  #dial(info: ParticipantInfo): void {
    this.#redials.cancel(info.id);
    if (!this.#accepting || !this.#known.has(info.id)) {
      this.#settleWaiters.settle(info.id);
      return;
    }
    if (this.#connections.has(info.id)) return; // the other side dialed first
    this.#track(Connection.dial(this.#deps, info, randomId()));
  }

  /** What each connection is built with. */
  get #deps(): ConnectionDeps {
    const o = this.#options;
    return {
      ...o,
      sendSignal: (to, cid, data) => o.signaling.sendSignal(to, cid, data),
      holdDirect: (start) => this.#directGate.hold(start),
    };
  }

  /**
   * No pair is on its way to presence over the relay: every connection being set up on a relayed link is
   * up, and every listed participant that can be relayed to has a connection (one that enabled a moment
   * ago dials this side). A pair that cannot be relayed (no relay key) connects directly and holds nothing.
   */
  #presentOverRelay(): boolean {
    for (const connection of this.#connections.values()) if (connection.awaitingRelay) return false;
    for (const [id, info] of this.#known) if (info.relayKey !== undefined && !this.#connections.has(id)) return false;
    return true;
  }

  /** Makes `connection` the participant's current one and follows it until its session closes. */
  #track(connection: Connection): Connection {
    const { timeouts, logger } = this.#options;
    const { session } = connection;
    const id = session.participant.id;
    this.#redials.cancel(id);
    this.#connections.set(id, connection);
    this.#directGate.changed();
    // A backstop: each link gives up on its own within connectAttemptTimeoutMs. Twice that, because a
    // dialer with direct-first opens the relay only once its direct attempt failed, and the side that
    // answers does not know the dialer's policy.
    const attemptMs = timeouts.connectAttemptTimeoutMs * 2;
    const attemptTimer = setTimeout(() => {
      if (!session.isReady) connection.close(`not connected within ${attemptMs} ms`);
    }, attemptMs);
    session.on('ready', (attributes) => {
      clearTimeout(attemptTimer);
      this.#onReady(connection, attributes);
    });
    session.on('protocol_error', (err) => this.emit('protocol_error', err));
    const moves = new MoveChecks(this.#options.identity, session, (to) => this.#onMoved(connection, to), logger);
    session.on('moved', (to, proof) => moves.handle(to, proof));
    session.on('close', (reason, bye) => {
      clearTimeout(attemptTimer);
      this.#onClose(connection, reason, bye);
    });
    connection.on('state', (state) => {
      if (connection.up && this.#connections.get(session.participant.id) === connection)
        this.emit('link_state', session, state);
    });
    logger.debug(
      { participant: id, initiator: connection.initiator, attempt: this.#redials.failures(id) + 1 },
      'connecting',
    );
    return connection;
  }

  #onReady(connection: Connection, attributes: JsonObject): void {
    const id = connection.session.participant.id;
    if (this.#connections.get(id) !== connection) return;
    connection.up = true;
    this.#replacedUp.delete(id);
    this.#redials.clearFailures(id);
    this.emit('participant_up', connection.session, attributes, connection.state);
    this.#settleWaiters.settle(id);
    this.#directGate.changed();
  }

  /**
   * The server lists `info` (messaging enabled). A connection filed under its id whose participant has
   * another name or relay key is not the one listed: a participant that said it moved to this id before the
   * server's word on the id came (a participant may only rename itself). That connection is closed; the
   * one listed then connects as anyone new does. False (nothing kept) past {@link MAX_ROOM_PARTICIPANTS}.
   */
  #listed(info: ParticipantInfo): boolean {
    if (this.#known.size >= MAX_ROOM_PARTICIPANTS && !this.#known.has(info.id)) {
      // More than any room holds: the server (or something in the middle) is not telling the truth.
      if (!this.#overfullTold)
        this.#options.logger.warn(
          { max: MAX_ROOM_PARTICIPANTS },
          'the server listed more participants than a room holds',
        );
      this.#overfullTold = true;
      return false;
    }
    this.#known.set(info.id, info);
    const connection = this.#connections.get(info.id);
    if (connection === undefined || sameParticipant(connection.session.participant, info)) return true;
    this.#options.logger.warn(
      { participant: info.id, name: info.name, claimedBy: connection.session.participant.name },
      'a participant claimed the id the server lists for another: closed',
    );
    connection.close('it claimed the id of another participant');
    return true;
  }

  /**
   * The peer of `connection` says, on its channel, that it re-joined the server as `id`, and proved that it
   * holds its relay key (see {@link MoveChecks}). The channel is end-to-end authenticated (DTLS), so this is
   * the participant itself speaking; it may only rename itself:
   * never to an id that has an open channel here (a participant cannot pose as a present other), nor to an id
   * the server lists with another name or relay key (one not present here yet); and when the server lists
   * the id only later, {@link #listed} holds it to the same test.
   */
  #onMoved(connection: Connection, id: string): void {
    const { session } = connection;
    const previousId = session.participant.id;
    if (id === previousId || this.#connections.get(previousId) !== connection) return;
    const other = this.#connections.get(id);
    if (id === this.#localId || other?.up === true) {
      this.#options.logger.warn({ participant: previousId, id }, 'refused a move to an id in use');
      return;
    }
    const listed = this.#known.get(id);
    if (listed !== undefined && !sameParticipant(session.participant, listed)) {
      this.#options.logger.warn(
        { participant: previousId, id, name: session.participant.name, listedName: listed.name },
        'refused a move to an id the server lists for another participant',
      );
      return;
    }
    if (other !== undefined) {
      // Our own attempt to reach the new id (dialed from the server's list before this frame came): the
      // open channel is that participant already.
      this.#connections.delete(id);
      other.session.close('the participant moved onto an open channel');
    }
    const info = this.#known.get(previousId) ?? session.participant;
    if (this.#known.delete(previousId)) this.#known.set(id, { ...info, id });
    // Its other new ids (a client that joined with the participant's public key) are nobody's now.
    for (const [alias, c] of this.#moving) if (c === connection) this.#moving.delete(alias);
    this.#redials.cancel(previousId);
    this.#redials.cancel(id);
    this.#redials.clearFailures(previousId);
    this.#connections.delete(previousId);
    this.#connections.set(id, connection);
    session.rename(id);
    this.#options.logger.info({ participant: id, previousId }, 'participant re-joined the server under a new id');
    this.emit('participant_moved', session, previousId);
    this.#settleWaiters.settle(previousId);
  }

  #onClose(connection: Connection, reason: string, bye: boolean): void {
    const { session } = connection;
    const id = session.participant.id;
    if (this.#connections.get(id) !== connection) return; // replaced; the new connection owns presence
    this.#connections.delete(id);
    // A replacement that never came up: the participant's presence was the replaced session's, and ends now
    // (it stayed present for good, every send to it failing at once: found by a review as a hostile peer).
    const replaced = this.#replacedUp.get(id);
    this.#replacedUp.delete(id);
    if (!connection.up && replaced !== undefined) this.emit('participant_down', replaced, reason);
    this.#forgetMoving(connection);
    this.#directGate.changed();
    if (connection.up) this.emit('participant_down', session, reason);
    // While the server lists the participant as enabled and nobody said goodbye, the channel is re-dialed,
    // with backoff, for as long as it takes: the side that dialed at once, the other side a connect
    // timeout later if by then no offer has come (so a link comes back whichever side slept or lost its
    // network). open() stops waiting for a participant after connectAttempts failures in a row.
    if (bye || !this.#accepting || !this.#known.has(id)) {
      this.#settleWaiters.settle(id);
      return;
    }
    const { connectAttempts, connectAttemptTimeoutMs, reconnectMaxDelayMs } = this.#options.timeouts;
    const failures = this.#redials.countClose(id, connection.up);
    const backoff = redialBackoffMs(failures, reconnectMaxDelayMs);
    const delayMs = backoff + (connection.initiator ? 0 : connectAttemptTimeoutMs);
    this.#options.logger.debug({ participant: id, reason, failures, delayMs }, 'will redial');
    this.#redials.schedule(id, delayMs, () => this.#dial(session.participant));
    if (failures >= connectAttempts) {
      if (failures === connectAttempts)
        this.#options.logger.warn(
          { participant: id, reason, attempts: failures },
          'cannot connect to participant; still trying',
        );
      this.#settleWaiters.settle(id);
    }
  }

  /**
   * `connection` closed while relinking to its participant's new id (the moved frame never came: the link
   * failed within the grace): the new id is dialed as a newcomer would be, with jitter (both sides may).
   */
  #forgetMoving(connection: Connection): void {
    for (const [id, c] of this.#moving) {
      if (c !== connection) continue;
      this.#moving.delete(id);
      const info = this.#known.get(id);
      if (info !== undefined && this.#accepting && !this.#connections.has(id))
        this.#redials.schedule(id, Math.random() * 100, () => this.#dial(info));
    }
  }

  #whenSettled(id: string): Promise<void> {
    const up = this.#connections.get(id)?.up === true;
    if (up || !this.#known.has(id) || this.#redials.failures(id) >= this.#options.timeouts.connectAttempts)
      return Promise.resolve();
    return this.#settleWaiters.wait(id);
  }
}

/**
 * Whether two records can be one participant: the same name and relay key (a participant keeps both when it
 * re-joins the server under a new id; its join time changes).
 */
function sameParticipant(a: ParticipantInfo, b: ParticipantInfo): boolean {
  return a.name === b.name && a.relayKey === b.relayKey;
}
