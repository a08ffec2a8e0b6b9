/**
 * Data-channel frames: every byte roommesh puts on an RTCDataChannel is encoded and decoded here.
 *
 * Each frame is one RTCDataChannel message holding one CBOR item (RFC 8949, no record or
 * structured-clone extensions, byte strings untagged): an array whose first element is the
 * protocol version and whose second is the frame kind.
 *
 *   hello       [1, 0, { attributes: map }]                 first frame each side sends on open
 *   message     [1, 1, seq, type, payload]                  seq: uint, type: text, payload: map
 *               [1, 1, seq, type, payload, attachment]      attachment: byte string
 *   ack         [1, 2, seq]                                 cumulative: every message up to seq arrived
 *   attributes  [1, 3, { attributes: map }]                 the sender's full attribute set, after a change
 *   bye         [1, 4]                                      the sender disabled messaging; close follows
 *   ping        [1, 5]                                      heartbeat, sent when the link is otherwise idle
 *
 * docs/PROTOCOL.md describes the same layout in prose; test/unit/frames.test.ts checks both agree.
 */
import { Decoder, Encoder } from 'cbor-x';
import type { JsonObject } from './json.js';
import { MAX_JSON_DEPTH, checkJsonObject } from './json.js';

/** Version carried in every data-channel frame. A frame of another version is refused. */
export const FRAME_VERSION = 1;

/** Frame kinds, the second element of every frame. */
export const FrameKind = {
  Hello: 0,
  Message: 1,
  Ack: 2,
  Attributes: 3,
  Bye: 4,
  Ping: 5,
} as const;

/** A frame kind number. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Largest frame roommesh sends: the max-message-size every supported implementation accepts (256 KiB). */
export const MAX_FRAME_BYTES = 256 * 1024;

/** Longest message `type`, in UTF-16 code units. */
export const MAX_TYPE_LENGTH = 256;

/** Largest sequence number; seq counts messages per link direction and never wraps in practice. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** A decoded data-channel frame. */
export type Frame =
  | { kind: typeof FrameKind.Hello; attributes: JsonObject }
  | { kind: typeof FrameKind.Message; seq: number; type: string; payload: JsonObject; attachment?: Uint8Array }
  | { kind: typeof FrameKind.Ack; seq: number }
  | { kind: typeof FrameKind.Attributes; attributes: JsonObject }
  | { kind: typeof FrameKind.Bye }
  | { kind: typeof FrameKind.Ping };

/** Why a frame was refused by {@link decodeFrame}. */
export type FrameErrorReason = 'NotCbor' | 'NotAFrame' | 'UnsupportedVersion' | 'UnknownKind' | 'BadField' | 'TooLarge';

/** The result of decoding a frame that could not be accepted. */
export interface FrameDecodeError {
  error: FrameErrorReason;
  detail: string;
}

// Plain RFC 8949: no records, no structured clone, Uint8Array as an untagged byte string.
const encoder = new Encoder({ useRecords: false, structuredClone: false, tagUint8Array: false, pack: false });
const decoder = new Decoder({ useRecords: false, structuredClone: false, mapsAsObjects: true });

/** Encodes one frame. Throws only for a payload that is not CBOR-encodable, which callers validate first. */
export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.kind) {
    case FrameKind.Hello:
    case FrameKind.Attributes:
      return encoder.encode([FRAME_VERSION, frame.kind, { attributes: frame.attributes }]);
    case FrameKind.Message:
      return frame.attachment === undefined
        ? encoder.encode([FRAME_VERSION, frame.kind, frame.seq, frame.type, frame.payload])
        : encoder.encode([FRAME_VERSION, frame.kind, frame.seq, frame.type, frame.payload, frame.attachment]);
    case FrameKind.Ack:
      return encoder.encode([FRAME_VERSION, frame.kind, frame.seq]);
    case FrameKind.Bye:
    case FrameKind.Ping:
      return encoder.encode([FRAME_VERSION, frame.kind]);
  }
}

function fail(error: FrameErrorReason, detail: string): FrameDecodeError {
  return { error, detail };
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function toBytes(data: ArrayBuffer | ArrayBufferView | string): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/**
 * True when an array or object occurs twice in `v`. cbor-x resolves value-sharing (tags 28/29) and
 * packed-value (tags 51/6) references whatever the decoder options, so a few hundred bytes can decode
 * to a cycle or to a DAG that expands exponentially when walked. Frames carry trees only. The walk
 * stops below the depth checkJsonObject refuses anyway.
 */
function hasSharedValue(v: unknown, seen: Set<object>, depth: number): boolean {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || depth > MAX_JSON_DEPTH + 2) return false;
  if (seen.has(v)) return true;
  seen.add(v);
  for (const child of Array.isArray(v) ? v : Object.values(v)) {
    if (hasSharedValue(child, seen, depth + 1)) return true;
  }
  return false;
}

function decodeAttributes(kind: typeof FrameKind.Hello | typeof FrameKind.Attributes, body: unknown): Frame | FrameDecodeError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('BadField', 'body is not a map');
  const attributes = (body as { attributes?: unknown }).attributes;
  const problem = checkJsonObject(attributes, 'attributes');
  return problem === undefined ? { kind, attributes: attributes as JsonObject } : fail('BadField', problem);
}

/**
 * Decodes and validates one frame. Never throws: anything a peer could send that is not a valid
 * frame of this version comes back as a {@link FrameDecodeError}.
 */
export function decodeFrame(data: ArrayBuffer | ArrayBufferView | string): Frame | FrameDecodeError {
  const bytes = toBytes(data);
  if (bytes === undefined) return fail('NotAFrame', 'text message; frames are binary');
  if (bytes.byteLength > MAX_FRAME_BYTES) return fail('TooLarge', `${bytes.byteLength} bytes`);
  let item: unknown;
  try {
    item = decoder.decode(bytes);
  } catch (err) {
    return fail('NotCbor', err instanceof Error ? err.message : String(err));
  }
  if (!Array.isArray(item) || item.length < 2) return fail('NotAFrame', 'not an array of at least two items');
  if (hasSharedValue(item, new Set(), 0)) return fail('BadField', 'a value is shared or cyclic (CBOR value sharing is not allowed)');
  const [version, kind] = item as unknown[];
  if (version !== FRAME_VERSION) return fail('UnsupportedVersion', `version ${String(version)}`);
  switch (kind) {
    case FrameKind.Hello:
    case FrameKind.Attributes: {
      if (item.length !== 3) return fail('BadField', 'wrong length');
      return decodeAttributes(kind, item[2]);
    }
    case FrameKind.Message: {
      if (item.length !== 5 && item.length !== 6) return fail('BadField', 'wrong length');
      const [, , seq, type, payload, attachment] = item as unknown[];
      if (!isSeq(seq)) return fail('BadField', 'seq');
      if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) return fail('BadField', 'type');
      const problem = checkJsonObject(payload, 'payload');
      if (problem !== undefined) return fail('BadField', problem);
      if (item.length === 5) return { kind, seq, type, payload: payload as JsonObject };
      if (!(attachment instanceof Uint8Array)) return fail('BadField', 'attachment is not a byte string');
      return { kind, seq, type, payload: payload as JsonObject, attachment };
    }
    case FrameKind.Ack: {
      if (item.length !== 3 || !isSeq(item[2])) return fail('BadField', 'seq');
      return { kind, seq: item[2] };
    }
    case FrameKind.Bye:
    case FrameKind.Ping:
      if (item.length !== 2) return fail('BadField', 'wrong length');
      return { kind };
    default:
      return fail('UnknownKind', `kind ${String(kind)}`);
  }
}

/** True when {@link decodeFrame} refused the frame. */
export function isFrameError(v: Frame | FrameDecodeError): v is FrameDecodeError {
  return 'error' in v;
}
