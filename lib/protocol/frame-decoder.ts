/**
 * The data-channel frame decoder: bytes a peer sent in, a valid frame of this version or a typed refusal
 * out, never an exception. Only the CBOR subset of cbor-subset.ts reaches cbor-x. The layout is in
 * frames.ts's table and docs/PROTOCOL.md.
 */
import { Decoder } from 'cbor-x';
import { lastScanProblem, scanCborEnd } from './cbor-subset.js';
import {
  CallKind,
  FRAME_VERSION,
  FrameKind,
  MAX_CALL_TEXT_LENGTH,
  MAX_CONCURRENT_TRANSFERS,
  MAX_FRAME_BYTES,
  MAX_MOVED_ID_LENGTH,
  MAX_REASON_LENGTH,
  MAX_SEQ,
  MAX_TYPE_LENGTH,
  MIN_FRAME_BYTES,
  MOVED_PROOF_BYTES,
  type Call,
  type Frame,
  type FrameDecodeError,
  type FrameErrorReason,
} from './frame-types.js';
import type { JsonObject } from './json.js';
import { checkJsonObject } from './json.js';

// Plain RFC 8949: no records, no structured clone; maps with text keys as plain objects.
const decoder = new Decoder({ useRecords: false, structuredClone: false, mapsAsObjects: true });

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
  // Limits and session tags are unsigned integers like seqs: from 2^32 up either CBOR encoding (see uint).
  const maxAttachmentBytes = uint(body.maxAttachmentBytes);
  const maxFrameBytes = uint(body.maxFrameBytes);
  if (maxAttachmentBytes === undefined) return fail('BadField', 'maxAttachmentBytes');
  if (maxFrameBytes === undefined) return fail('BadField', 'maxFrameBytes');
  if (maxFrameBytes < MIN_FRAME_BYTES)
    return fail('BadField', `maxFrameBytes ${maxFrameBytes} is below ${MIN_FRAME_BYTES}`);
  const attributes = body.attributes as JsonObject;
  const hello: Frame = { kind: FrameKind.Hello, attributes, maxAttachmentBytes, maxFrameBytes };
  if (body.session !== undefined) {
    const session = uint(body.session);
    if (session === undefined) return fail('BadField', 'session');
    hello.session = session;
  }
  if (body.peer !== undefined) {
    const peer = uint(body.peer);
    if (peer === undefined) return fail('BadField', 'peer');
    hello.peer = peer;
  }
  if (body.maxHeldBytes !== undefined) {
    const maxHeldBytes = uint(body.maxHeldBytes);
    if (maxHeldBytes === undefined) return fail('BadField', 'maxHeldBytes');
    hello.maxHeldBytes = maxHeldBytes;
  }
  return hello;
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
  kind: typeof FrameKind.Message | typeof FrameKind.Start;
  seq: number;
  type: string;
  payload: JsonObject;
  call?: Call;
  attachment?: Uint8Array;
  totalBytes?: number;
}

/**
 * Checks the seq, type (or call) and payload shared by message and start frames; returns the frame with
 * them, built once (the caller adds the attachment or total), or why it is none.
 */
function checkHead(
  kind: Head['kind'],
  seq: number | undefined,
  type: unknown,
  payload: unknown,
): Head | FrameDecodeError {
  if (seq === undefined) return fail('BadField', 'seq');
  const call = Array.isArray(type) ? decodeCall(type as unknown[]) : undefined;
  // A type slot that is neither a type nor a valid call is one error, whichever it tried to be.
  if (call === undefined && !isType(type)) return fail('BadField', 'type');
  const problem = checkJsonObject(payload, 'payload');
  if (problem !== undefined) return fail('BadField', problem);
  const head: Head = {
    kind,
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
  scanCborEnd(bytes);
  const problem = lastScanProblem();
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
  const end = scanCborEnd(bytes);
  const problem = lastScanProblem();
  if (end > 0) {
    decoded = out;
    try {
      decoder.decodeMultiple(end === bytes.byteLength ? bytes : bytes.subarray(0, end), pushFrame);
    } catch (err) {
      out.push(fail('NotCbor', err instanceof Error ? err.message : String(err)));
      return out;
    } finally {
      decoded = undefined;
    }
  }
  if (problem !== undefined) out.push(fail('NotCbor', problem));
  else if (out.length === 0) out.push(fail('NotCbor', 'empty message'));
  return out;
}

/** The list {@link decodeFrames} fills, while cbor-x calls {@link pushFrame} (no closure per message). */
let decoded: Array<Frame | FrameDecodeError> | undefined;

function pushFrame(item: unknown): void {
  decoded?.push(frameOf(item));
}

/** The frame a decoded CBOR item is, or why it is none. */
function frameOf(item: unknown): Frame | FrameDecodeError {
  if (!Array.isArray(item) || item.length < 2) return fail('NotAFrame', 'not an array of at least two items');
  const version: unknown = item[0];
  const kind: unknown = item[1];
  if (version !== FRAME_VERSION) return fail('UnsupportedVersion', `version ${String(version)}`);
  switch (kind) {
    case FrameKind.Hello:
      return item.length === 3 ? decodeHello(item[2]) : fail('BadField', 'wrong length');
    case FrameKind.Attributes:
      return item.length === 3 ? decodeAttributes(item[2]) : fail('BadField', 'wrong length');
    case FrameKind.Message: {
      if (item.length !== 5 && item.length !== 6) return fail('BadField', 'wrong length');
      const head = checkHead(kind, uint(item[2]), item[3], item[4]);
      if ('error' in head || item.length === 5) return head as Frame | FrameDecodeError;
      const attachment: unknown = item[5];
      if (!(attachment instanceof Uint8Array)) return fail('BadField', 'attachment is not a byte string');
      head.attachment = attachment;
      return head as Frame;
    }
    case FrameKind.Ack:
      return decodeAck(item);
    case FrameKind.Bye:
    case FrameKind.Ping:
      if (item.length !== 2) return fail('BadField', 'wrong length');
      return { kind };
    case FrameKind.Start: {
      if (item.length !== 6) return fail('BadField', 'wrong length');
      const head = checkHead(kind, uint(item[2]), item[3], item[4]);
      if ('error' in head) return head;
      const totalBytes = uint(item[5]);
      if (totalBytes === undefined) return fail('BadField', 'totalBytes');
      head.totalBytes = totalBytes;
      return head as Frame;
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
      const proof: unknown = item[3];
      if (item.length !== 3 && item.length !== 4) return fail('BadField', 'wrong length');
      if (typeof id !== 'string' || id.trim().length === 0 || id.length > MAX_MOVED_ID_LENGTH)
        return fail('BadField', 'id');
      if (item.length === 3) return { kind, id };
      if (!(proof instanceof Uint8Array) || proof.byteLength !== MOVED_PROOF_BYTES) return fail('BadField', 'proof');
      return { kind, id, proof };
    }
    default:
      return fail('UnknownKind', `kind ${String(kind)}`);
  }
}

/** True when {@link decodeFrame} refused the frame. */
export function isFrameError(v: Frame | FrameDecodeError): v is FrameDecodeError {
  return 'error' in v;
}
