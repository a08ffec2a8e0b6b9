import type { ParticipantInfo } from '../lib/protocol/signaling.js';

/** A participant as the server holds it. */
export interface Member<S> {
  info: ParticipantInfo;
  room: string;
  /** Where to send this participant's events. */
  socket: S;
  messagingEnabled: boolean;
}

/**
 * Room membership in one process: who is in which room and who has messaging enabled.
 * Pure bookkeeping, no I/O; the server decides what to send.
 */
export class RoomRegistry<S> {
  readonly #rooms = new Map<string, Map<string, Member<S>>>();

  /** Number of rooms with at least one participant. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Number of participants in all rooms. */
  get participantCount(): number {
    let n = 0;
    for (const members of this.#rooms.values()) n += members.size;
    return n;
  }

  /** Adds a participant to a room. */
  add(member: Member<S>): void {
    let members = this.#rooms.get(member.room);
    if (members === undefined) this.#rooms.set(member.room, (members = new Map()));
    members.set(member.info.id, member);
  }

  /** Removes a participant; the room goes when its last participant does. */
  remove(member: Member<S>): void {
    const members = this.#rooms.get(member.room);
    if (members === undefined) return;
    members.delete(member.info.id);
    if (members.size === 0) this.#rooms.delete(member.room);
  }

  /** The participant with this id in this room. */
  get(room: string, id: string): Member<S> | undefined {
    return this.#rooms.get(room)?.get(id);
  }

  /** The other participants of the member's room that have messaging enabled. */
  enabledPeersOf(member: Member<S>): Array<Member<S>> {
    const out: Array<Member<S>> = [];
    for (const m of this.#rooms.get(member.room)?.values() ?? []) {
      if (m !== member && m.messagingEnabled) out.push(m);
    }
    return out;
  }
}
