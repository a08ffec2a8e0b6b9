/**
 * node:crypto's AES-256-GCM for relayed links in Node: it seals and opens at once, where WebCrypto's takes
 * a promise and a hop to the thread pool per frame (measured per 64 KiB frame: about 4× the CPU, and a
 * wait the link's window pays for). The same cipher and key bytes as WebCrypto's: see relay-crypto.ts.
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto';
import { SEAL_TAG_BYTES, outBuffer, type RelayAeadFactory } from './relay-crypto.js';

/** A plain Uint8Array over a Buffer's bytes: `slice` on it copies, as callers of a link expect. */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** node:crypto's AES-256-GCM, synchronous; the key bytes are cleared once held as a KeyObject. */
export const nodeRelayAead: RelayAeadFactory = (raw) => {
  const key = createSecretKey(raw);
  raw.fill(0);
  return {
    seal(iv, plaintext, aad, headroom, into) {
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad);
      const body = cipher.update(plaintext);
      cipher.final();
      const bytes = headroom + body.byteLength + SEAL_TAG_BYTES;
      // Uninitialised when new: every byte after the headroom is written here, the headroom by the caller.
      const out = into === undefined ? plain(Buffer.allocUnsafe(bytes)) : outBuffer(into, bytes);
      out.set(body, headroom);
      out.set(cipher.getAuthTag(), headroom + body.byteLength);
      return out;
    },
    open(iv, sealed, aad) {
      if (sealed.byteLength < SEAL_TAG_BYTES) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.byteLength - SEAL_TAG_BYTES));
      const body = decipher.update(sealed.subarray(0, sealed.byteLength - SEAL_TAG_BYTES));
      try {
        decipher.final();
      } catch {
        return undefined;
      }
      return plain(body);
    },
  };
};
