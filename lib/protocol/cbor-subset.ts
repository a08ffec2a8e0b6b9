/**
 * The CBOR subset data-channel frames are written in, checked before any byte reaches the CBOR decoder.
 *
 * cbor-x resolves tags whatever its options: a bignum (tag 2) is decoded in time quadratic in its length,
 * and value-sharing and packed-value references (tags 28/29, 51/6) let a small frame decode to a value many
 * times its size. Frames need none of that. This scan walks the items of a CBOR sequence once, in time
 * linear in their size and without recursion, and accepts only:
 *
 *   major 0, 1   integers (any argument size; the frame decoder bounds their values)
 *   major 2, 3   byte and text strings of definite length
 *   major 4      arrays of definite length
 *   major 5      maps of definite length whose keys are text strings
 *   major 7      false, true, null, undefined and floats of 16, 32 and 64 bits
 *
 * and refuses tags (major 6), indefinite lengths, other simple values, and nesting deeper than
 * {@link MAX_CBOR_NESTING}. What is left decodes to a tree of plain values whose size is linear in the
 * bytes; whether it is JSON, and a frame, is for the frame decoder to say.
 */
import { MAX_JSON_DEPTH } from './json.js';

/**
 * Deepest nesting of arrays and maps the scan lets through: a frame array, a hello's body map, and a JSON
 * object of {@link MAX_JSON_DEPTH} levels inside it. Deeper input is refused before the decoder recurses.
 */
export const MAX_CBOR_NESTING = MAX_JSON_DEPTH + 3;

/** The result of {@link scanCborSequence}: where the accepted items end, and why the scan stopped there. */
export interface CborScan {
  /** Byte offset after the last whole item that is inside the subset (0 when none is). */
  end: number;
  /** Undefined when every byte was scanned; else what is wrong at `end`. */
  problem?: string;
}

const MAJOR_NAMES = [
  'unsigned integer',
  'negative integer',
  'byte string',
  'text string',
  'array',
  'map',
  'tag',
  'simple value',
];

/**
 * Scans `bytes` as a CBOR sequence (RFC 8742) of items in the frame subset. Never throws. Every item up to
 * `end` is whole and inside the subset; `problem` says why the item at `end` is not (truncated bytes
 * included).
 */
export function scanCborSequence(bytes: Uint8Array): CborScan {
  const end = scanCborEnd(bytes);
  return scanProblem === undefined ? { end } : { end, problem: scanProblem };
}

// The scan's stacks, one slot per open container, allocated once: a scan runs for every data-channel
// message and never re-enters, and two arrays per message were a sizeable share of a receiver's garbage.
// remaining[d]: items not yet started in the container open at depth d; a map counts keys and values
// (at most the message's length, which the scan checks before it opens a container).
const remaining = new Float64Array(MAX_CBOR_NESTING + 1);
// isMap[d]: 1 when the container open at depth d is a map (its items alternate key, value).
const isMap = new Uint8Array(MAX_CBOR_NESTING + 1);
/** Why the last {@link scanCborEnd} stopped short, or undefined when it scanned every byte. */
let scanProblem: string | undefined;

/**
 * {@link scanCborSequence} without the result object: returns `end`, and leaves `problem` in
 * {@link lastScanProblem} until the next scan.
 */
export function scanCborEnd(bytes: Uint8Array): number {
  scanProblem = undefined;
  const length = bytes.byteLength;
  let depth = 0;
  let at = 0;
  let itemStart = 0;
  while (at < length) {
    if (depth === 0) itemStart = at;
    const initial = bytes[at] as number;
    const major = initial >> 5;
    const info = initial & 0x1f;
    const mustBeKey = depth > 0 && isMap[depth - 1] === 1 && (remaining[depth - 1] as number) % 2 === 0;
    if (mustBeKey && major !== 3) return stop(itemStart, `a map key is a ${MAJOR_NAMES[major]}, not text`);
    if (depth > 0) remaining[depth - 1] = (remaining[depth - 1] as number) - 1;
    at++;
    // The argument: the value, length or count that follows the initial byte.
    let argument: number;
    if (info < 24) argument = info;
    else if (info <= 27) {
      const size = 1 << (info - 24);
      if (at + size > length) return stop(itemStart, 'truncated');
      if (size === 1) argument = bytes[at] as number;
      else if (size === 2) argument = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
      else if (size === 4) argument = readUint32(bytes, at);
      else argument = readUint32(bytes, at) * 0x100000000 + readUint32(bytes, at + 4);
      at += size;
    } else if (info === 31) return stop(itemStart, `an indefinite-length ${MAJOR_NAMES[major]}`);
    else return stop(itemStart, `reserved additional information ${info}`);

    switch (major) {
      case 0:
      case 1:
        break;
      case 2:
      case 3:
        if (argument > length - at) return stop(itemStart, 'truncated');
        at += argument;
        break;
      case 4:
      case 5: {
        if (depth >= MAX_CBOR_NESTING) return stop(itemStart, `nested deeper than ${MAX_CBOR_NESTING}`);
        const count = major === 5 ? argument * 2 : argument;
        // Each item takes at least one byte: a count the bytes left cannot hold is truncated input.
        if (count > length - at) return stop(itemStart, 'truncated');
        if (count > 0) {
          remaining[depth] = count;
          isMap[depth] = major === 5 ? 1 : 0;
          depth++;
          continue;
        }
        break;
      }
      case 6:
        return stop(itemStart, `CBOR tag ${argument} is not allowed in frames`);
      default:
        // false, true, null, undefined; float16, float32, float64
        if (!(info >= 20 && info <= 23) && !(info >= 25 && info <= 27)) {
          return stop(itemStart, `simple value ${argument} is not allowed in frames`);
        }
    }
    // An item ended: every open container whose items have all been read ends with it.
    while (depth > 0 && remaining[depth - 1] === 0) depth--;
  }
  if (depth > 0) return stop(itemStart, 'truncated');
  return at;
}

/** Why the last {@link scanCborEnd} stopped before the end of its bytes; undefined when it did not. */
export function lastScanProblem(): string | undefined {
  return scanProblem;
}

function stop(end: number, problem: string): number {
  scanProblem = problem;
  return end;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at] as number) * 0x1000000 +
    (((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number))
  );
}
