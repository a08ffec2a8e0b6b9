/**
 * Data-channel frames: every byte roommesh puts on an RTCDataChannel is encoded and decoded here.
 *
 * Each frame is one CBOR item (RFC 8949) of the subset cbor-subset.ts checks: no tags, definite lengths,
 * text map keys, byte strings untagged: an array whose first element is the protocol version and whose second is the frame kind.
 * One RTCDataChannel message holds one or more frames back to back (a CBOR sequence, RFC 8742): a
 * sender coalesces the small frames it writes in one turn of its event loop.
 *
 *   hello       [1, 0, { attributes: map,                   first frame each side sends on open; the limits are
 *                        maxAttachmentBytes: uint,          what the sender of the hello accepts
 *                        maxFrameBytes: uint }]
 *   message     [1, 1, seq, type, payload]                  a whole message in one frame; seq: uint, type: text,
 *               [1, 1, seq, type, payload, attachment]      payload: map, attachment: byte string
 *   ack         [1, 2, seq]                                 every message up to seq arrived whole
 *               [1, 2, seq, [seq, ...]]                     ... except these, whose attachments are still arriving
 *   attributes  [1, 3, { attributes: map }]                 the sender's full attribute set, after a change
 *   bye         [1, 4]                                      the sender disabled messaging; close follows
 *   ping        [1, 5]                                      heartbeat, sent when the link is otherwise idle
 *   start       [1, 6, seq, type, payload, totalBytes]      a message whose attachment follows in chunks
 *   chunk       [1, 7, seq, offset, bytes]                  the attachment bytes of message seq at offset
 *   cancel      [1, 8, seq]                                 the sender dropped its message seq; forget it
 *   refuse      [1, 9, seq, reason]                         the receiver refused message seq; stop sending it
 *   moved       [1, 10, id]                                 the sender has a new participant id on the server
 *   (call)      [type, 0, id]                               in place of a message's or start's type: a request
 *               [type, 1, id]                               ... the reply to the sender's request id
 *               [type, 2, id, reason, text]                 ... request id failed; payload {}, reason: text
 *
 * A request or a reply is a message (whole, or start + chunks) whose type is a call: an array of the
 * type, the call kind and the request id. Request ids count per direction of a link (1, 2, 3, ...); a
 * reply carries the id of the request it answers and the request's type.
 * Every message takes the next seq (1, 2, 3, ... per direction of a link), whether it is sent whole
 * or as start + chunks, or cancelled before it left. At most {@link MAX_CONCURRENT_TRANSFERS} started
 * messages may be incomplete at once; chunks of different messages interleave.
 *
 * docs/PROTOCOL.md describes the same layout in prose; test/unit/protocol-doc.test.ts checks both agree.
 */
import { Decoder, Encoder } from 'cbor-x';
import { scanCborSequence } from './cbor-subset.js';
import type { JsonObject } from './json.js';
import { checkJsonObject } from './json.js';

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
  Start: 6,
  Chunk: 7,
  Cancel: 8,
  Refuse: 9,
  Moved: 10,
} as const;

/** A frame kind number. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Largest frame roommesh accepts or sends: the max-message-size every supported implementation accepts (256 KiB). */
export const MAX_FRAME_BYTES = 256 * 1024;

/**
 * Smallest `maxFrameBytes` a hello may announce: 16 KiB, which every WebRTC implementation takes. Lower, one
 * participant could make every broadcast of more than a little JSON fail for everyone.
 */
export const MIN_FRAME_BYTES = 16 * 1024;

/**
 * Size of the chunk frames an attachment is cut into, unless the receiver's hello or the channel allows
 * less. Chosen by measurement (bench/frame-size): see docs/PROTOCOL.md.
 */
export const CHUNK_FRAME_BYTES = 64 * 1024;

/** Most bytes a chunk frame adds around its attachment bytes (array head, version, kind, seq, offset, length). */
export const CHUNK_OVERHEAD_BYTES = 32;

/** Protocol errors a receiver tolerates from one peer before it closes the link. */
export const MAX_PROTOCOL_ERRORS = 32;

/** Most started messages one side of a link may have incomplete at once. */
export const MAX_CONCURRENT_TRANSFERS = 4;

/** Longest message `type`, in UTF-16 code units. */
export const MAX_TYPE_LENGTH = 256;

/** Longest `reason` of a refuse frame. */
export const MAX_REASON_LENGTH = 64;

/** Longest participant id a moved frame may carry (the signaling protocol's `MAX_NAME_LENGTH`). */
export const MAX_MOVED_ID_LENGTH = 128;

/** Longest `text` of a failed reply (the message of the handler's error, truncated by the sender). */
export const MAX_CALL_TEXT_LENGTH = 1024;

/** Call kinds: the second element of a call, which stands in a message's or start's `type` slot. */
export const CallKind = {
  Request: 0,
  Reply: 1,
  Failure: 2,
} as const;

/** Why a request failed at the peer (the `reason` of a failed reply). Receivers treat other strings as `HandlerFailed`. */
export type CallFailureReason = 'NoHandler' | 'HandlerFailed' | 'Busy';

/**
 * What makes a message a request or a reply: a request asks for a reply carrying its `id`; a reply answers
 * the request `id` of its recipient, with its payload (`Reply`) or with why it failed (`Failure`).
 */
export type Call =
  | { kind: typeof CallKind.Request; id: number }
  | { kind: typeof CallKind.Reply; id: number }
  | { kind: typeof CallKind.Failure; id: number; reason: string; text: string };

/** Largest sequence number, offset or size; seq counts messages per link direction and never wraps in practice. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Why a receiver refused a message (the `reason` of a refuse frame). Receivers may send other strings; treat them as `Invalid`. */
export type RefuseReason = 'TooLarge' | 'TooManyTransfers' | 'Invalid' | 'NoMemory' | 'Stalled';

/** A decoded data-channel frame. */
export type Frame =
  | { kind: typeof FrameKind.Hello; attributes: JsonObject; maxAttachmentBytes: number; maxFrameBytes: number }
  | {
      kind: typeof FrameKind.Message;
      seq: number;
      type: string;
      payload: JsonObject;
      attachment?: Uint8Array;
      call?: Call;
    }
  | { kind: typeof FrameKind.Ack; seq: number; incomplete: number[] }
  | { kind: typeof FrameKind.Attributes; attributes: JsonObject }
  | { kind: typeof FrameKind.Bye }
  | { kind: typeof FrameKind.Ping }
  | { kind: typeof FrameKind.Start; seq: number; type: string; payload: JsonObject; totalBytes: number; call?: Call }
  | { kind: typeof FrameKind.Chunk; seq: number; offset: number; bytes: Uint8Array }
  | { kind: typeof FrameKind.Cancel; seq: number }
  | { kind: typeof FrameKind.Refuse; seq: number; reason: string }
  | { kind: typeof FrameKind.Moved; id: string };

/** The frame of one kind. */
export type FrameOf<K extends FrameKind> = Extract<Frame, { kind: K }>;

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
      return encoder.encode([
        FRAME_VERSION,
        frame.kind,
        {
          attributes: frame.attributes,
          maxAttachmentBytes: frame.maxAttachmentBytes,
          maxFrameBytes: frame.maxFrameBytes,
        },
      ]);
    case FrameKind.Attributes:
      return encoder.encode([FRAME_VERSION, frame.kind, { attributes: frame.attributes }]);
    case FrameKind.Message:
      return encodeMessageFrame(frame.seq, encodeMessageBody(frame.type, frame.payload, frame.call), frame.attachment);
    case FrameKind.Ack:
      return frame.incomplete.length === 0
        ? encoder.encode([FRAME_VERSION, frame.kind, frame.seq])
        : encoder.encode([FRAME_VERSION, frame.kind, frame.seq, frame.incomplete]);
    case FrameKind.Bye:
    case FrameKind.Ping:
      return encoder.encode([FRAME_VERSION, frame.kind]);
    case FrameKind.Start:
      return encodeStartFrame(frame.seq, encodeMessageBody(frame.type, frame.payload, frame.call), frame.totalBytes);
    case FrameKind.Chunk:
      return encodeChunk(frame.seq, frame.offset, frame.bytes, 0, frame.bytes.byteLength);
    case FrameKind.Cancel:
      return encoder.encode([FRAME_VERSION, frame.kind, frame.seq]);
    case FrameKind.Refuse:
      return encoder.encode([FRAME_VERSION, frame.kind, frame.seq, frame.reason]);
    case FrameKind.Moved:
      return encoder.encode([FRAME_VERSION, frame.kind, frame.id]);
  }
}

/** Writes `n` as a big-endian unsigned integer of `bytes` bytes at `at` (no DataView: one per frame cost more). */
function writeUint(out: Uint8Array, at: number, bytes: number, n: number): void {
  for (let i = bytes - 1; i >= 0; i--) {
    out[at + i] = n % 0x100;
    n = Math.floor(n / 0x100);
  }
}

/** Writes a CBOR head (major type, argument) in its shortest form at `at`; returns the position after it. */
function writeHead(out: Uint8Array, at: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) {
    out[at] = m | n;
    return at + 1;
  }
  const size = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 4 : 8;
  out[at] = m | (size === 1 ? 24 : size === 2 ? 25 : size === 4 ? 26 : 27);
  writeUint(out, at + 1, size, n);
  return at + 1 + size;
}

/** Bytes of the shortest CBOR head for argument `n`. */
function headBytes(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

/**
 * A message's `type` (or, for a request or reply, its call) and `payload` as CBOR, back to back: the part
 * of its message or start frame that is the same for every recipient and every seq. A message is encoded
 * once, however many frames carry it.
 */
export function encodeMessageBody(type: string, payload: JsonObject, call?: Call): Uint8Array {
  // One encoder call for both items: [type, payload] without its one-byte array head.
  return encoder.encode([call === undefined ? type : callItem(type, call), payload]).subarray(1);
}

/**
 * A message's type (or call) and payload, encoded once however many frames carry it: the first whole
 * message frame comes straight from the encoder, as any frame does, and the body is taken from it (or
 * encoded alone when a size is needed first); every other frame is a seq head around that body.
 */
export class MessageBody {
  readonly #typeItem: string | unknown[];
  readonly #payload: JsonObject;
  #bytes: Uint8Array | undefined;

  constructor(type: string, payload: JsonObject, call?: Call) {
    this.#typeItem = call === undefined ? type : callItem(type, call);
    this.#payload = payload;
  }

  /** The type and payload as CBOR, back to back (what {@link encodeMessageBody} returns). */
  get bytes(): Uint8Array {
    if (this.#bytes !== undefined) return this.#bytes;
    const bytes: Uint8Array = encoder.encode([this.#typeItem, this.#payload]).subarray(1);
    this.#bytes = bytes;
    return bytes;
  }

  /** The message frame `[1, 1, seq, type, payload]`, without attachment. */
  messageFrame(seq: number): Uint8Array {
    if (this.#bytes !== undefined) return encodeMessageFrame(seq, this.#bytes);
    const frame = encoder.encode([FRAME_VERSION, FrameKind.Message, seq, this.#typeItem, this.#payload]);
    // The array head, version and kind take a byte each; then seq's head, as headBytes counts it (cbor-x
    // writes seq from 2^32 up as a 9-byte float64, the same length).
    this.#bytes = frame.subarray(3 + headBytes(seq));
    return frame;
  }
}

function callItem(type: string, call: Call): unknown[] {
  return call.kind === CallKind.Failure
    ? [type, call.kind, call.id, call.reason, call.text]
    : [type, call.kind, call.id];
}

/** The size of the message frame {@link encodeMessageFrame} writes, without writing it. */
export function messageFrameBytes(seq: number, body: Uint8Array, attachmentBytes?: number): number {
  const tail = attachmentBytes === undefined ? 0 : headBytes(attachmentBytes) + attachmentBytes;
  return 3 + headBytes(seq) + body.byteLength + tail;
}

/** Encodes the message frame `[1, 1, seq, type, payload(, attachment)]` around a {@link encodeMessageBody} body. */
export function encodeMessageFrame(seq: number, body: Uint8Array, attachment?: Uint8Array): Uint8Array {
  const out = new Uint8Array(messageFrameBytes(seq, body, attachment?.byteLength));
  out[0] = attachment === undefined ? 0x85 : 0x86; // array of 5 or 6
  out[1] = FRAME_VERSION;
  out[2] = FrameKind.Message;
  let at = writeHead(out, 3, 0, seq);
  out.set(body, at);
  at += body.byteLength;
  if (attachment !== undefined) {
    at = writeHead(out, at, 2, attachment.byteLength);
    out.set(attachment, at);
  }
  return out;
}

/** The size of the start frame {@link encodeStartFrame} writes, without writing it. */
export function startFrameBytes(seq: number, body: Uint8Array, totalBytes: number): number {
  return 3 + headBytes(seq) + body.byteLength + headBytes(totalBytes);
}

/** Encodes the start frame `[1, 6, seq, type, payload, totalBytes]` around a {@link encodeMessageBody} body. */
export function encodeStartFrame(seq: number, body: Uint8Array, totalBytes: number): Uint8Array {
  const out = new Uint8Array(startFrameBytes(seq, body, totalBytes));
  out[0] = 0x86; // array of 6
  out[1] = FRAME_VERSION;
  out[2] = FrameKind.Start;
  const at = writeHead(out, 3, 0, seq);
  out.set(body, at);
  writeHead(out, at + body.byteLength, 0, totalBytes);
  return out;
}

/**
 * Encodes the chunk frame `[1, 7, seq, offset, bytes]` with `bytes` = `source[start, end)`, copying the
 * bytes once, without building the array or growing the CBOR encoder's shared buffer for every 64 KiB of
 * attachment. Into `into` when it is large enough (a buffer the caller reuses, once the frame is sent),
 * else into a new buffer. Heads are shortest-form: byte for byte what
 * cbor-x writes below 2^32 (a unit test pins this); from 2^32 it writes 64-bit integers where cbor-x
 * writes float64, and the decoder accepts both.
 */
export function encodeChunk(
  seq: number,
  offset: number,
  source: Uint8Array,
  start: number,
  end: number,
  into?: Uint8Array,
): Uint8Array {
  const length = end - start;
  const out =
    into !== undefined && into.byteLength >= CHUNK_OVERHEAD_BYTES + length
      ? into
      : new Uint8Array(CHUNK_OVERHEAD_BYTES + length);
  out[0] = 0x85; // array of 5
  out[1] = FRAME_VERSION;
  out[2] = FrameKind.Chunk;
  let at = writeHead(out, 3, 0, seq);
  at = writeHead(out, at, 0, offset);
  at = writeHead(out, at, 2, length);
  out.set(source.subarray(start, end), at);
  return out.subarray(0, at + length);
}

function fail(error: FrameErrorReason, detail: string): FrameDecodeError {
  return { error, detail };
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * A seq, offset or size as a number, or undefined. Values from 2^32 up arrive either as CBOR 64-bit
 * unsigned integers (which cbor-x decodes to BigInt) or as float64 holding an integer (which cbor-x
 * encodes for them); both are accepted up to {@link MAX_SEQ}.
 */
function uint(v: unknown): number | undefined {
  if (isSeq(v)) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(MAX_SEQ)) return Number(v);
  return undefined;
}

function toBytes(data: ArrayBuffer | ArrayBufferView | string): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function decodeHello(body: unknown): Frame | FrameDecodeError {
  if (!isMap(body)) return fail('BadField', 'body is not a map');
  const problem = checkJsonObject(body.attributes, 'attributes');
  if (problem !== undefined) return fail('BadField', problem);
  const { maxAttachmentBytes, maxFrameBytes } = body;
  if (!isSeq(maxAttachmentBytes)) return fail('BadField', 'maxAttachmentBytes');
  if (!isSeq(maxFrameBytes)) return fail('BadField', 'maxFrameBytes');
  if (maxFrameBytes < MIN_FRAME_BYTES)
    return fail('BadField', `maxFrameBytes ${maxFrameBytes} is below ${MIN_FRAME_BYTES}`);
  return { kind: FrameKind.Hello, attributes: body.attributes as JsonObject, maxAttachmentBytes, maxFrameBytes };
}

function decodeAttributes(body: unknown): Frame | FrameDecodeError {
  if (!isMap(body)) return fail('BadField', 'body is not a map');
  const problem = checkJsonObject(body.attributes, 'attributes');
  return problem === undefined
    ? { kind: FrameKind.Attributes, attributes: body.attributes as JsonObject }
    : fail('BadField', problem);
}

function isType(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_TYPE_LENGTH;
}

/** The head shared by message and start frames: seq, type (a text, or a call) and payload. */
interface Head {
  seq: number;
  type: string;
  payload: JsonObject;
  call?: Call;
}

/** Checks the seq, type (or call) and payload shared by message and start frames. */
function checkHead(seq: number | undefined, type: unknown, payload: unknown): Head | FrameDecodeError {
  if (seq === undefined) return fail('BadField', 'seq');
  const call = Array.isArray(type) ? decodeCall(type as unknown[]) : undefined;
  // A type slot that is neither a type nor a valid call is one error, whichever it tried to be.
  if (call === undefined && !isType(type)) return fail('BadField', 'type');
  const problem = checkJsonObject(payload, 'payload');
  if (problem !== undefined) return fail('BadField', problem);
  const head: Head = {
    seq,
    type: (call === undefined ? type : (type as unknown[])[0]) as string,
    payload: payload as JsonObject,
  };
  if (call !== undefined) head.call = call;
  return head;
}

/** A call `[type, kind, id(, reason, text)]`, with its type checked; undefined when it is none. */
function decodeCall(item: unknown[]): Call | undefined {
  const [type, kind, rawId, reason, text] = item;
  const id = uint(rawId);
  if (!isType(type) || id === undefined) return undefined;
  switch (kind) {
    case CallKind.Request:
    case CallKind.Reply:
      return item.length === 3 ? { kind, id } : undefined;
    case CallKind.Failure:
      if (item.length !== 5 || typeof reason !== 'string' || reason.length === 0) return undefined;
      if (reason.length > MAX_REASON_LENGTH || typeof text !== 'string' || text.length > MAX_CALL_TEXT_LENGTH)
        return undefined;
      return { kind, id, reason, text };
    default:
      return undefined;
  }
}

function decodeAck(item: unknown[]): Frame | FrameDecodeError {
  const seq = uint(item[2]);
  const incomplete = item[3];
  if (seq === undefined) return fail('BadField', 'seq');
  if (item.length === 3) return { kind: FrameKind.Ack, seq, incomplete: [] };
  if (item.length !== 4 || !Array.isArray(incomplete)) return fail('BadField', 'wrong length');
  if (incomplete.length === 0 || incomplete.length > MAX_CONCURRENT_TRANSFERS)
    return fail('BadField', 'incomplete: 1 to 4 seqs');
  const seqs = incomplete.map(uint);
  for (const s of seqs) {
    if (s === undefined || s > seq) return fail('BadField', 'incomplete: seqs up to the acknowledged seq');
  }
  if (new Set(seqs).size !== seqs.length) return fail('BadField', 'incomplete: repeated seq');
  return { kind: FrameKind.Ack, seq, incomplete: seqs as number[] };
}

/**
 * Decodes and validates one frame. Never throws: anything a peer could send that is not a valid
 * frame of this version comes back as a {@link FrameDecodeError}. Whether a valid frame makes sense
 * where it arrives (its seq, its offset) is the receiver's to check.
 */
export function decodeFrame(data: ArrayBuffer | ArrayBufferView | string): Frame | FrameDecodeError {
  const bytes = toBytes(data);
  if (bytes === undefined) return fail('NotAFrame', 'text message; frames are binary');
  if (bytes.byteLength > MAX_FRAME_BYTES) return fail('TooLarge', `${bytes.byteLength} bytes`);
  const { problem } = scanCborSequence(bytes);
  if (problem !== undefined) return fail('NotCbor', problem);
  let item: unknown;
  try {
    item = decoder.decode(bytes);
  } catch (err) {
    return fail('NotCbor', err instanceof Error ? err.message : String(err));
  }
  return frameOf(item);
}

/**
 * Decodes and validates one data-channel message: every frame in it, in order, each a frame or a
 * {@link FrameDecodeError}. Never throws. Bytes that stop being CBOR end the list with one error (the
 * frames before them stand); a message larger than {@link MAX_FRAME_BYTES} is one error.
 */
export function decodeFrames(data: ArrayBuffer | ArrayBufferView | string): Array<Frame | FrameDecodeError> {
  const bytes = toBytes(data);
  if (bytes === undefined) return [fail('NotAFrame', 'text message; frames are binary')];
  if (bytes.byteLength > MAX_FRAME_BYTES) return [fail('TooLarge', `${bytes.byteLength} bytes`)];
  const out: Array<Frame | FrameDecodeError> = [];
  // Only the items inside the CBOR subset reach cbor-x; the first one outside it ends the message.
  const { end, problem } = scanCborSequence(bytes);
  if (end > 0) {
    try {
      decoder.decodeMultiple(end === bytes.byteLength ? bytes : bytes.subarray(0, end), (item: unknown) => {
        out.push(frameOf(item));
      });
    } catch (err) {
      out.push(fail('NotCbor', err instanceof Error ? err.message : String(err)));
      return out;
    }
  }
  if (problem !== undefined) out.push(fail('NotCbor', problem));
  else if (out.length === 0) out.push(fail('NotCbor', 'empty message'));
  return out;
}

/** The frame a decoded CBOR item is, or why it is none. */
function frameOf(item: unknown): Frame | FrameDecodeError {
  if (!Array.isArray(item) || item.length < 2) return fail('NotAFrame', 'not an array of at least two items');
  const [version, kind] = item as unknown[];
  if (version !== FRAME_VERSION) return fail('UnsupportedVersion', `version ${String(version)}`);
  switch (kind) {
    case FrameKind.Hello:
      return item.length === 3 ? decodeHello(item[2]) : fail('BadField', 'wrong length');
    case FrameKind.Attributes:
      return item.length === 3 ? decodeAttributes(item[2]) : fail('BadField', 'wrong length');
    case FrameKind.Message: {
      if (item.length !== 5 && item.length !== 6) return fail('BadField', 'wrong length');
      const [, , rawSeq, type, payload, attachment] = item as unknown[];
      const head = checkHead(uint(rawSeq), type, payload);
      if ('error' in head) return head;
      if (item.length === 5) return { kind, ...head };
      if (!(attachment instanceof Uint8Array)) return fail('BadField', 'attachment is not a byte string');
      return { kind, ...head, attachment };
    }
    case FrameKind.Ack:
      return decodeAck(item);
    case FrameKind.Bye:
    case FrameKind.Ping:
      if (item.length !== 2) return fail('BadField', 'wrong length');
      return { kind };
    case FrameKind.Start: {
      if (item.length !== 6) return fail('BadField', 'wrong length');
      const [, , rawSeq, type, payload, rawTotal] = item as unknown[];
      const head = checkHead(uint(rawSeq), type, payload);
      if ('error' in head) return head;
      const totalBytes = uint(rawTotal);
      if (totalBytes === undefined) return fail('BadField', 'totalBytes');
      return { kind, ...head, totalBytes };
    }
    case FrameKind.Chunk: {
      if (item.length !== 5) return fail('BadField', 'wrong length');
      const seq = uint(item[2]);
      const offset = uint(item[3]);
      const chunk: unknown = item[4];
      if (seq === undefined) return fail('BadField', 'seq');
      if (offset === undefined) return fail('BadField', 'offset');
      if (!(chunk instanceof Uint8Array)) return fail('BadField', 'bytes is not a byte string');
      return { kind, seq, offset, bytes: chunk };
    }
    case FrameKind.Cancel: {
      const seq = uint(item[2]);
      if (item.length !== 3 || seq === undefined) return fail('BadField', 'seq');
      return { kind, seq };
    }
    case FrameKind.Refuse: {
      const seq = uint(item[2]);
      const reason: unknown = item[3];
      if (item.length !== 4 || seq === undefined) return fail('BadField', 'seq');
      if (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH) return fail('BadField', 'reason');
      return { kind, seq, reason };
    }
    case FrameKind.Moved: {
      const id: unknown = item[2];
      if (item.length !== 3) return fail('BadField', 'wrong length');
      if (typeof id !== 'string' || id.trim().length === 0 || id.length > MAX_MOVED_ID_LENGTH)
        return fail('BadField', 'id');
      return { kind, id };
    }
    default:
      return fail('UnknownKind', `kind ${String(kind)}`);
  }
}

/** True when {@link decodeFrame} refused the frame. */
export function isFrameError(v: Frame | FrameDecodeError): v is FrameDecodeError {
  return 'error' in v;
}
