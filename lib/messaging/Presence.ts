/** Who is present, in the order they became present, and the messaging events their comings and goings make. */
import type { MessagingEvents } from '../events.js';
import type { Logger } from '../logger.js';
import type { LinkState } from '../mesh/paths.js';
import type { JsonObject } from '../protocol/json.js';
import { RemoteParticipant } from '../RemoteParticipant.js';
import type { Session } from '../session/Session.js';
import type { MessageMap, MessageMapOf } from '../types.js';
import type { Emit } from '../util/TypedEmitter.js';

/** A present participant and the session that carries its messages. @internal */
export interface Present {
  readonly participant: RemoteParticipant;
  readonly session: Session;
}

/** What a {@link Presence} is built from. @internal */
export interface PresenceDeps<M extends MessageMapOf<M>> {
  /** Emits an event of `room.messaging`. */
  emit: Emit<MessagingEvents<M>>;
  /** Starts hearing the messages of a participant as it becomes present (before `participant_added`). */
  hear: (session: Session, participant: RemoteParticipant) => void;
  logger: Logger;
}

/**
 * The present participants, by id: the mesh's `participant_up`, `participant_down`, `participant_moved` and
 * `link_state` come in through `handle…` methods and go out as the events of `room.messaging`.
 * @internal
 */
export class Presence<M extends MessageMapOf<M> = MessageMap> {
  readonly #deps: PresenceDeps<M>;
  /** Present participants, in the order they became present. */
  readonly #present = new Map<string, Present>();

  constructor(deps: PresenceDeps<M>) {
    this.#deps = deps;
  }

  /** How many participants are present. */
  get size(): number {
    return this.#present.size;
  }

  /** The present participants, in the order they became present. */
  participants(): RemoteParticipant[] {
    return [...this.#present.values()].map((p) => p.participant);
  }

  /** Each present participant's id with it and its session, in the order they became present. */
  entries(): IterableIterator<[string, Present]> {
    return this.#present.entries();
  }

  /** The present participant with this id, and its session. */
  get(id: string): Present | undefined {
    return this.#present.get(id);
  }

  /** The present participant with this name; the one that joined the room first when names repeat. */
  byName(name: string): RemoteParticipant | undefined {
    let best: RemoteParticipant | undefined;
    for (const { participant: p } of this.#present.values()) {
      if (p.name !== name) continue;
      if (best === undefined || p.joinedAtMs < best.joinedAtMs || (p.joinedAtMs === best.joinedAtMs && p.id < best.id))
        best = p;
    }
    return best;
  }

  /**
   * A participant's session has its hello: it is present. A new session of a participant present on
   * another (the peer ended its side and dialed again while this side's was still up: after a stall
   * longer than the heartbeat timeout here) carries the same presence: same object, no
   * `participant_added`; changed attributes and link state are told as changes. Returns the session it
   * replaced, whose requests can no longer be answered.
   */
  handleUp(session: Session, attributes: JsonObject, state: LinkState): Session | undefined {
    const info = session.participant;
    const before = this.#present.get(info.id);
    if (before !== undefined && before.session !== session) {
      const { participant } = before;
      this.#present.set(info.id, { participant, session }); // keeps its place in the order
      this.#listen(session, participant);
      this.#deps.logger.info({ participant: info.id }, 'participant present on a new session');
      const changed = participant.updateAttributes(attributes);
      if (Object.keys(changed).length > 0) this.#deps.emit('participant_attributes_updated', participant, changed);
      if (participant.linkState !== state) {
        participant.setLinkState(state);
        this.#deps.emit('participant_link_changed', participant, state);
      }
      return before.session;
    }
    const participant = RemoteParticipant.create(info, attributes, state);
    this.#present.set(info.id, { participant, session });
    this.#listen(session, participant);
    this.#deps.logger.info({ participant: info.id, name: participant.name }, 'participant present');
    this.#deps.emit('participant_added', participant);
    return undefined;
  }

  /** Hears `session`'s messages and attribute changes as `participant`'s. */
  #listen(session: Session, participant: RemoteParticipant): void {
    this.#deps.hear(session, participant);
    session.on('attributes', (next) => {
      const changed = participant.updateAttributes(next);
      if (Object.keys(changed).length > 0) this.#deps.emit('participant_attributes_updated', participant, changed);
    });
  }

  /** The path to a present participant changed. */
  handleLinkState(session: Session, state: LinkState): void {
    const present = this.#present.get(session.participant.id);
    if (present?.session !== session || present.participant.linkState === state) return;
    present.participant.setLinkState(state);
    this.#deps.emit('participant_link_changed', present.participant, state);
  }

  /** A present participant re-joined the server as a new id: same session, same object, new key. */
  handleMoved(session: Session, previousId: string): void {
    const present = this.#present.get(previousId);
    if (present?.session !== session) return;
    const id = session.participant.id;
    // Re-inserted at its place in the order of presence.
    const entries = [...this.#present.entries()].map(([k, v]): [string, Present] => [k === previousId ? id : k, v]);
    this.#present.clear();
    for (const [k, v] of entries) this.#present.set(k, v);
    present.participant.rename(id);
    this.#deps.logger.info({ participant: id, previousId }, 'participant re-joined the server under a new id');
    this.#deps.emit('participant_id_changed', present.participant, previousId);
  }

  /** A session that was up closed: its participant is not present (unless a newer session carries it). */
  handleDown(session: Session, reason: string): void {
    const id = session.participant.id;
    const present = this.#present.get(id);
    if (present?.session !== session) return;
    this.#present.delete(id);
    this.#deps.logger.info({ participant: id, reason }, 'participant removed');
    this.#deps.emit('participant_removed', present.participant);
  }
}
