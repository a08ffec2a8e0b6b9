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
 *                        maxFrameBytes: uint,               session: the sender's session tag, random, the same
 *                        session: uint,                     in every hello of one session (optional); peer:
 *                        peer: uint,                        the receiver's tag, once the sender has its hello (optional);
 *                        maxHeldBytes: uint }]              the most bytes of incomplete attachments held for the receiver (optional)
 *   message     [1, 1, seq, type, payload]                  a whole message in one frame; seq: uint, type: text,
 *               [1, 1, seq, type, payload, attachment]      payload: map, attachment: byte string
 *   ack         [1, 2, seq]                                 every message up to seq arrived whole
 *               [1, 2, seq, [seq, ...]]                     ... except these, whose attachments are still arriving
 *   attributes  [1, 3, { attributes: map }]                 the sender's full attribute set, after a change
 *   bye         [1, 4]                                      the sender disabled messaging; close follows
 *   ping        [1, 5]                                      heartbeat, sent when the link is otherwise idle, and in answer to one
 *   start       [1, 6, seq, type, payload, totalBytes]      a message whose attachment follows in chunks
 *   chunk       [1, 7, seq, offset, bytes]                  the attachment bytes of message seq at offset
 *   cancel      [1, 8, seq]                                 the sender dropped its message seq; forget it
 *   refuse      [1, 9, seq, reason]                         the receiver refused message seq; stop sending it
 *   moved       [1, 10, id]                                 the sender has a new participant id on the server
 *               [1, 10, id, proof]                          ... with proof that it holds its relay key (16 bytes)
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
import { Encoder } from 'cbor-x';
import { CHUNK_OVERHEAD_BYTES, CallKind, FRAME_VERSION, FrameKind, type Call, type Frame } from './frame-types.js';
import type { JsonObject } from './json.js';

export * from './frame-types.js';
export { decodeFrame, decodeFrames, isFrameError } from './frame-decoder.js';

// Plain RFC 8949: no records, no structured clone, Uint8Array as an untagged byte string.
const encoder = new Encoder({ useRecords: false, structuredClone: false, tagUint8Array: false, pack: false });

/** Encodes one frame. Throws only for a payload that is not CBOR-encodable, which callers validate first. */
export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.kind) {
    case FrameKind.Hello: {
      const { attributes, maxAttachmentBytes, maxFrameBytes, session, peer, maxHeldBytes } = frame;
      const body: JsonObject = { attributes, maxAttachmentBytes, maxFrameBytes };
      if (session !== undefined) body.session = session;
      if (peer !== undefined) body.peer = peer;
      if (maxHeldBytes !== undefined) body.maxHeldBytes = maxHeldBytes;
      return encoder.encode([FRAME_VERSION, frame.kind, body]);
    }
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
      return frame.proof === undefined
        ? encoder.encode([FRAME_VERSION, frame.kind, frame.id])
        : encoder.encode([FRAME_VERSION, frame.kind, frame.id, frame.proof]);
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
