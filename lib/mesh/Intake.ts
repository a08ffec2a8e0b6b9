/** Signals and relayed bytes from other participants: to their current connection, or to a new one they open. */
import type { Logger } from '../logger.js';
import { decodeRelayFrame } from '../protocol/relay-frames.js';
import type { IncomingSignal, ParticipantInfo } from '../protocol/signaling.js';
import { KeyedRateLimiter } from '../util/token-bucket.js';
import { Connection, type ConnectionDeps } from './Connection.js';
import { EARLY_HOLD_MS, EarlyArrivals } from './EarlyArrivals.js';

/**
 * Relayed `open` frames and direct offers taken from one participant, together: a burst, then so many per
 * second. An open costs this side a key agreement, a new link (and, of a new session, a session) and a
 * sealed answer, against 18–40 bytes of the sender's and no cryptography: a review's flood of 1,900 opens a
 * second, far under the server's byte rate, held one participant's CPU at 60–110% and its heap past 700 MB
 * (answers queued for the relay). An offer costs a peer connection and an answer with its candidates, which
 * also spend this side's own signal allowance at the server (so its honest peers' signals were refused). An
 * honest peer sends one of each per session, and again after a reconnect or a move, with backoff.
 */
export const RELAY_OPENS_BURST = 8;
/** See {@link RELAY_OPENS_BURST}. */
export const RELAY_OPENS_PER_SECOND = 2;
/** Participants whose opens are metered at once; the oldest is forgotten past it (a room is far smaller). */
const MAX_METERED = 1024;

/** A signal or a relayed frame from a participant not yet known to have messaging enabled. */
type Arrival = { signal: IncomingSignal } | { relay: { from: string; data: Uint8Array } };

/** What an {@link Intake} needs of its mesh. @internal */
export interface IntakeDeps {
  /** The participant, when the server lists it with messaging enabled. */
  known: (id: string) => ParticipantInfo | undefined;
  /** The participant's current connection, up or still connecting. */
  current: (id: string) => Connection | undefined;
  /** This participant's id on the signaling server now. */
  localId: () => string;
  /** The session relinking to this new id of its participant (see {@link acceptMoved}), until renamed. */
  moving: (id: string) => Connection | undefined;
  /**
   * An open frame from `info` for session `cid`, which may be a relayed session this side has with the
   * participant under the id it had before it re-joined the server: true when that session took it.
   */
  acceptMoved: (info: ParticipantInfo, cid: string, open: Uint8Array) => boolean;
  /** Forgets the participant's current connection: a new one replaces it. */
  forget: (id: string) => void;
  /** Makes `connection` its participant's current one and follows it. */
  track: (connection: Connection) => Connection;
  /** What each accepted connection is built with. */
  connectionDeps: () => ConnectionDeps;
  logger: Logger;
}

/** Splits a signal's connection id into the session's and the direct attempt's number (`cid.attempt`). */
function splitCid(cid: string): [string, number] {
  const dot = cid.lastIndexOf('.');
  const attempt = dot < 0 ? NaN : Number(cid.slice(dot + 1));
  return Number.isSafeInteger(attempt) && attempt > 0 ? [cid.slice(0, dot), attempt] : [cid, 0];
}

/**
 * Routes what participants send through the signaling server, a signal or a relayed frame, to the
 * connection it belongs to; an offer or an open frame of a new session accepts a connection.
 * @internal
 */
export class Intake {
  readonly #deps: IntakeDeps;
  readonly #early: EarlyArrivals<Arrival>;
  /** Relayed opens and offers each participant may still send now. */
  readonly #opens = new KeyedRateLimiter(RELAY_OPENS_PER_SECOND, RELAY_OPENS_BURST, MAX_METERED);
  /** Participants whose opens are being dropped (told once per spell, not per open). */
  readonly #refusing = new Set<string>();

  constructor(deps: IntakeDeps) {
    this.#deps = deps;
    this.#early = new EarlyArrivals<Arrival>({
      bytesOf: (a) => ('relay' in a ? a.relay.data.byteLength : 1024),
      expired: (from, items) =>
        deps.logger.debug(
          { from, items, heldMs: EARLY_HOLD_MS },
          'dropped what a participant sent before it was known to have messaging enabled',
        ),
    });
  }

  /** The participant is known now (the server says it enabled messaging): what it sent early is handled. */
  release(id: string): void {
    for (const a of this.#early.take(id)) {
      if ('signal' in a) this.handleSignal(a.signal);
      else this.handleRelay(a.relay.from, a.relay.data);
    }
  }

  /** Drops what is held (messaging disabled). */
  clear(): void {
    this.#early.clear();
    this.#refusing.clear();
  }

  /** True when `from` may open a relayed link or offer a direct one now (see {@link RELAY_OPENS_BURST}). */
  #mayOpen(from: string): boolean {
    if (this.#opens.take(from, Date.now())) {
      this.#refusing.delete(from);
      return true;
    }
    if (!this.#refusing.has(from)) {
      if (this.#refusing.size >= MAX_METERED) this.#refusing.clear();
      this.#refusing.add(from);
      this.#deps.logger.warn(
        { from, burst: RELAY_OPENS_BURST, perSecond: RELAY_OPENS_PER_SECOND },
        'dropping relayed opens and offers: this participant opens links faster than any honest one',
      );
    }
    return false;
  }

  /** Signaling data from another participant. */
  handleSignal(signal: IncomingSignal): void {
    const info = this.#deps.known(signal.from);
    if (info === undefined) {
      if (!this.#early.hold(signal.from, { signal }))
        this.#deps.logger.debug({ from: signal.from }, 'signal from a participant not known to have messaging enabled');
      return;
    }
    if (signal.data.type === 'offer' && !this.#mayOpen(signal.from)) return;
    const [cid, attempt] = splitCid(signal.cid);
    const current = this.#deps.current(signal.from);
    if (current !== undefined && current.session.cid === cid) {
      current.handleSignal(attempt, signal.data);
      return;
    }
    // With paths 'relay' this side takes no direct channel, whoever dials.
    if (signal.data.type !== 'offer' || this.#deps.connectionDeps().policy === 'relay') return;
    if (!this.#replaceable(current, signal.from)) return;
    const accepted = Connection.acceptDirect(this.#deps.connectionDeps(), info, cid, attempt);
    this.#deps.track(accepted).handleSignal(attempt, signal.data);
  }

  /** Bytes a participant relayed: a frame of one of its relayed links, or the open frame of a new one. */
  handleRelay(from: string, data: Uint8Array): void {
    const info = this.#deps.known(from);
    const frame = decodeRelayFrame(data);
    if (info === undefined && typeof frame !== 'string' && this.#early.hold(from, { relay: { from, data } })) return;
    if (info === undefined || typeof frame === 'string') {
      this.#deps.logger.debug({ from, frame }, 'dropped a relayed frame');
      return;
    }
    const current = this.#deps.current(from);
    if (frame.kind !== 'open') {
      (current ?? this.#deps.moving(from))?.handleRelayFrame(data, false);
      return;
    }
    if (!this.#mayOpen(from)) return;
    if (current !== undefined && current.session.cid === frame.cid) {
      current.handleRelayFrame(data, true);
      return;
    }
    if (current === undefined && this.#deps.acceptMoved(info, frame.cid, data)) return;
    if (!this.#replaceable(current, from)) return;
    const accepted = Connection.acceptRelay(this.#deps.connectionDeps(), info, frame.cid, data);
    if (accepted !== undefined) this.#deps.track(accepted);
  }

  /**
   * Whether a participant's new session may replace `current` (closed here if so). Both sides dialing
   * should not happen (the newcomer dials); if it does, the lower id keeps its attempt.
   */
  #replaceable(current: Connection | undefined, from: string): boolean {
    if (current === undefined) return true;
    if (current.initiator && !current.session.isReady && this.#deps.localId() < from) return false;
    this.#deps.forget(from);
    current.close('replaced by a new connection');
    return true;
  }
}
