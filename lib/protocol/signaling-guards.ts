/** What the signaling validators share: their result type and the guards of the fields they check. */
import { isWellFormedText } from './json.js';
import { MAX_NAME_LENGTH, MAX_RELAY_KEY_LENGTH } from './signaling.js';

/** A validation result: the typed value, or a sentence for the client. */
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** A plain record (an object, not null, not an array) whose fields can be read. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A relay key: non-empty base64url of at most {@link MAX_RELAY_KEY_LENGTH} characters. */
export function isRelayKey(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_RELAY_KEY_LENGTH && /^[A-Za-z0-9_-]+$/.test(v);
}

/**
 * A room name, participant name or participant id: not blank, at most {@link MAX_NAME_LENGTH} UTF-16 code
 * units (JavaScript's `length`), well-formed Unicode. Well-formed because such names travel as UTF-8 (in
 * Redis keys, CBOR, logs), where two names differing only in an unpaired surrogate would become one.
 */
export function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_NAME_LENGTH && v.trim().length > 0 && isWellFormedText(v);
}

/** Bytes as Node and socket.io hand them over (a Uint8Array or a Buffer). */
export function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}
