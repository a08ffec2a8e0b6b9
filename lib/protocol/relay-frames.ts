/**
 * What a relayed link puts in a `relay` event's `data`: the server forwards it as opaque bytes.
 *
 *   offset  size  field
 *   0       1     kind: 1 open, 2 accept, 3 sealed
 *   1       16    link id: the opener's random nonce; names the link in every frame
 *   open:   17    1-64  the session's connection id (UTF-8): which session of the pair the link is for
 *   accept: 17    16    the acceptor's random nonce (the link's keys are derived from both nonces);
 *           33    rest  optional: the acceptor's first sealed frame of the link (its hello in the same event)
 *   sealed: 17    8     counter, big-endian (the AES-GCM nonce); bytes 0-24 are authenticated data
 *           25    n+16  AES-GCM ciphertext and tag of: 1 byte inner kind (1 data, 2 credit, 3 close), then
 *                       data: the next bytes of the sender's message stream (each message a u32 big-endian
 *                       length then its bytes; a message may span frames, a frame may hold many);
 *                       credit: u32 bytes of the stream (lengths included) the receiver took in;
 *                       close: UTF-8 reason
 */

/** Outer kinds of a relayed frame. */
export const RelayFrameKind = Object.freeze({ Open: 1, Accept: 2, Sealed: 3 } as const);

/** Inner kinds of a sealed relayed frame. */
export const RelayInnerKind = Object.freeze({ Data: 1, Credit: 2, Close: 3 } as const);

/** Bytes of a link id and of each side's nonce. */
export const RELAY_NONCE_BYTES = 16;

/** Bytes before a sealed frame's ciphertext: kind, link id, counter (all authenticated). */
export const RELAY_SEALED_HEADER_BYTES = 1 + RELAY_NONCE_BYTES + 8;

/** Longest connection id an open frame carries, in UTF-8 bytes (the signaling `cid` limit). */
export const RELAY_MAX_CID_BYTES = 64;

/** A decoded relayed frame. */
export type RelayFrame =
  | { kind: 'open'; linkId: Uint8Array; cid: string }
  | { kind: 'accept'; linkId: Uint8Array; nonce: Uint8Array; sealed: Uint8Array | undefined }
  | { kind: 'sealed'; linkId: Uint8Array; counter: number; header: Uint8Array; ciphertext: Uint8Array };

/** Encodes an open frame for the session `cid` (1 to {@link RELAY_MAX_CID_BYTES} UTF-8 bytes). */
export function encodeRelayOpen(linkId: Uint8Array, cid: string): Uint8Array {
  const id = new TextEncoder().encode(cid);
  if (id.byteLength === 0 || id.byteLength > RELAY_MAX_CID_BYTES) throw new RangeError('bad connection id');
  const out = new Uint8Array(1 + RELAY_NONCE_BYTES + id.byteLength);
  out[0] = RelayFrameKind.Open;
  out.set(linkId, 1);
  out.set(id, 1 + RELAY_NONCE_BYTES);
  return out;
}

/** Bytes of an accept frame without the sealed frame it may carry. */
export const RELAY_ACCEPT_BYTES = 1 + 2 * RELAY_NONCE_BYTES;

/**
 * Encodes an accept frame; with `sealed`, the acceptor's first sealed frame of the link right after it
 * (one event instead of two: the handshake answer and the acceptor's hello travel together).
 */
export function encodeRelayAccept(linkId: Uint8Array, nonce: Uint8Array, sealed?: Uint8Array): Uint8Array {
  const out = new Uint8Array(RELAY_ACCEPT_BYTES + (sealed?.byteLength ?? 0));
  out[0] = RelayFrameKind.Accept;
  out.set(linkId, 1);
  out.set(nonce, 1 + RELAY_NONCE_BYTES);
  if (sealed !== undefined) out.set(sealed, RELAY_ACCEPT_BYTES);
  return out;
}

/** The authenticated header of a sealed frame. */
export function relaySealedHeader(linkId: Uint8Array, counter: number): Uint8Array {
  const out = new Uint8Array(RELAY_SEALED_HEADER_BYTES);
  out[0] = RelayFrameKind.Sealed;
  out.set(linkId, 1);
  const view = new DataView(out.buffer);
  view.setUint32(17, Math.floor(counter / 2 ** 32));
  view.setUint32(21, counter >>> 0);
  return out;
}

/** A sealed frame: its header then its ciphertext. */
export function encodeRelaySealed(header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const out = new Uint8Array(header.byteLength + ciphertext.byteLength);
  out.set(header);
  out.set(ciphertext, header.byteLength);
  return out;
}

const utf8 = new TextDecoder();

/** Decodes a relayed frame; a string saying what is wrong for anything malformed. Never throws. */
export function decodeRelayFrame(bytes: Uint8Array): RelayFrame | string {
  const kind = bytes[0];
  if (bytes.byteLength < 1 + RELAY_NONCE_BYTES) return 'relayed frame too short';
  const linkId = bytes.subarray(1, 1 + RELAY_NONCE_BYTES);
  if (kind === RelayFrameKind.Open) {
    const id = bytes.subarray(1 + RELAY_NONCE_BYTES);
    if (id.byteLength === 0 || id.byteLength > RELAY_MAX_CID_BYTES) return 'open frame of the wrong size';
    const cid = utf8.decode(id);
    return cid.includes('\uFFFD') ? 'open frame with a connection id that is not UTF-8' : { kind: 'open', linkId, cid };
  }
  if (kind === RelayFrameKind.Accept) {
    if (bytes.byteLength < RELAY_ACCEPT_BYTES) return 'accept frame of the wrong size';
    const nonce = bytes.subarray(1 + RELAY_NONCE_BYTES, RELAY_ACCEPT_BYTES);
    if (bytes.byteLength === RELAY_ACCEPT_BYTES) return { kind: 'accept', linkId, nonce, sealed: undefined };
    const sealed = bytes.subarray(RELAY_ACCEPT_BYTES);
    const inner = decodeRelayFrame(sealed);
    if (typeof inner === 'string' || inner.kind !== 'sealed' || !sameLinkId(inner.linkId, linkId))
      return 'accept frame followed by something other than a sealed frame of its link';
    return { kind: 'accept', linkId, nonce, sealed };
  }
  if (kind === RelayFrameKind.Sealed) {
    if (bytes.byteLength < RELAY_SEALED_HEADER_BYTES + 16 + 1) return 'sealed frame too short';
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const counter = view.getUint32(17) * 2 ** 32 + view.getUint32(21);
    return {
      kind: 'sealed',
      linkId,
      counter,
      header: bytes.subarray(0, RELAY_SEALED_HEADER_BYTES),
      ciphertext: bytes.subarray(RELAY_SEALED_HEADER_BYTES),
    };
  }
  return `unknown relayed frame kind ${String(kind)}`;
}

/** True when two link ids are the same bytes. */
export function sameLinkId(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}
