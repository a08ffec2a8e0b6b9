import { ConnectionError, InvalidArgumentError } from './errors.js';
import type { JsonObject, JsonValue } from './protocol/json.js';
import { checkJsonObject } from './protocol/json.js';
import type { ParticipantInfo } from './protocol/signaling.js';

/** Largest attribute set, as JSON text. Attributes travel in every hello frame, so they stay small. */
export const MAX_ATTRIBUTES_BYTES = 16 * 1024;

/** Checks an attribute set; throws {@link InvalidArgumentError} when it is unusable. @internal */
export function checkAttributes(attributes: unknown, what: string): JsonObject {
  const problem = checkJsonObject(attributes, 'attributes');
  if (problem !== undefined) throw new InvalidArgumentError(`${what} ${problem}`);
  // In bytes of UTF-8, as they travel (a length in UTF-16 units let 18 KB of '€' through).
  const size = new TextEncoder().encode(JSON.stringify(attributes)).byteLength;
  if (size > MAX_ATTRIBUTES_BYTES)
    throw new InvalidArgumentError(
      `${what} attributes are ${size} bytes as JSON; the largest is ${MAX_ATTRIBUTES_BYTES}`,
    );
  return attributes as JsonObject;
}

/** This participant: its server-assigned id and name, and its own attributes. */
export class LocalParticipant {
  #id: string;
  /** Given by the signaling server (from the join request, or from the token when auth is on). */
  readonly name: string;
  /** When this participant joined the room, in server ms since the epoch. */
  readonly joinedAtMs: number;
  #attributes: Readonly<JsonObject>;
  readonly #onChange: (attributes: JsonObject) => void;
  /** The room disconnected: nobody would hear of a change any more. */
  #left = false;

  /** Made by its Room: a private constructor, so that the published declarations forbid `new`. @internal */
  static create(
    info: ParticipantInfo,
    attributes: JsonObject,
    onChange: (attributes: JsonObject) => void,
  ): LocalParticipant {
    return new LocalParticipant(info, attributes, onChange);
  }

  private constructor(info: ParticipantInfo, attributes: JsonObject, onChange: (attributes: JsonObject) => void) {
    this.#id = info.id;
    this.name = info.name;
    this.joinedAtMs = info.joinedAtMs;
    this.#attributes = Object.freeze({ ...attributes });
    this.#onChange = onChange;
  }

  /**
   * Assigned by the signaling server. It changes only when this participant re-joined the server under a
   * new id (the server restarted and forgot it): the room then emits `signaling_rejoined`.
   */
  get id(): string {
    return this.#id;
  }

  /** The room disconnected: setAttributes() throws from now on. @internal */
  leave(): void {
    this.#left = true;
  }

  /** This participant re-joined the signaling server as `id`. @internal */
  rename(id: string): void {
    this.#id = id;
  }

  /** This participant's attributes. */
  get attributes(): Readonly<JsonObject> {
    return this.#attributes;
  }

  /**
   * Merges `changes` into the attributes and tells every present participant, who gets
   * `participant_attributes_updated`. A key set to `undefined` is removed. Throws {@link ConnectionError}
   * (`Disconnected`) once the room has disconnected, and leaves the attributes as they were.
   * @example room.localParticipant.setAttributes({ status: 'busy' });
   */
  setAttributes(changes: { [key: string]: JsonValue | undefined }): void {
    if (this.#left) throw ConnectionError.disconnected('setAttributes');
    if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
      throw new InvalidArgumentError('setAttributes: expected an object of attributes');
    }
    const next: { [key: string]: JsonValue | undefined } = { ...this.#attributes, ...changes };
    for (const key of Object.keys(next)) if (next[key] === undefined) delete next[key];
    const checked = checkAttributes(next, 'setAttributes:');
    this.#attributes = Object.freeze({ ...checked });
    this.#onChange(checked);
  }
}
