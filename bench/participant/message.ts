/** The messages every transport sends, so each carries the same bytes of application data. */
import type { JsonObject } from '../../lib/node.js';

/** `type` of the small typed JSON messages. */
export const SMALL_TYPE = 'bench.small';
/** `type` of a latency request; the echoing side replies with {@link PONG_TYPE}. */
export const PING_TYPE = 'bench.ping';
/** `type` of a latency reply. */
export const PONG_TYPE = 'bench.pong';
/** `type` of the message carrying a blob. */
export const BLOB_TYPE = 'bench.blob';
/** `type` of a receiver's "all arrived", for transports without acknowledgements. */
export const DONE_TYPE = 'bench.done';

/** Chunk size for transports that cannot send a blob as one message (raw data channel, socket.io). */
export const BLOB_CHUNK_BYTES = 64 * 1024;

/** The payload of small message number `seq`: with its type, about 100 bytes of JSON. */
export function smallPayload(seq: number): JsonObject {
  return { seq, x: 512.25, y: 384.5, user: 'participant-07', note: 'the quick brown fox jumps' };
}

/** The bytes of a small message as one JSON text, for the raw baseline (which sends no envelope). */
export function smallMessageBytes(seq: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: SMALL_TYPE, ...smallPayload(seq) }));
}

/**
 * Deterministic blob bytes: one 64 KiB pattern, copied. Built with memcpy rather than a byte loop: a
 * loop over 64 MiB stalls the event loop for seconds on a loaded machine, long enough for roommesh's
 * heartbeat to close the link before the send even starts.
 */
export function blobBytes(n: number): Uint8Array {
  const pattern = new Uint8Array(Math.min(n, 64 * 1024));
  for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 31 + (i >>> 8)) & 0xff;
  const out = new Uint8Array(n);
  for (let offset = 0; offset < n; offset += pattern.length)
    out.set(pattern.subarray(0, Math.min(pattern.length, n - offset)), offset);
  return out;
}

/** Runs `fn` in a later task: `setImmediate` in Node, a zero timeout in a page (not clamped there unless nested). */
export const laterTask: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/**
 * The payload of latency request number `seq`, padded so that, with {@link PING_TYPE}, its JSON is about
 * `bytes` long (never below the small message's ~100 B).
 */
export function pingPayload(seq: number, bytes: number): JsonObject {
  const payload = smallPayload(seq);
  const pad = padding(bytes - PING_JSON_LENGTH - ',"pad":""'.length);
  // Added to the literal, not spread into a copy: V8 (Node 20) gives every `{ ...base, pad }` a hidden class of
  // its own, in the old generation, whose young descriptor array then survives scavenges. In the requesting
  // process that was most of what scavenges promoted, and what grew its old generation to a mark-compact
  // every ~200 ms (README, "The latency tail").
  if (pad !== undefined) payload.pad = pad;
  return payload;
}

/** Length of an unpadded latency request's JSON, type included. */
const PING_JSON_LENGTH = JSON.stringify({ type: PING_TYPE, ...smallPayload(0) }).length;

const pads = new Map<number, string>();

/** A string of `n` characters, made once per length (the app's own cost is not what is measured). */
function padding(n: number): string | undefined {
  if (n <= 0) return undefined;
  let pad = pads.get(n);
  if (pad === undefined) pads.set(n, (pad = 'x'.repeat(n)));
  return pad;
}

/** The bytes of latency request `seq` as one JSON text, for the raw baseline. */
export function pingBytes(seq: number, bytes: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: PING_TYPE, ...pingPayload(seq, bytes) }));
}
