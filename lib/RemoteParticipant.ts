import type { JsonObject } from './protocol/json.js';
import type { ParticipantInfo } from './protocol/signaling.js';

/** Another participant of the room, present while a data channel to it is open. */
export class RemoteParticipant {
  #id: string;
  /** Given by the signaling server; the participant cannot change it. */
  readonly name: string;
  /** When the participant joined the room, in server ms since the epoch. */
  readonly joinedAtMs: number;
  #attributes: Readonly<JsonObject>;

  /** Made by messaging when the participant becomes present. @internal */
  static create(info: ParticipantInfo, attributes: JsonObject): RemoteParticipant {
    return new RemoteParticipant(info, attributes);
  }

  private constructor(info: ParticipantInfo, attributes: JsonObject) {
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
