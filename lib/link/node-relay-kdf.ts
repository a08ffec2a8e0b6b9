/**
 * node:crypto's ECDH P-256 and HKDF-SHA-256 for relayed links in Node: it derives a link's keys at once,
 * where WebCrypto's takes five awaited steps (see {@link RelayKdf} for what that cost). The same bytes as
 * WebCrypto's: see relay-crypto.ts.
 *
 * Its key pair is node:crypto's `ECDH` object, which takes a peer's raw point as signaling carries it. A
 * WebCrypto key (as `diffieHellman` takes it) needs the peer's point as a KeyObject, made per link by
 * `createPublicKey` from DER: OpenSSL 3's decoder lookup. Measured in fresh processes, nine links: 2 to 8 ms for
 * createPublicKey + diffieHellman (the first call up to 6 ms) against 0.9 ms for ECDH.computeSecret; in the bench's
 * CPU profiles of mesh N = 10 (2 cores), createPublicKey was the largest single function of the handshake, 8% of
 * each participant's samples from enable() until presence. A WebCrypto key pair still works here, the slower way.
 */
import { createECDH, createPublicKey, diffieHellman, hkdfSync, KeyObject } from 'node:crypto';
import { isEcdhKey, toBase64Url, type RelayKdf } from './relay-crypto.js';

/**
 * The DER prefix of a P-256 public key's SubjectPublicKeyInfo, by the length of the raw point that follows:
 * uncompressed (65 bytes: 0x04, X, Y), as signaling carries it, or compressed (33), which WebCrypto takes too.
 */
const SPKI_PREFIX: Record<number, string> = {
  65: '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  33: '3039301306072a8648ce3d020106082a8648ce3d030107032200',
};

/** A raw P-256 public key as a KeyObject; throws when it is not a point on the curve. */
function publicKeyOf(raw: Uint8Array): KeyObject {
  const prefix = SPKI_PREFIX[raw.byteLength];
  if (prefix === undefined) throw new Error('the peer relay key is not a raw P-256 key');
  return createPublicKey({ key: Buffer.concat([Buffer.from(prefix, 'hex'), raw]), format: 'der', type: 'spki' });
}

/** node:crypto's ECDH and HKDF, synchronous. */
export const nodeRelayKdf: RelayKdf = {
  synchronous: true,
  generateKeyPair() {
    const ecdh = createECDH('prime256v1');
    // The private key stays in the ECDH object: nothing reads it out (getPrivateKey is never called).
    const publicKey = ecdh.generateKeys();
    return {
      privateKey: { computeSecret: (peer: Uint8Array) => ecdh.computeSecret(peer) },
      publicKey: toBase64Url(publicKey),
    };
  },
  sharedSecret(own, peerPublicKey) {
    const key = own.privateKey;
    if (isEcdhKey(key)) {
      if (peerPublicKey.byteLength !== 65 && peerPublicKey.byteLength !== 33)
        throw new Error('the peer relay key is not a raw P-256 key');
      const secret = key.computeSecret(peerPublicKey);
      return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
    }
    const secret = diffieHellman({ privateKey: KeyObject.from(key), publicKey: publicKeyOf(peerPublicKey) });
    return new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
  },
  hkdf(secret, salt, infos) {
    return infos.map((info) => new Uint8Array(hkdfSync('sha256', secret, salt, info, 32)));
  },
};
