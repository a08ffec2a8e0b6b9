/**
 * One participant's session and the links under it: a direct data channel, the signaling server's relay,
 * or both while the pair moves from one to the other. It opens them as the path policy says, tries again
 * what fails (with backoff, for as long as the session lives), and tells the link state.
 *
 * The side that dialed (the initiator) opens every link of the session; the other side takes what comes:
 * direct attempts are told apart by a number after the session's connection id in their signals
 * (`cid.attempt`), and a relayed link names its session in its open frame. The session moves itself onto
 * the best open link (direct before relayed) without losing, doubling or reordering a message.
 */
import type { RoomTimeouts } from '../defaults.js';
import type { DialedLink, Link } from '../link/Link.js';
import type { RelayLink } from '../link/RelayLink.js';
import type { Logger } from '../logger.js';
import type { ParticipantInfo, SignalData } from '../protocol/signaling.js';
import { Session } from '../session/Session.js';
import type { SessionOptions } from '../session/session-types.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { backoffDelayMs } from '../util/backoff.js';
import { unrefTimer } from '../util/schedule.js';
import type { LinkState, PathPolicy } from './paths.js';

/** Direct links are preferred over relayed ones: the session moves to an open direct link. */
const DIRECT_RANK = 1;
const RELAY_RANK = 0;
/** While relayed, direct is tried again after this, doubling up to `reconnectMaxDelayMs`. */
const DIRECT_RETRY_BASE_MS = 1000;
/** A relayed link that closed is opened again after this (jitter only) the first time, then doubling. */
const RELAY_RETRY_BASE_MS = 100;

/** What a {@link Connection} is built from. @internal */
export interface ConnectionDeps {
  policy: PathPolicy;
  createDirect: (initiator: boolean) => DialedLink;
  /**
   * A relayed link to `peer` for session `cid`, sending to whatever id `to()` says then (a participant may
   * re-join under a new id); undefined when this pair cannot be relayed.
   */
  createRelay: (peer: ParticipantInfo, cid: string, initiator: boolean, to: () => string) => RelayLink | undefined;
  sendSignal: (to: string, cid: string, data: SignalData) => void;
  /**
   * relay-first: runs `start` (the direct attempt of a pair present over the relay) once the rest of the
   * mesh is present too; returns a function that cancels it.
   */
  holdDirect: (start: (done: () => void) => void) => () => void;
  session: Omit<SessionOptions, 'participant' | 'cid' | 'link'>;
  timeouts: RoomTimeouts;
  logger: Logger;
}

/** Events of a {@link Connection}. @internal */
export interface ConnectionEvents {
  /** The link state changed. */
  state: (state: LinkState) => void;
}

/** One participant's session and its links. @internal */
export class Connection extends TypedEmitter<ConnectionEvents> {
  readonly session: Session;
  readonly initiator: boolean;
  /** True once the session was ready (the participant was reported present). */
  up = false;
  readonly #deps: ConnectionDeps;
  #direct: DialedLink | undefined;
  #directAttempt = 0;
  #directFailures = 0;
  #directRetry: ReturnType<typeof setTimeout> | undefined;
  #relay: RelayLink | undefined;
  /** The participant id the current relayed link sends to: the session's, or a new id it relinks to. */
  #relayTo: () => string = () => this.session.participant.id;
  #relayFailures = 0;
  #relayRetry: ReturnType<typeof setTimeout> | undefined;
  #state: LinkState = 'connecting';
  #closed = false;
  /**
   * The peer is away from the server and may come back: its server process died (it is resuming, or gone
   * once its resume window ends), or this side re-joined and the peer may re-join later (see peerUnlisted).
   */
  #peerAway = false;
  /** This side is off the signaling server: relayed links cannot open until it is back. */
  #offServer = false;
  /** Ends the wait of {@link peerUnlisted} for a peer that may still be on its way back. */
  #awayTimer: ReturnType<typeof setTimeout> | undefined;

  /** Dials `info`: opens the links the policy starts with. */
  static dial(deps: ConnectionDeps, info: ParticipantInfo, cid: string): Connection {
    const relayFirst = deps.policy === 'relay-first' || deps.policy === 'relay';
    // The relayed link exists before its connection (the session is built on it): it asks for the id later.
    const made: { c?: Connection } = {};
    const to = (): string => made.c?.session.participant.id ?? info.id;
    const relay = relayFirst ? deps.createRelay(info, cid, true, to) : undefined;
    const policy = relayFirst && relay === undefined ? 'direct' : deps.policy;
    const c = new Connection({ ...deps, policy }, info, cid, true, (c) =>
      relay === undefined ? c.#newDirect(1, true) : c.#adoptRelay(relay),
    );
    made.c = c;
    if (c.#deps.policy === 'relay-first') c.#startDirectOnceUp();
    return c;
  }

  /** Answers a direct attempt `attempt` of session `cid` that `info` dialed (its offer follows in {@link handleSignal}). */
  static acceptDirect(deps: ConnectionDeps, info: ParticipantInfo, cid: string, attempt: number): Connection {
    return new Connection(deps, info, cid, false, (c) => c.#newDirect(attempt, false));
  }

  /** Answers a relayed link `info` opened for session `cid`; undefined when this pair cannot be relayed. */
  static acceptRelay(
    deps: ConnectionDeps,
    info: ParticipantInfo,
    cid: string,
    open: Uint8Array,
  ): Connection | undefined {
    const made: { c?: Connection } = {};
    const relay = deps.createRelay(info, cid, false, () => made.c?.session.participant.id ?? info.id);
    if (relay === undefined) return undefined;
    const c = new Connection(deps, info, cid, false, (c) => c.#adoptRelay(relay));
    made.c = c;
    relay.handleFrame(open);
    return c;
  }

  private constructor(
    deps: ConnectionDeps,
    info: ParticipantInfo,
    cid: string,
    initiator: boolean,
    firstLink: (c: Connection) => Link,
  ) {
    super();
    this.emitterLogger = deps.logger;
    this.#deps = deps;
    this.initiator = initiator;
    const link = firstLink(this);
    // Ranked as a link added later would be: a side whose session began on its direct link and the other,
    // which added its direct link to a relayed session, must agree that direct is preferred; else one
    // writes on the data channel while the other reads only the relay (messages neither delivered nor
    // acknowledged, found by the chaos soak's newcomers).
    const linkRank = link === this.#direct ? DIRECT_RANK : RELAY_RANK;
    this.session = new Session({ ...deps.session, participant: info, cid, link, linkRank });
    this.session.on('ready', () => this.#updateState());
    this.session.on('linked', () => {
      // A link became current: the peer is reachable again, whatever the server has said yet.
      this.#peerAway = false;
      this.#updateState();
    });
    this.session.on('unlinked', () => this.#updateState());
    this.session.on('close', () => this.#onSessionClose());
  }

  /** How the participant's messages travel now. */
  get state(): LinkState {
    return this.#state;
  }

  /** Signaling data for direct attempt `attempt` of this session. */
  handleSignal(attempt: number, data: SignalData): void {
    if (this.#closed) return;
    if (this.#direct !== undefined && attempt === this.#directAttempt) {
      this.#direct.signal(data);
      return;
    }
    // A new attempt of the side that dials; anything else is a late signal of an attempt that is over.
    // With paths 'relay' this side takes no direct channel, whoever dials.
    if (this.initiator || data.type !== 'offer' || attempt <= this.#directAttempt || this.#deps.policy === 'relay')
      return;
    this.#direct?.close('replaced by a new attempt');
    const link = this.#newDirect(attempt, false);
    this.session.addLink(link, DIRECT_RANK);
    link.signal(data);
  }

  /** A relayed frame from the participant: an open frame of a new relayed link for this session, or one of the current one's. */
  handleRelayFrame(bytes: Uint8Array, isOpen: boolean): void {
    if (this.#closed) return;
    if (!isOpen) {
      this.#relay?.handleFrame(bytes);
      return;
    }
    if (this.initiator) return; // only the side that dialed opens relayed links
    const relay = this.#newRelay(false);
    if (relay === undefined) return;
    this.#relay?.close('replaced by a new relayed link');
    this.session.addLink(this.#adoptRelay(relay), RELAY_RANK);
    relay.handleFrame(bytes);
  }

  /**
   * The participant re-joined the signaling server as `info.id`, with the relay key it had, while the relay
   * was this session's only path (a restarted server that forgot everyone): a relayed link to the new id.
   * The side that dialed opens it; the other side takes the peer's `open` frame. Its keys bind both new ids
   * and the two key pairs, so only the participant itself can read or write on it; the moved frame it
   * sends on it renames the session (see Mesh). False when this side cannot (closed, the wrong side, or no
   * relay).
   */
  relinkMoved(info: ParticipantInfo, open?: Uint8Array): boolean {
    if (this.#closed || this.initiator !== (open === undefined)) return false;
    const relay = this.#deps.createRelay(info, this.session.cid, this.initiator, () => info.id);
    if (relay === undefined) return false;
    const old = this.#relay;
    this.session.addLink(this.#adoptRelay(relay, info.id), RELAY_RANK);
    old?.close("replaced by a relayed link to the participant's new id");
    if (open !== undefined) relay.handleFrame(open);
    return true;
  }

  /** True once the pair was up while no direct channel is open: its one path goes through the server. */
  get relayedOnly(): boolean {
    return this.up && !this.#closed && this.#relayOnly();
  }

  /**
   * The server refused a relayed frame to `to`: the relayed stream has a gap, its link closes, when it is
   * the current link's (not a frame of a link that sent to the participant's id before it moved).
   */
  handleRelayRefused(reason: string, to: string): void {
    if (this.#relayTo() === to) this.#relay?.handleRefused(reason);
  }

  /**
   * The server says the peer's signaling connection dropped. A link must show a sign of life within
   * `probeMs`, or the session closes: a killed peer goes in bounded time. Except a relayed session when the
   * peer's server process died (`processDied`): the peer is most likely alive and resuming, and cannot be
   * heard before it is back on the server; the session is held until the server says it is back or gone.
   */
  peerDisconnected(processDied: boolean, probeMs: number): void {
    if (this.#closed) return;
    this.#peerAway = processDied && this.#relayOnly();
    this.#updateHold();
    if (!this.#peerAway) this.session.probe(probeMs);
  }

  /**
   * The peer is on the signaling server (it resumed, or this side resumed and the server lists it): its
   * relayed links died with its connection or with this side's, so the dialing side opens a new one now.
   */
  peerBack(): void {
    if (this.#closed) return;
    this.#peerAway = false;
    this.#offServer = false;
    this.#updateHold();
    // A session not up yet is still being set up on links of now: nothing of it died (the peer's word that
    // it enabled messaging may trail this side's dial).
    if (!this.initiator || !this.#usesRelay() || !this.session.isReady) return;
    clearTimeout(this.#relayRetry);
    this.#relayRetry = undefined;
    this.#relayFailures = 0;
    const old = this.#relay;
    // Not while a direct link is open: the relay is opened again when that one closes.
    if (this.#direct?.isOpen === true) {
      old?.close('the peer is back on the signaling server');
      return;
    }
    this.#openRelay();
    old?.close('replaced by a new relayed link');
  }

  /** This side lost the signaling server: relayed sessions are held, and links not opened, until it is back. */
  signalingLost(): void {
    this.#offServer = true;
    this.#updateHold();
  }

  /**
   * This side is back on the signaling server, which does not list the peer (or will not be back): a
   * relayed session is held no more, and goes unless a link comes back within the relink grace. With
   * `awayMs`, it is held that much longer first: the peer may be on its way back too, later than this side.
   */
  peerUnlisted(awayMs = 0): void {
    clearTimeout(this.#awayTimer);
    this.#offServer = false;
    this.#peerAway = awayMs > 0;
    this.#updateHold();
    if (awayMs <= 0) return;
    this.#awayTimer = setTimeout(() => {
      this.#peerAway = false;
      this.#updateHold();
    }, awayMs);
    unrefTimer(this.#awayTimer);
  }

  /** Closes the session and every link. */
  close(reason: string): void {
    this.session.close(reason);
    this.#onSessionClose();
  }

  /** True while the session is being set up over the relay (not present yet, a relayed link open or opening). */
  get awaitingRelay(): boolean {
    return !this.up && !this.#closed && this.#relay !== undefined;
  }

  /**
   * relay-first: the direct attempt starts once the pair is present over the relay and the mesh lets it
   * (the other pairs present too, see {@link ConnectionDeps.holdDirect}), or at once when the relay failed
   * before presence. Measured (bench mesh, N = 10 on 2 cores), starting both at once made presence wait
   * behind the direct attempts (their signals share the connection to the server, their DTLS the CPU):
   * 579 ms against 242 ms relayed alone, slower even than direct alone; starting each once its own pair
   * was present still made the pairs not yet present wait (312 ms against 159 ms relayed alone).
   */
  #startDirectOnceUp(): void {
    let started = false;
    let cancelHold: (() => void) | undefined;
    // `done`: the gate's word that this attempt connected or failed, so the next held one may start.
    const start = (done: () => void = () => undefined): void => {
      cancelHold?.();
      if (started || this.#closed) return done();
      started = true;
      this.#startDirect(1);
      const link = this.#direct;
      if (link === undefined || link.isOpen) return done();
      link.on('open', () => done());
      link.on('close', () => done());
    };
    this.session.once('ready', () => {
      if (!started && !this.#closed) cancelHold = this.#deps.holdDirect(start);
    });
    this.session.once('close', () => cancelHold?.());
    this.#relay?.once('close', () => {
      if (!this.session.isReady) start();
    });
  }

  #startDirect(attempt: number): void {
    this.session.addLink(this.#newDirect(attempt, true), DIRECT_RANK);
  }

  #newDirect(attempt: number, initiator: boolean): DialedLink {
    const { createDirect, sendSignal, timeouts } = this.#deps;
    const link = createDirect(initiator);
    this.#direct = link;
    this.#directAttempt = attempt;
    // Signals leave in a later turn than this (the session exists by then).
    link.on('signal', (data) => sendSignal(this.session.participant.id, `${this.session.cid}.${attempt}`, data));
    const timer = setTimeout(() => {
      if (!link.isOpen) link.close(`not connected within ${timeouts.connectAttemptTimeoutMs} ms`);
    }, timeouts.connectAttemptTimeoutMs);
    unrefTimer(timer);
    let opened = false;
    link.on('open', () => {
      opened = true;
      clearTimeout(timer);
      this.#directFailures = 0;
      this.#updateHold();
    });
    link.on('close', (reason) => {
      clearTimeout(timer);
      this.#onDirectClosed(link, opened, reason);
    });
    return link;
  }

  /**
   * Makes `relay` the session's relayed link. `movedTo`: a link to the participant's new id (see
   * {@link relinkMoved}), which is not the participant's until its moved frame renamed the session: a frame
   * that does not open on it before then is whoever took the relay key, and is not counted against the peer.
   */
  #adoptRelay(relay: RelayLink, movedTo?: string): RelayLink {
    this.#relay = relay;
    this.#relayTo = movedTo === undefined ? () => this.session.participant.id : () => movedTo;
    // A peer that never answers the handshake (it left; the server lost the frame) must not hold the link.
    const { connectAttemptTimeoutMs } = this.#deps.timeouts;
    const timer = setTimeout(() => {
      if (!relay.isOpen) relay.close(`not open within ${connectAttemptTimeoutMs} ms`);
    }, connectAttemptTimeoutMs);
    unrefTimer(timer);
    relay.on('open', () => {
      clearTimeout(timer);
      this.#relayFailures = 0;
    });
    relay.on('close', (reason) => {
      clearTimeout(timer);
      this.#onRelayClosed(relay, reason);
    });
    // A frame that does not open is a bad frame like any other (then the link closes: its stream has a gap).
    relay.on('refused', (detail) => {
      const { id } = this.session.participant;
      if (movedTo === undefined || movedTo === id)
        this.session.reportProtocolError(`a relayed frame did not open (${detail})`, 'BadFrame');
      else
        this.#deps.logger.warn(
          { participant: id, movedTo, detail },
          'a relayed frame from the new id did not open: not this participant',
        );
    });
    return relay;
  }

  #usesRelay(): boolean {
    return this.#deps.policy !== 'direct';
  }

  #onDirectClosed(link: DialedLink, opened: boolean, reason: string): void {
    if (this.#direct === link) this.#direct = undefined;
    this.#updateHold();
    if (this.#closed || !this.initiator || this.#direct !== undefined) return;
    const { logger, timeouts } = this.#deps;
    logger.debug({ participant: this.session.participant.id, reason, opened }, 'direct link closed');
    // The relay takes over at once where the policy allows it (direct-first: this is the failed attempt).
    if (this.#usesRelay() && this.#relay === undefined) this.#openRelay();
    if (this.#deps.policy === 'relay') return;
    this.#directFailures = opened ? 0 : this.#directFailures + 1;
    const delayMs =
      this.#directFailures === 0
        ? Math.random() * 50
        : backoffDelayMs(this.#directFailures, DIRECT_RETRY_BASE_MS, timeouts.reconnectMaxDelayMs);
    clearTimeout(this.#directRetry);
    this.#directRetry = setTimeout(() => {
      this.#directRetry = undefined;
      if (!this.#closed && this.#direct === undefined) this.#startDirect(this.#directAttempt + 1);
    }, delayMs);
    unrefTimer(this.#directRetry);
  }

  #openRelay(): void {
    const relay = this.#newRelay(true);
    if (relay !== undefined) this.session.addLink(this.#adoptRelay(relay), RELAY_RANK);
  }

  #newRelay(initiator: boolean): RelayLink | undefined {
    const { participant, cid } = this.session;
    return this.#deps.createRelay(participant, cid, initiator, () => this.session.participant.id);
  }

  #onRelayClosed(relay: RelayLink, reason: string): void {
    if (this.#relay === relay) this.#relay = undefined;
    if (this.#closed || !this.initiator || this.#relay !== undefined) return;
    // Not while a direct link is open: the relay is opened again when that one closes. Not while off the
    // server: it is opened again once back (peerBack). While the peer is off the server, attempts go on
    // (with backoff): its word that it is back may have come before the word that it was gone.
    if (this.#direct?.isOpen === true || !this.#usesRelay() || this.#offServer) return;
    this.#relayFailures++;
    const delayMs =
      this.#relayFailures === 1
        ? Math.random() * RELAY_RETRY_BASE_MS
        : backoffDelayMs(this.#relayFailures - 1, RELAY_RETRY_BASE_MS, this.#deps.timeouts.reconnectMaxDelayMs);
    this.#deps.logger.debug({ participant: this.session.participant.id, reason, delayMs }, 'relayed link closed');
    clearTimeout(this.#relayRetry);
    this.#relayRetry = setTimeout(() => {
      this.#relayRetry = undefined;
      if (!this.#closed && this.#relay === undefined) this.#openRelay();
    }, delayMs);
    unrefTimer(this.#relayRetry);
  }

  /** The session's only path (a direct link is not open) goes through the signaling server. */
  #relayOnly(): boolean {
    return this.#usesRelay() && this.#direct?.isOpen !== true;
  }

  /**
   * A relayed session is held (see {@link Session.held}) while the relay is its only path and that path
   * is down because one side is off the signaling server through no fault of the pair: this side lost the
   * server, or the peer's server process died. Then the server, not the path's silence, says when the peer
   * is gone: it is back (the relay opens again), or its resume window ended (`peer_disabled`).
   */
  #updateHold(): void {
    // Once the pair was up: a session that never got there is the mesh's to give up on and dial again.
    if (!this.#closed)
      this.session.held = this.session.isReady && this.#relayOnly() && (this.#peerAway || this.#offServer);
  }

  #updateState(): void {
    if (this.#closed) return;
    this.#updateHold();
    const s = this.session;
    const next: LinkState = !s.isReady
      ? 'connecting'
      : !s.isLinked
        ? 'reconnecting'
        : s.link === this.#direct
          ? 'direct'
          : 'relayed';
    if (next === this.#state) return;
    this.#state = next;
    this.emit('state', next);
  }

  #onSessionClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#directRetry);
    clearTimeout(this.#relayRetry);
    clearTimeout(this.#awayTimer);
    this.#direct?.close('session closed');
    this.#relay?.close('session closed');
  }
}
