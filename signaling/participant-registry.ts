/**
 * The participants this process holds: the connection that stands for each (live), the ones whose
 * connection dropped without a goodbye and may still resume (held, each with a grace timer), and the
 * removals from the store still under way or waiting for a retry. It counts rooms and participants for
 * the metrics. The store is the record of who is in a room; this is what the process keeps beside it.
 */
import type { HoldResult, MembershipStore } from './membership.js';
import type { ServerLogger } from './options-serving.js';

/**
 * Why a member is removed. `left`: it said goodbye, so its resume tokens die with it. `expired`: it did
 * not come back within the grace period. `closing`: this process (one, without a fleet) goes; nobody left, so
 * nobody is told: its members' clients keep their channels and resume when a server is back. (A process of a
 * fleet that closes removes nobody: see {@link ParticipantRegistry.handOver}.)
 */
export type Removal = 'left' | 'expired' | 'closing';

/** Identifies a member on this process: ids are unique within a room. */
const memberKey = (room: string, id: string): string => `${room}\n${id}`;

/** What the registry tells the peers of a member: that it dropped, or that it is gone. */
export interface PeerNotice {
  emit(event: 'peer_disconnected' | 'peer_disabled', data: { id: string; processDied?: boolean }): unknown;
}

/** Sends to participants `ids` of `room` (the server's `tell`, narrowed to what the registry says). */
export type TellPeers = (room: string, ids: string[], send: (to: PeerNotice) => void) => void;

/** What a {@link ParticipantRegistry} gets from its server. */
export interface ParticipantRegistryOptions<C> {
  store: MembershipStore;
  logger: ServerLogger;
  tell: TellPeers;
  /** How long a dropped participant is held for a resume; 0 removes it at once. */
  resumeGraceMs: number;
  /** How often failed removals are tried again. */
  retryEveryMs: number;
  /** Called when a resume takes a participant over from another connection `old` of this process. */
  evict(old: C): void;
}

/** Live and held participants of this process, over connections of type `C`. */
export class ParticipantRegistry<C> {
  /** The connection that currently stands for each participant of this process. */
  readonly #live = new Map<string, C>();
  /**
   * Participants whose connection dropped without a goodbye, kept for `resumeGraceMs`; `due` once the grace
   * ran out while a resume of it was at the store (see {@link resuming}).
   */
  readonly #held = new Map<string, { room: string; id: string; timer: NodeJS.Timeout; due?: boolean }>();
  /** Resumes under way at the store, by member: how many. */
  readonly #resuming = new Map<string, number>();
  /** Participants this process holds (connected, or waiting to resume), by room. */
  readonly #rooms = new Map<string, number>();
  #participants = 0;
  /** Removals under way, so close can wait for them. */
  readonly #removals = new Set<Promise<void>>();
  /**
   * Members whose removal failed (store unreachable), retried until it works; by room and id (a token's
   * `pid` may be in several rooms).
   */
  readonly #unremoved = new Map<string, { room: string; id: string; how: Removal }>();
  readonly #retryTimer: NodeJS.Timeout;
  #closing = false;
  /** The fleet takes this process's members ({@link handOver}): nothing is removed from here on. */
  #handingOver = false;

  constructor(private readonly options: ParticipantRegistryOptions<C>) {
    this.#retryTimer = setInterval(() => {
      if (this.#unremoved.size === 0 || !options.store.healthy) return;
      for (const { room, id, how } of [...this.#unremoved.values()]) this.track(this.#remove(room, id, how));
    }, options.retryEveryMs);
    this.#retryTimer.unref();
  }

  /** Rooms with at least one participant on this process. */
  get rooms(): number {
    return this.#rooms.size;
  }

  /** Participants this process holds, connected or waiting to resume. */
  get participants(): number {
    return this.#participants;
  }

  /**
   * Participant `id` joined `room` on connection `conn`. The store had no such member, so what this process
   * still had of the same id (a token's `pid`: it resumed on another process and left there, or its hold
   * here outlived it) is stale: a hold's timer stops, a removal still to retry is dropped, and an old
   * connection is evicted, so none of them removes or holds the new member (found by a review).
   */
  handleJoin(room: string, id: string, conn: C): void {
    this.#standsFor(room, id, conn);
  }

  /**
   * A resume of participant `id` of `room` goes to the store now; {@link resumeSettled} says how it went.
   * Meanwhile a hold of it here does not expire: the store would take the resume first and then the
   * removal, which finds the member on this process again and removes it under its new connection.
   */
  resuming(room: string, id: string): void {
    const key = memberKey(room, id);
    this.#resuming.set(key, (this.#resuming.get(key) ?? 0) + 1);
  }

  /**
   * The store answered a resume announced by {@link resuming} (before {@link handleResume}, when it took
   * it): a hold whose grace ran out meanwhile expires now unless the member resumed.
   */
  resumeSettled(room: string, id: string, resumed: boolean): void {
    const key = memberKey(room, id);
    const left = (this.#resuming.get(key) ?? 1) - 1;
    if (left > 0) this.#resuming.set(key, left);
    else this.#resuming.delete(key);
    if (resumed || left > 0) return;
    const held = this.#held.get(key);
    if (held?.due === true) this.#expire(held, key);
  }

  /**
   * Participant `id` of `room` resumed on `conn`: its grace timer stops, and a connection of this process
   * that still stood for it (half-open after a network change) is evicted.
   */
  handleResume(room: string, id: string, conn: C): void {
    this.#standsFor(room, id, conn);
  }

  /**
   * `conn` stands for participant `id` of `room` from now on: its hold here ends, a removal of it still to
   * retry is dropped (it would remove the member now back), and another connection of this process that
   * stood for it is evicted.
   */
  #standsFor(room: string, id: string, conn: C): void {
    const key = memberKey(room, id);
    const wasHeld = this.#held.get(key);
    if (wasHeld !== undefined) {
      clearTimeout(wasHeld.timer);
      this.#held.delete(key);
    }
    this.#unremoved.delete(key);
    const old = this.#live.get(key);
    if (old !== undefined && old !== conn) this.options.evict(old);
    if (wasHeld === undefined && (old === undefined || old === conn)) this.#countIn(room);
    this.#live.set(key, conn);
  }

  /**
   * Connection `conn` of participant `id` closed. A client that said goodbye (`goodbye`: Room.disconnect
   * closes its socket) leaves at once; one whose connection dropped is held for `resumeGraceMs`, to
   * resume on a new connection, and its peers are told so they can check its data channel.
   */
  async handleDisconnect(room: string, id: string, conn: C, goodbye: boolean, reason: string): Promise<void> {
    const { logger, resumeGraceMs } = this.options;
    const key = memberKey(room, id);
    if (this.#live.get(key) === conn) this.#live.delete(key);
    if (this.#handingOver && !goodbye) {
      // Left in its room for the fleet to adopt: it resumes on another process, or a survivor removes it.
      this.#countOut(room);
      logger.info({ room, participant: id, reason }, 'handed over to the fleet');
      return;
    }
    if (goodbye || resumeGraceMs === 0 || this.#closing) {
      this.#countOut(room);
      await this.#remove(room, id, goodbye ? 'left' : this.#closing ? 'closing' : 'expired');
      logger.info({ room, participant: id, reason }, 'left');
      return;
    }
    const { peers, leftMs, elsewhere } = await this.#hold(room, id, key);
    if (elsewhere === true) {
      logger.info({ room, participant: id, reason }, 'an old connection closed: it resumed on another process');
      return;
    }
    this.options.tell(room, peers, (to) => to.emit('peer_disconnected', { id }));
    logger.info({ room, participant: id, reason, graceMs: leftMs }, 'connection dropped: kept for a resume');
  }

  /**
   * Holds a participant for a resume: its grace timer starts at once (a resume that comes while the store
   * is asked finds it held), and is shortened to what the store says is left of a hold under way (an
   * adopted participant that its process held already keeps that hold's end). When the grace runs out, or
   * none is left, the participant is removed.
   */
  async #hold(room: string, id: string, key: string): Promise<HoldResult> {
    const { resumeGraceMs } = this.options;
    const expire = (): void => this.#expire(entry, key);
    const entry: { room: string; id: string; timer: NodeJS.Timeout; due?: boolean } = {
      room,
      id,
      timer: setTimeout(expire, resumeGraceMs).unref(),
    };
    this.#held.set(key, entry);
    const held = await this.options.store
      .hold(room, id)
      .catch((): HoldResult => ({ peers: [], leftMs: resumeGraceMs }));
    if (held.elsewhere === true) {
      // Not this process's to hold or remove: it resumed on another (see HoldResult).
      if (this.#held.get(key) === entry) {
        clearTimeout(entry.timer);
        this.#held.delete(key);
        this.#countOut(room);
      }
      return held;
    }
    if (held.leftMs < resumeGraceMs && this.#held.get(key) === entry) {
      clearTimeout(entry.timer);
      entry.timer = setTimeout(expire, held.leftMs).unref();
    }
    return held;
  }

  /** The hold `entry` ran out: the member is removed, unless a resume of it is at the store (then it waits). */
  #expire(entry: { room: string; id: string; due?: boolean }, key: string): void {
    if (this.#held.get(key) !== entry) return;
    if (this.#resuming.has(key)) {
      entry.due = true;
      return;
    }
    this.#held.delete(key);
    this.#countOut(entry.room);
    this.track(this.#remove(entry.room, entry.id, 'expired'));
  }

  /**
   * Participant `id` of `room` belonged to a process that died or handed its members over, and this process
   * adopted it (the fleet's sweep): it is held for `resumeGraceMs` as a dropped connection of this process
   * would be (for what is left of that, when its process held it already), and its peers are told it
   * dropped. Its client resumes on any process with its token; only if it does not come back in time is it
   * removed (and its peers see it leave).
   */
  async handleAdopted(room: string, id: string): Promise<void> {
    const { logger, resumeGraceMs } = this.options;
    const key = memberKey(room, id);
    // Adopted as this process hands its own over: left in its set, for the fleet to adopt again.
    if (this.#live.has(key) || this.#handingOver) return;
    const stale = this.#held.get(key);
    if (stale !== undefined) {
      // Held here since an earlier death or drop; it resumed on another process meanwhile (this one learns
      // that only when the timer runs out), and that process died too. The old timer must not end this
      // hold: a new grace from now, and its peers told again. It is counted in already.
      clearTimeout(stale.timer);
      this.#held.delete(key);
    } else this.#countIn(room);
    if (resumeGraceMs === 0 || this.#closing) {
      this.#countOut(room);
      this.track(this.#remove(room, id, 'expired'));
      return;
    }
    const { peers, leftMs, elsewhere } = await this.#hold(room, id, key);
    if (elsewhere === true) return; // it resumed on another process as this one adopted it
    // Said so: a peer relayed to it waits for its resume rather than probing a path that cannot answer.
    this.options.tell(room, peers, (to) => to.emit('peer_disconnected', { id, processDied: true }));
    logger.info({ room, participant: id, graceMs: leftMs }, 'its process went: kept for a resume');
  }

  /** Keeps `removal` until it settles, so {@link settled} can wait for it. */
  track(removal: Promise<void>): void {
    this.#removals.add(removal);
    void removal.finally(() => this.#removals.delete(removal));
  }

  /**
   * The process closes: retries stop, held participants are removed now, and connections that close
   * from here on remove their participants at once, their peers not told (they are going too, and will
   * find each other again on the server's return); after {@link handOver}, neither: the fleet adopts them.
   */
  close(): void {
    this.#closing = true;
    clearInterval(this.#retryTimer);
    for (const h of this.#held.values()) {
      clearTimeout(h.timer);
      this.#countOut(h.room);
      if (!this.#handingOver) this.track(this.#remove(h.room, h.id, 'closing'));
    }
    this.#held.clear();
  }

  /**
   * The process leaves a fleet (drained or closed): as {@link close}, but its members stay in their rooms,
   * held ones and those whose connection closes from here on (but for a goodbye), for the fleet to adopt as
   * it would the members of a process that died (the store's `handOver`). Their peers see no leave.
   */
  handOver(): void {
    this.#handingOver = true;
    this.close();
  }

  /** Resolves when every removal under way has settled, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.#removals]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /**
   * Removes a participant from its room and tells the enabled others: the one way members leave.
   * `expired` removes it only while this process still holds it, as it may have resumed on another; its
   * latest token can still bring it back. When the store cannot be reached, the same removal is tried
   * again later.
   */
  async #remove(room: string, id: string, how: Removal): Promise<void> {
    const { store, logger, tell } = this.options;
    try {
      const { existed, peers } =
        how === 'expired' ? await store.removeIfHeld(room, id) : await store.remove(room, id, how === 'closing');
      this.#unremoved.delete(memberKey(room, id));
      if (existed && how !== 'closing') tell(room, peers, (to) => to.emit('peer_disabled', { id }));
      if (how === 'expired')
        logger.info(
          { room, participant: id },
          existed ? 'did not resume in time: removed' : 'resumed on another process',
        );
    } catch (err) {
      this.#unremoved.set(memberKey(room, id), { room, id, how });
      logger.warn(
        { room, participant: id, err: { message: (err as Error).message } },
        'could not remove a participant yet; will retry',
      );
    }
  }

  #countIn(room: string): void {
    this.#rooms.set(room, (this.#rooms.get(room) ?? 0) + 1);
    this.#participants++;
  }

  #countOut(room: string): void {
    this.#participants--;
    const left = (this.#rooms.get(room) ?? 1) - 1;
    if (left > 0) this.#rooms.set(room, left);
    else this.#rooms.delete(room);
  }
}
