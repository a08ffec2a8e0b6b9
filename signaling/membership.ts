/**
 * Room membership: who is in which room and who has messaging enabled. Records are kept apart from live
 * sockets (the server reaches a participant through the socket.io room named by {@link participantRoom},
 * on whichever process holds it), so a member can outlive its socket and be removed by one call.
 *
 * Two implementations: {@link LocalMembershipStore} (one process) and RedisMembershipStore (a fleet).
 * Every operation that must be atomic (the room cap, enabling) is one step of the store.
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
}

/** Outcome of {@link MembershipStore.resume}. */
export type ResumeResult =
  | { result: 'resumed' | 'created'; changed: boolean; peers: ParticipantInfo[] }
  | { result: 'RoomFull' };

/** Participants whose process died, removed by the store; `peers` are the enabled members left to tell. */
export interface LostMember {
  room: string;
  id: string;
  peers: string[];
}

/** Where room membership lives. Every method rejects when the store cannot be reached. */
export interface MembershipStore {
  /** False while the store cannot be used (Redis down). */
  readonly healthy: boolean;
  /** Adds a participant unless the room already has `maxParticipants` (0: no cap) or the id is taken. */
  add(room: string, info: ParticipantInfo, maxParticipants: number): Promise<AddResult>;
  /** The member, or undefined when it is not in the room. */
  get(room: string, id: string): Promise<MemberState | undefined>;
  /**
   * Marks the member messaging-enabled; returns the other enabled members, ordered by join time, and
   * whether this changed anything. Undefined when the member is gone.
   */
  enable(room: string, id: string): Promise<{ changed: boolean; peers: ParticipantInfo[] } | undefined>;
  /** Marks the member not enabled; when it was, returns the enabled members to tell. */
  disable(room: string, id: string): Promise<{ changed: boolean; peers: string[] }>;
  /** Removes the member; when it was enabled, returns the enabled members to tell. */
  remove(room: string, id: string): Promise<{ existed: boolean; peers: string[] }>;
  /**
   * Takes a member back after its connection dropped, on this process: the existing record, or a new one
   * with the same id when it is gone (a restarted server) and the room has room. Sets its messaging state
   * (`changed` when that differs from before, or the member is new and enabled) and returns the other
   * enabled members, ordered by join time.
   */
  resume(room: string, info: ParticipantInfo, maxParticipants: number, enabled: boolean): Promise<ResumeResult>;
  /**
   * Removes the member if this process still holds it (it did not resume elsewhere meanwhile); when it
   * was enabled, returns the enabled members to tell.
   */
  removeIfHeld(room: string, id: string): Promise<{ existed: boolean; peers: string[] }>;
  /** The other enabled members, when this member is enabled; none otherwise. */
  enabledPeers(room: string, id: string): Promise<string[]>;
  /** Called with members another process held when that process died (fleets only). */
  onLost(listener: (lost: LostMember[]) => void): void;
  /** Called when the store dropped this process's members (it was taken for dead): its sockets must go. */
  onEvicted(listener: () => void): void;
  /** Releases the store's resources; this process's remaining members are removed. */
  close(): Promise<void>;
}

type LocalMember = MemberState;

/** Membership of one process, in memory. */
export class LocalMembershipStore implements MembershipStore {
  readonly healthy = true;
  readonly #rooms = new Map<string, Map<string, LocalMember>>();

  add(room: string, info: ParticipantInfo, maxParticipants: number): Promise<AddResult> {
    let members = this.#rooms.get(room);
    if (members?.has(info.id)) return Promise.resolve('IdInUse');
    if (maxParticipants > 0 && (members?.size ?? 0) >= maxParticipants) return Promise.resolve('RoomFull');
    if (members === undefined) this.#rooms.set(room, (members = new Map()));
    members.set(info.id, { info, enabled: false });
    return Promise.resolve('ok');
  }

  get(room: string, id: string): Promise<MemberState | undefined> {
    const m = this.#rooms.get(room)?.get(id);
    return Promise.resolve(m === undefined ? undefined : { info: m.info, enabled: m.enabled });
  }

  enable(room: string, id: string): Promise<{ changed: boolean; peers: ParticipantInfo[] } | undefined> {
    const member = this.#rooms.get(room)?.get(id);
    if (member === undefined) return Promise.resolve(undefined);
    const changed = !member.enabled;
    member.enabled = true;
    const peers = this.#enabledOthers(room, id).sort(byJoinTime).map((m) => m.info);
    return Promise.resolve({ changed, peers });
  }

  disable(room: string, id: string): Promise<{ changed: boolean; peers: string[] }> {
    const member = this.#rooms.get(room)?.get(id);
    if (member === undefined || !member.enabled) return Promise.resolve({ changed: false, peers: [] });
    member.enabled = false;
    return Promise.resolve({ changed: true, peers: this.#enabledOthers(room, id).map((m) => m.info.id) });
  }

  remove(room: string, id: string): Promise<{ existed: boolean; peers: string[] }> {
    const members = this.#rooms.get(room);
    const member = members?.get(id);
    if (members === undefined || member === undefined) return Promise.resolve({ existed: false, peers: [] });
    members.delete(id);
    if (members.size === 0) this.#rooms.delete(room);
    return Promise.resolve({ existed: true, peers: member.enabled ? this.#enabledOthers(room, id).map((m) => m.info.id) : [] });
  }

  async resume(room: string, info: ParticipantInfo, maxParticipants: number, enabled: boolean): Promise<ResumeResult> {
    let member = this.#rooms.get(room)?.get(info.id);
    let result: 'resumed' | 'created' = 'resumed';
    if (member === undefined) {
      const added = await this.add(room, info, maxParticipants);
      if (added === 'RoomFull') return { result: 'RoomFull' };
      member = this.#rooms.get(room)?.get(info.id) as LocalMember;
      result = 'created';
    }
    const changed = member.enabled !== enabled;
    member.enabled = enabled;
    return { result, changed, peers: this.#enabledOthers(room, info.id).sort(byJoinTime).map((m) => m.info) };
  }

  removeIfHeld(room: string, id: string): Promise<{ existed: boolean; peers: string[] }> {
    // One process holds every member.
    return this.remove(room, id);
  }

  enabledPeers(room: string, id: string): Promise<string[]> {
    const member = this.#rooms.get(room)?.get(id);
    return Promise.resolve(member?.enabled === true ? this.#enabledOthers(room, id).map((m) => m.info.id) : []);
  }

  onLost(): void {
    // One process: nobody else can die holding members.
  }

  onEvicted(): void {
    // One process: nobody can take it for dead.
  }

  close(): Promise<void> {
    this.#rooms.clear();
    return Promise.resolve();
  }

  #enabledOthers(room: string, id: string): LocalMember[] {
    const out: LocalMember[] = [];
    for (const m of this.#rooms.get(room)?.values() ?? []) if (m.enabled && m.info.id !== id) out.push(m);
    return out;
  }
}

/** Orders participants by join time, then id, so every store lists them alike. */
export function byJoinTime(a: { info: ParticipantInfo } | ParticipantInfo, b: { info: ParticipantInfo } | ParticipantInfo): number {
  const x = 'info' in a ? a.info : a;
  const y = 'info' in b ? b.info : b;
  return x.joinedAtMs - y.joinedAtMs || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}
