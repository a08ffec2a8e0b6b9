/**
 * End-to-end sealing of relayed frames, with WebCrypto (`globalThis.crypto.subtle`: Node 20 and every
 * browser). Each participant has an ECDH P-256 key pair; its public key travels in signaling, stamped by
 * the server (the same trust as the DTLS fingerprints in SDP). Each relayed link derives, per direction,
 * an AES-GCM key: ECDH shared secret → HKDF-SHA-256 with the link's salt (both sides' random nonces, so
 * every link has fresh keys) and an info naming sender and receiver (so the two directions never share a
 * key). Each frame is sealed with a 96-bit nonce that is the direction's frame counter: never reused, and a
 * receiver opens only the next counter, so a replayed, reordered or dropped frame is refused.
 *
 * The AES-GCM itself is a {@link RelayAead}: WebCrypto's by default (asynchronous: each call is a promise and
 * a hop to another thread); the Node entry passes node:crypto's, which seals and opens at once. Both are
 * the same cipher on the same derived key bytes, so a Node participant and a browser talk to each other.
 */

import { MOVED_PROOF_BYTES } from '../protocol/frame-types.js';

/** Bytes AES-GCM adds to each sealed frame (its tag). */
export const SEAL_TAG_BYTES = 16;

/** Why a sealed frame was refused. */
export type OpenFailure = 'OutOfOrder' | 'BadSeal';

/**
 * A private key that computes an ECDH P-256 shared secret itself, at once: node:crypto's `ECDH`, which takes the
 * peer's raw point as it is (no key object to build per link; see node-relay-kdf.ts). Throws for a bad point.
 */
export interface RelayEcdhKey {
  computeSecret(peerPublicKey: Uint8Array): Uint8Array;
}

/** A participant's relay key pair and its public half as signaling carries it. */
export interface RelayKeyPair {
  /** WebCrypto's non-extractable key, or a {@link RelayEcdhKey} (the Node entry's: see node-relay-kdf.ts). */
  readonly privateKey: CryptoKey | RelayEcdhKey;
  /** The public key, raw (uncompressed) P-256, base64url: what `relayKey` in signaling holds. */
  readonly publicKey: string;
}

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/** `bytes` as WebCrypto takes them (over an ArrayBuffer; a shared one is copied). */
function bs(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
const ECDH = { name: 'ECDH', namedCurve: 'P-256' } as const;

/** Encodes bytes as base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64url (no padding); undefined for anything else. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * Makes this participant's relay key pair (the private key cannot be exported).
 * @example const keys = await generateRelayKeyPair(); join({ ..., relayKey: keys.publicKey })
 */
export async function generateRelayKeyPair(): Promise<RelayKeyPair> {
  const pair = await subtle().generateKey(ECDH, false, ['deriveBits']);
  const raw = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: toBase64Url(raw) };
}

/** AES-256-GCM under one direction's key, on whole frames; at once where the runtime can. */
export interface RelayAead {
  /**
   * The ciphertext then the 16-byte tag, after `headroom` bytes left for the caller (a frame's header, so
   * that the sealed frame is one buffer, made once). The headroom's bytes are unspecified. Written at the
   * start of `into` when that is given and large enough (a buffer the caller reuses), else into a new one.
   */
  seal(
    iv: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    headroom: number,
    into?: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>;
  /** The plaintext, or undefined when the tag does not verify. */
  open(iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/** The first `bytes` of `into` when it holds that many, else a new buffer: where a seal writes its frame. */
export function outBuffer(into: Uint8Array | undefined, bytes: number): Uint8Array {
  return into !== undefined && into.byteLength >= bytes ? into.subarray(0, bytes) : new Uint8Array(bytes);
}

/** Makes the {@link RelayAead} of a 256-bit key; it may clear `key` once it holds it its own way. */
export type RelayAeadFactory = (key: Uint8Array) => RelayAead | Promise<RelayAead>;

/** WebCrypto's AES-GCM (every browser, Node 20): the key imported non-extractable, the bytes cleared. */
export const webCryptoAead: RelayAeadFactory = async (raw) => {
  const key = await subtle().importKey('raw', bs(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
  raw.fill(0);
  const params = (iv: Uint8Array, aad: Uint8Array): AesGcmParams => ({
    name: 'AES-GCM',
    iv: bs(iv),
    additionalData: bs(aad),
  });
  return {
    seal: async (iv, plaintext, aad, headroom, into) => {
      const sealed = new Uint8Array(await subtle().encrypt(params(iv, aad), key, bs(plaintext)));
      if (headroom === 0 && into === undefined) return sealed;
      const out = outBuffer(into, headroom + sealed.byteLength);
      out.set(sealed, headroom);
      return out;
    },
    open: async (iv, sealed, aad) => {
      try {
        return new Uint8Array(await subtle().decrypt(params(iv, aad), key, bs(sealed)));
      } catch {
        return undefined;
      }
    },
  };
};

/**
 * ECDH P-256 and HKDF-SHA-256 as one runtime runs them. WebCrypto's ({@link webCryptoKdf}, the default) takes
 * a promise and a hop to another thread per step; the Node entry passes node:crypto's, which derives at once.
 * Measured (bench mesh, N = 10 on 2 cores): WebCrypto's five awaited steps took a median 68 ms per link
 * (p90 150 ms), each waiting its turn on an event loop busy with the other links, and presence waited on them.
 * Both give the same bytes, so a Node participant and a browser derive the same keys.
 */
export interface RelayKdf {
  /** True when it derives at once: its methods never return a promise. */
  readonly synchronous: boolean;
  /** Makes this participant's key pair, in the form this implementation derives from fastest. */
  generateKeyPair(): RelayKeyPair | Promise<RelayKeyPair>;
  /** The 32-byte ECDH shared secret of `own` and a peer's raw public key; fails for a key that is not a P-256 point. */
  sharedSecret(own: RelayKeyPair, peerPublicKey: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** 32 bytes of HKDF-SHA-256 from `secret` and `salt` for each of `infos`. */
  hkdf(secret: Uint8Array, salt: Uint8Array, infos: Uint8Array[]): Uint8Array[] | Promise<Uint8Array[]>;
}

/** WebCrypto's ECDH and HKDF (every browser, Node 20). */
export const webCryptoKdf: RelayKdf = {
  synchronous: false,
  generateKeyPair: generateRelayKeyPair,
  async sharedSecret(own, peerPublicKey) {
    if (isEcdhKey(own.privateKey)) return own.privateKey.computeSecret(peerPublicKey);
    const peer = await subtle().importKey('raw', bs(peerPublicKey), ECDH, false, []);
    return new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: peer }, own.privateKey, 256));
  },
  async hkdf(secret, salt, infos) {
    const key = await subtle().importKey('raw', bs(secret), 'HKDF', false, ['deriveBits']);
    const derive = async (info: Uint8Array): Promise<Uint8Array> =>
      new Uint8Array(
        await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: bs(salt), info: bs(info) }, key, 256),
      );
    return Promise.all(infos.map(derive));
  },
};

/** True for a private key that computes its shared secrets itself. */
export function isEcdhKey(key: CryptoKey | RelayEcdhKey): key is RelayEcdhKey {
  return typeof (key as Partial<RelayEcdhKey>).computeSecret === 'function';
}

/**
 * The ECDH shared secret of `own` and a peer's public key as signaling carries it (base64url); fails (throws,
 * or rejects when `kdf` is asynchronous) when it is not base64url or not a P-256 point.
 */
function sharedSecretWith(own: RelayKeyPair, peerPublicKey: string, kdf: RelayKdf): Uint8Array | Promise<Uint8Array> {
  const raw = fromBase64Url(peerPublicKey);
  if (raw === undefined) {
    const err = new Error('the peer relay key is not base64url');
    if (kdf.synchronous) throw err;
    return Promise.reject(err);
  }
  return kdf.sharedSecret(own, raw);
}

/** `f` of `value`, at once when `value` is not a promise. */
function andThen<T, U>(value: T | Promise<T>, f: (v: T) => U | Promise<U>): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** The two ciphers of one relayed link: one seals what this side sends, the other opens what it receives. */
export interface RelayCiphers {
  readonly sealer: RelaySealer;
  readonly opener: RelayOpener;
}

/**
 * Derives the ciphers of one relayed link between `localId` and `peerId`. `salt` is the link's salt (both
 * sides' nonces); fails when `peerPublicKey` is not a P-256 point. `aead` runs the cipher and `kdf` the
 * derivation: when both are synchronous (node:crypto) so is this, and a bad key throws; otherwise it
 * returns a promise, and a bad key rejects it.
 */
export function deriveRelayCiphers(
  own: RelayKeyPair,
  peerPublicKey: string,
  localId: string,
  peerId: string,
  salt: Uint8Array,
  aead: RelayAeadFactory = webCryptoAead,
  kdf: RelayKdf = webCryptoKdf,
): RelayCiphers | Promise<RelayCiphers> {
  const text = new TextEncoder();
  // HKDF's 256 bits are the AES key: the same bytes WebCrypto's deriveKey to AES-GCM-256 makes.
  const info = (from: string, to: string): Uint8Array => text.encode(`roommesh relay v1 ${JSON.stringify([from, to])}`);
  return andThen(sharedSecretWith(own, peerPublicKey, kdf), (secret) =>
    andThen(kdf.hkdf(secret, salt, [info(localId, peerId), info(peerId, localId)]), (keys) => {
      secret.fill(0);
      const [send, receive] = keys as [Uint8Array, Uint8Array];
      const sealing = aead(send);
      const opening = aead(receive);
      const ciphers = (s: RelayAead, o: RelayAead): RelayCiphers => ({
        sealer: new RelaySealer(s),
        opener: new RelayOpener(o),
      });
      if (sealing instanceof Promise || opening instanceof Promise)
        return Promise.all([sealing, opening]).then(([s, o]) => ciphers(s, o));
      return ciphers(sealing, opening);
    }),
  );
}

/**
 * The proof that the sender of a moved frame holds the private half of `senderKey` (its relay key): the first
 * {@link MOVED_PROOF_BYTES} of HKDF-SHA-256 over the pair's static ECDH secret, with the session's `cid` as
 * salt and an info naming the sender's key and its new `id`. Only the two participants of the pair can make
 * it: the sender with its private key and the receiver's public one, the receiver with the reverse. A
 * participant that joined with a copied public key cannot, so it cannot rename itself into the key's owner.
 * `peerPublicKey` is the other side's public key (the receiver's when proving, the sender's when checking).
 * Fails (throws, or rejects when `kdf` is asynchronous) when that key is not a P-256 point.
 */
export function movedProof(
  own: RelayKeyPair,
  peerPublicKey: string,
  senderKey: string,
  cid: string,
  id: string,
  kdf: RelayKdf = webCryptoKdf,
): Uint8Array | Promise<Uint8Array> {
  const text = new TextEncoder();
  const info = text.encode(`roommesh moved v1 ${JSON.stringify([senderKey, id])}`);
  return andThen(sharedSecretWith(own, peerPublicKey, kdf), (secret) =>
    andThen(kdf.hkdf(secret, text.encode(cid), [info]), ([okm]) => {
      secret.fill(0);
      return okm!.slice(0, MOVED_PROOF_BYTES);
    }),
  );
}

/** True when `a` and `b` hold the same bytes (in time that depends on their length only). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The 96-bit nonce of frame `counter`: 4 zero bytes, then the counter big-endian. */
function nonceOf(counter: number): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  const view = new DataView(iv.buffer);
  view.setUint32(4, Math.floor(counter / 2 ** 32));
  view.setUint32(8, counter >>> 0);
  return iv;
}

/** A sealed frame: its counter and its ciphertext (with the tag, after the headroom asked for). */
export interface Sealed {
  counter: number;
  ciphertext: Uint8Array;
}

/** Seals one direction's frames, each with the next counter. */
export class RelaySealer {
  #next = 0;

  constructor(private readonly aead: RelayAead) {}

  /** The counter the next seal takes. */
  get next(): number {
    return this.#next;
  }

  /**
   * Seals `plaintext`, authenticating `aad` too: the frame's counter and its ciphertext (after `headroom`
   * bytes left for the caller; in `into` when given and large enough), at once when the cipher is
   * synchronous. The plaintext is read during the call: the caller may reuse its buffer after.
   */
  seal(plaintext: Uint8Array, aad: Uint8Array, headroom = 0, into?: Uint8Array): Sealed | Promise<Sealed> {
    // Taken at the call: two seals in flight never share a counter.
    const counter = this.#next++;
    if (counter >= Number.MAX_SAFE_INTEGER) throw new Error('relay counter exhausted');
    const out = this.aead.seal(nonceOf(counter), plaintext, aad, headroom, into);
    return out instanceof Promise ? out.then((ciphertext) => ({ counter, ciphertext })) : { counter, ciphertext: out };
  }
}

/**
 * Opens one direction's frames, in order: only the next counter is opened, and the counter moves on only
 * when a frame opens, so a forged or replayed frame cannot make the real one be refused. Calls are
 * handled one after another, whatever their timing; with a synchronous cipher and nothing waiting, at once.
 */
export class RelayOpener {
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #waiting = 0;

  constructor(private readonly aead: RelayAead) {}

  /** The counter the next frame must carry. */
  get expected(): number {
    return this.#next;
  }

  /** Opens a frame: its plaintext, or why it was refused (the frame is then dropped). */
  open(
    counter: number,
    ciphertext: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | OpenFailure | Promise<Uint8Array | OpenFailure> {
    if (this.#waiting === 0) {
      const now = this.#run(counter, ciphertext, aad);
      if (!(now instanceof Promise)) return now;
      return this.#track(now);
    }
    return this.#track(this.#queue.then(() => this.#run(counter, ciphertext, aad)));
  }

  #track(p: Promise<Uint8Array | OpenFailure>): Promise<Uint8Array | OpenFailure> {
    this.#waiting++;
    const done = p.finally(() => this.#waiting--);
    this.#queue = done;
    return done;
  }

  #run(
    counter: number,
    ciphertext: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | OpenFailure | Promise<Uint8Array | OpenFailure> {
    if (counter !== this.#next) return 'OutOfOrder';
    const settle = (plain: Uint8Array | undefined): Uint8Array | OpenFailure => {
      if (plain === undefined) return 'BadSeal';
      this.#next++;
      return plain;
    };
    let opened: ReturnType<RelayAead['open']>;
    try {
      opened = this.aead.open(nonceOf(counter), ciphertext, aad);
    } catch {
      return 'BadSeal';
    }
    return opened instanceof Promise ? opened.then(settle, () => 'BadSeal' as const) : settle(opened);
  }
}
