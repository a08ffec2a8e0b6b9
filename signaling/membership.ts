/**
 * Room membership: who is in which room and who has messaging enabled. Records are kept apart from live
 * sockets (the server reaches a participant through the socket.io room named by {@link participantRoom},
 * on whichever process holds it), so a member can outlive its socket and be removed by one call.
 *
 * Two implementations: {@link LocalMembershipStore} (one process) and RedisMembershipStore (a fleet).
 * Every operation that must be atomic (the room cap, enabling, taking a resume token) is one step of the
 * store. The store also keeps each member's resume-token generation, parks it when the member goes without
 * a goodbye, and has an epoch: see signaling/resume.ts for why.
 */
import { randomUUID } from 'node:crypto';
import type { ParticipantInfo } from '../lib/protocol/signaling.js';

/**
 * The socket.io room that reaches participant `id` of `room`, on any process of a fleet. Scoped to the
 * room: a JWT `pid` may be in several rooms at once, and each connection must hear only its own room.
 */
export function participantRoom(room: string, id: string): string {
  return `p:${JSON.stringify([room, id])}`;
}

/**
 * A participant id the server makes up (no `pid` in the token). It starts with `~`, which a token's
 * `pid` may not contain, so a token can never name a participant that joined without a fixed id.
 */
export function generatedParticipantId(): string {
  return `~${randomUUID()}`;
}

/** Outcome of {@link MembershipStore.add}. */
export type AddResult = 'ok' | 'RoomFull' | 'IdInUse';

/** A member as the store holds it. */
export interface MemberState {
  info: ParticipantInfo;
  enabled: boolean;
  /** This process has the member (its connection, or its hold): always, without a fleet. */
  here: boolean;
}

/** Outcome of {@link MembershipStore.resume}; `Stale`: the token was used already, or revoked by a goodbye. */
export type ResumeResult =
  | { result: 'resumed' | 'created'; changed: boolean; peers: ParticipantInfo[] }
  | { result: 'RoomFull' }
  | { result: 'Stale' };

/** What a resume presents and what it rotates to. */
export interface ResumeGrant {
  /** The generation and epoch the token names. */
  gen: string;
  epoch: string;
  /** The generation the reply's token names, stored when the resume succeeds. */
  next: string;
}

/** Options every store takes. */
export interface MembershipStoreOptions {
  /** How long a parked generation is kept: the resume token lifetime. */
  parkMs: number;
  /** How long after its epoch starts the store takes tokens of an earlier epoch: the resume grace. */
  restartWindowMs: number;
  /** How long a member is held for a resume once its connection dropped: the resume grace. */
  holdMs: number;
}

/** Outcome of {@link MembershipStore.hold}. */
export interface HoldResult {
  /** The enabled members to tell, when this member is enabled. */
  peers: string[];
  /** How long the hold has left: `holdMs`, or less for a member held already (a process that held it went). */
  leftMs: number;
  /**
   * True when another process of the fleet has the member now (it resumed there while a connection of this
   * process still stood for it): nothing was held, and nobody is to be told.
   */
  elsewhere?: boolean;
}

/**
 * Most generations a store keeps parked (one per member removed without a goodbye, for the token lifetime);
 * the oldest go first (their tokens then fail). A client that joins and drops its connection, as often as
 * the join limits allow, would otherwise add one for each, for a day.
 */
export const MAX_PARKED = 100_000;

/** A participant whose process died, adopted by this process: to hold for a resume, as a dropped connection. */
export interface LostMember {
  room: string;
  id: string;
}

/** Where room membership lives. Every method rejects when the store cannot be reached. */
export interface MembershipStore {
  /** False while the store cannot be used (Redis down). */
  readonly healthy: boolean;
  /** The store's epoch: new when its records start empty (a restarted process, a Redis that lost its data). */
  epoch(): Promise<string>;
  /**
   * Adds a participant unless the room already has `maxParticipants` (0: no cap) or the id is taken;
   * `gen` is the generation of its first resume token.
   */
  add(room: string, info: ParticipantInfo, maxParticipants: number, gen: string): Promise<AddResult>;
  /** The member, or undefined when it is not in the room. */
  get(room: string, id: string): Promise<MemberState | undefined>;
  /**
   * Marks the member messaging-enabled; returns the other enabled members, ordered by join time, but those
   * held for a resume (their connection dropped: nothing could reach them), and whether this changed
   * anything. Undefined when the member is gone.
   */
  enable(room: string, id: string): Promise<{ changed: boolean; peers: ParticipantInfo[] } | undefined>;
  /** Marks the member not enabled; when it was, returns the enabled members to tell. */
  disable(room: string, id: string): Promise<{ changed: boolean; peers: string[] }>;
  /**
   * Removes the member; when it was enabled, returns the enabled members to tell. With `park`, its
   * generation is kept so its latest token can bring it back; without (a goodbye), its tokens are dead.
   * In a fleet only while this process has the member: one that resumed on another process is that one's.
   */
  remove(room: string, id: string, park: boolean): Promise<{ existed: boolean; peers: string[] }>;
  /**
   * Takes a member back on this process, if `grant` names its current generation (or the one before while
   * it is held), or its parked one, or it is unknown to an epoch that began less than the restart window ago
   * and the token is of another (once per member). The record is added back when it is gone and the room has
   * room. Rotates the generation to `grant.next`, sets its messaging state (`changed` when that differs from
   * before, or the member is new and enabled) and returns the other enabled members, ordered by join time.
   */
  resume(
    room: string,
    info: ParticipantInfo,
    maxParticipants: number,
    enabled: boolean,
    grant: ResumeGrant,
  ): Promise<ResumeResult>;
  /**
   * Removes the member if this process still holds it (it did not resume elsewhere meanwhile), parking its
   * generation; when it was enabled, returns the enabled members to tell.
   */
  removeIfHeld(room: string, id: string): Promise<{ existed: boolean; peers: string[] }>;
  /**
   * Marks the member held (its connection dropped without a goodbye) for `holdMs`; a member held already (by
   * a process that died or handed it over since) keeps the end of its hold, so adoption never extends it.
   * A member that another process has now (it resumed there) is left as it is (`elsewhere`).
   */
  hold(room: string, id: string): Promise<HoldResult>;
  /** Called with the members of a dead process that this process adopted, to hold for a resume (fleets only). */
  onLost(listener: (lost: LostMember[]) => void): void;
  /** Called when the store dropped this process's members (it was taken for dead): its sockets must go. */
  onEvicted(listener: () => void): void;
  /**
   * Leaves this process's members to the rest of the fleet, as the process closes: they stay in their rooms,
   * and a surviving process adopts them at its next sweep, as it would those of a process that died (see
   * {@link onLost}), so their clients resume elsewhere with no leave seen. From here on the store only
   * closes. False when there is no fleet to take them (then nothing changed).
   */
  handOver(): Promise<boolean>;
  /** Releases the store's resources; this process's remaining members are removed (not after {@link handOver}). */
  close(): Promise<void>;
}

interface LocalMember extends Omit<MemberState, 'here'> {
  gen: string;
  /** The generation before `gen`, taken while the member is held. */
  prev: string | undefined;
  held: boolean;
  /** When its hold ends (while `held`). */
  holdEndsMs: number;
}

/** Membership of one process, in memory. */
export class LocalMembershipStore implements MembershipStore {
  readonly healthy = true;
  readonly #rooms = new Map<string, Map<string, LocalMember>>();
  readonly #epoch = randomUUID();
  readonly #startedAtMs = Date.now();
  readonly #o: MembershipStoreOptions;
  /** Generations of members removed without a goodbye, by {@link memberRef}, oldest first. */
  readonly #parked = new Map<string, { gen: string; untilMs: number }>();
  /** Members taken back with a token of an earlier epoch, during the restart window only. */
  readonly #adopted = new Set<string>();

  constructor(options: MembershipStoreOptions) {
    this.#o = options;
  }

  epoch(): Promise<string> {
    return Promise.resolve(this.#epoch);
  }

  add(room: string, info: ParticipantInfo, maxParticipants: number, gen: string): Promise<AddResult> {
    return Promise.resolve(this.#add(room, info, maxParticipants, gen));
  }

  #add(room: string, info: ParticipantInfo, maxParticipants: number, gen: string): AddResult {
    let members = this.#rooms.get(room);
    if (members?.has(info.id)) return 'IdInUse';
    if (maxParticipants > 0 && (members?.size ?? 0) >= maxParticipants) return 'RoomFull';
    if (members === undefined) this.#rooms.set(room, (members = new Map<string, LocalMember>()));
    members.set(info.id, { info, enabled: false, gen, prev: undefined, held: false, holdEndsMs: 0 });
    return 'ok';
  }

  get(room: string, id: string): Promise<MemberState | undefined> {
    const m = this.#rooms.get(room)?.get(id);
    return Promise.resolve(m === undefined ? undefined : { info: m.info, enabled: m.enabled, here: true });
  }

  enable(room: string, id: string): Promise<{ changed: boolean; peers: ParticipantInfo[] } | undefined> {
    const member = this.#rooms.get(room)?.get(id);
    if (member === undefined) return Promise.resolve(undefined);
    const changed = !member.enabled;
    member.enabled = true;
    const peers = this.#enabledOthers(room, id)
      .filter((m) => !m.held)
      .sort(byJoinTime)
      .map((m) => m.info);
    return Promise.resolve({ changed, peers });
  }

  disable(room: string, id: string): Promise<{ changed: boolean; peers: string[] }> {
    const member = this.#rooms.get(room)?.get(id);
    if (member === undefined || !member.enabled) return Promise.resolve({ changed: false, peers: [] });
    member.enabled = false;
    return Promise.resolve({ changed: true, peers: this.#enabledOthers(room, id).map((m) => m.info.id) });
  }

  remove(room: string, id: string, park: boolean): Promise<{ existed: boolean; peers: string[] }> {
    const members = this.#rooms.get(room);
    const member = members?.get(id);
    if (members === undefined || member === undefined) return Promise.resolve({ existed: false, peers: [] });
    members.delete(id);
    if (members.size === 0) this.#rooms.delete(room);
    if (park) this.#park(memberRef(room, id), member.gen);
    return Promise.resolve({
      existed: true,
      peers: member.enabled ? this.#enabledOthers(room, id).map((m) => m.info.id) : [],
    });
  }

  // No await inside: one step, so two resumes with one token cannot both pass the check.
  resume(
    room: string,
    info: ParticipantInfo,
    maxParticipants: number,
    enabled: boolean,
    grant: ResumeGrant,
  ): Promise<ResumeResult> {
    const ref = memberRef(room, info.id);
    let member = this.#rooms.get(room)?.get(info.id);
    let result: 'resumed' | 'created' = 'resumed';
    let prev = grant.gen;
    if (member !== undefined) {
      if (grant.gen !== member.gen && !(member.held && grant.gen === member.prev))
        return Promise.resolve({ result: 'Stale' });
      prev = member.gen;
    } else {
      const nowMs = Date.now();
      const parked = this.#parked.get(ref);
      const live = parked !== undefined && parked.untilMs > nowMs;
      if (live ? parked.gen !== grant.gen : !this.#adoptable(ref, grant.epoch, nowMs))
        return Promise.resolve({ result: 'Stale' });
      if (this.#add(room, info, maxParticipants, grant.next) === 'RoomFull')
        return Promise.resolve({ result: 'RoomFull' });
      if (live) this.#parked.delete(ref);
      else this.#adopted.add(ref);
      const added = this.#rooms.get(room)?.get(info.id);
      if (added === undefined) return Promise.resolve({ result: 'Stale' }); // cannot be: #add just put it there
      member = added;
      result = 'created';
    }
    // The record as the participant gives it now (its relay key may differ): what peer_enabled tells the
    // room, and what later enable lists and the relay's key check read.
    member.info = info;
    member.gen = grant.next;
    member.prev = prev;
    member.held = false;
    const changed = member.enabled !== enabled;
    member.enabled = enabled;
    return Promise.resolve({
      result,
      changed,
      peers: this.#enabledOthers(room, info.id)
        .sort(byJoinTime)
        .map((m) => m.info),
    });
  }

  removeIfHeld(room: string, id: string): Promise<{ existed: boolean; peers: string[] }> {
    // One process holds every member.
    return this.remove(room, id, true);
  }

  hold(room: string, id: string): Promise<HoldResult> {
    const member = this.#rooms.get(room)?.get(id);
    const nowMs = Date.now();
    if (member !== undefined && !member.held) {
      member.held = true;
      member.holdEndsMs = nowMs + this.#o.holdMs;
    }
    return Promise.resolve({
      peers: member?.enabled === true ? this.#enabledOthers(room, id).map((m) => m.info.id) : [],
      leftMs: member === undefined ? this.#o.holdMs : Math.max(0, member.holdEndsMs - nowMs),
    });
  }

  onLost(): void {
    // One process: nobody else can die holding members.
  }

  onEvicted(): void {
    // One process: nobody can take it for dead.
  }

  /** One process: nobody to hand its members to. */
  handOver(): Promise<boolean> {
    return Promise.resolve(false);
  }

  close(): Promise<void> {
    this.#rooms.clear();
    this.#parked.clear();
    this.#adopted.clear();
    return Promise.resolve();
  }

  /** A token of an earlier epoch, within the restart window, for a member not yet taken back that way. */
  #adoptable(ref: string, epoch: string, nowMs: number): boolean {
    if (nowMs - this.#startedAtMs > this.#o.restartWindowMs) {
      this.#adopted.clear();
      return false;
    }
    return epoch !== this.#epoch && !this.#adopted.has(ref);
  }

  #park(ref: string, gen: string): void {
    const nowMs = Date.now();
    this.#parked.delete(ref);
    // Oldest first: expired ones leave from the front, and past the cap the oldest go (their tokens fail).
    for (const [k, p] of this.#parked) {
      if (p.untilMs > nowMs && this.#parked.size < MAX_PARKED) break;
      this.#parked.delete(k);
    }
    this.#parked.set(ref, { gen, untilMs: nowMs + this.#o.parkMs });
  }

  #enabledOthers(room: string, id: string): LocalMember[] {
    const out: LocalMember[] = [];
    for (const m of this.#rooms.get(room)?.values() ?? []) if (m.enabled && m.info.id !== id) out.push(m);
    return out;
  }
}

/** One member of one room as a single string: ids never hold a newline, so the first one splits. */
export function memberRef(room: string, id: string): string {
  return `${id}\n${room}`;
}

/** Orders participants by join time, then id, so every store lists them alike. */
export function byJoinTime(
  a: { info: ParticipantInfo } | ParticipantInfo,
  b: { info: ParticipantInfo } | ParticipantInfo,
): number {
  const x = 'info' in a ? a.info : a;
  const y = 'info' in b ? b.info : b;
  return x.joinedAtMs - y.joinedAtMs || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}
