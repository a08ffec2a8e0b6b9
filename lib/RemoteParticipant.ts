import type { JsonObject } from './protocol/json.js';
import type { ParticipantInfo } from './protocol/signaling.js';
import type { LinkState } from './mesh/paths.js';

/** Another participant of the room, present while a session with it is up (direct or relayed) or `reconnecting`. */
export class RemoteParticipant {
  #id: string;
  /** Given by the signaling server; the participant cannot change it. */
  readonly name: string;
  /** When the participant joined the room, in server ms since the epoch. */
  readonly joinedAtMs: number;
  #attributes: Readonly<JsonObject>;
  #linkState: LinkState;

  /** Made by messaging when the participant becomes present. @internal */
  static create(info: ParticipantInfo, attributes: JsonObject, linkState: LinkState): RemoteParticipant {
    return new RemoteParticipant(info, attributes, linkState);
  }

  private constructor(info: ParticipantInfo, attributes: JsonObject, linkState: LinkState) {
    this.#linkState = linkState;
    this.#id = info.id;
    this.name = info.name;
    this.joinedAtMs = info.joinedAtMs;
    this.#attributes = Object.freeze({ ...attributes });
  }

  /**
   * Assigned by the signaling server. It changes only when the participant re-joined the server under a
   * new id (the server restarted and forgot it): messaging then emits `participant_id_changed`.
   */
  get id(): string {
    return this.#id;
  }

  /** The participant re-joined the signaling server as `id` (it said so on its data channel). @internal */
  rename(id: string): void {
    this.#id = id;
  }

  /**
   * How messages to and from the participant travel now: `direct`, `relayed` (through the signaling
   * server, sealed end to end) or `reconnecting` (its path broke; messages wait for a new one). Messaging
   * emits `participant_link_changed` when it changes.
   */
  get linkState(): LinkState {
    return this.#linkState;
  }

  /** The path changed. @internal */
  setLinkState(state: LinkState): void {
    this.#linkState = state;
  }

  /** The participant's own attributes, as it last announced them. */
  get attributes(): Readonly<JsonObject> {
    return this.#attributes;
  }

  /**
   * Replaces the attributes and returns the keys whose values changed (with their new values; removed keys map to null).
   * @internal
   */
  updateAttributes(next: JsonObject): JsonObject {
    const changed: JsonObject = {};
    const prev = this.#attributes;
    for (const key of Object.keys(next)) {
      if (JSON.stringify(prev[key]) !== JSON.stringify(next[key])) changed[key] = next[key] ?? null;
    }
    for (const key of Object.keys(prev)) if (!(key in next)) changed[key] = null;
    this.#attributes = Object.freeze({ ...next });
    return changed;
  }
}
