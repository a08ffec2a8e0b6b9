/**
 * End-to-end sealing of relayed frames, with WebCrypto (`globalThis.crypto.subtle`: Node 20 and every
 * browser). Each participant has an ECDH P-256 key pair; its public key travels in signaling, stamped by
 * the server (the same trust as the DTLS fingerprints in SDP). Each relayed link derives, per direction,
 * an AES-GCM key: ECDH shared secret → HKDF-SHA-256 with the link's salt (both sides' random nonces, so
 * every link has fresh keys) and an info naming sender and receiver (so the two directions never share a
 * key). Each frame is sealed with a 96-bit nonce that is the direction's frame counter: never reused, and a
 * receiver opens only the next counter, so a replayed, reordered or dropped frame is refused.
 */

/** Bytes AES-GCM adds to each sealed frame (its tag). */
export const SEAL_TAG_BYTES = 16;

/** Why a sealed frame was refused. */
export type OpenFailure = 'OutOfOrder' | 'BadSeal';

/** A participant's relay key pair and its public half as signaling carries it. */
export interface RelayKeyPair {
  readonly privateKey: CryptoKey;
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

/** The two ciphers of one relayed link: one seals what this side sends, the other opens what it receives. */
export interface RelayCiphers {
  readonly sealer: RelaySealer;
  readonly opener: RelayOpener;
}

/**
 * Derives the ciphers of one relayed link between `localId` and `peerId`. `salt` is the link's salt (both
 * sides' nonces); rejects when `peerPublicKey` is not a P-256 point.
 */
export async function deriveRelayCiphers(
  own: RelayKeyPair,
  peerPublicKey: string,
  localId: string,
  peerId: string,
  salt: Uint8Array,
): Promise<RelayCiphers> {
  const raw = fromBase64Url(peerPublicKey);
  if (raw === undefined) throw new Error('the peer relay key is not base64url');
  const peer = await subtle().importKey('raw', bs(raw), ECDH, false, []);
  const secret = await subtle().deriveBits({ name: 'ECDH', public: peer }, own.privateKey, 256);
  const hkdf = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  const text = new TextEncoder();
  const direction = (from: string, to: string): Promise<CryptoKey> =>
    subtle().deriveKey(
      {
        name: 'HKDF',
        hash: 'SHA-256',
        salt: bs(salt),
        info: text.encode(`roommesh relay v1 ${JSON.stringify([from, to])}`),
      },
      hkdf,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
  const [send, receive] = await Promise.all([direction(localId, peerId), direction(peerId, localId)]);
  return { sealer: new RelaySealer(send), opener: new RelayOpener(receive) };
}

/** The 96-bit nonce of frame `counter`: 4 zero bytes, then the counter big-endian. */
function nonceOf(counter: number): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  const view = new DataView(iv.buffer);
  view.setUint32(4, Math.floor(counter / 2 ** 32));
  view.setUint32(8, counter >>> 0);
  return iv;
}

/** Seals one direction's frames, each with the next counter. */
export class RelaySealer {
  #next = 0;

  constructor(private readonly key: CryptoKey) {}

  /** The counter the next seal takes. */
  get next(): number {
    return this.#next;
  }

  /** Seals `plaintext`, authenticating `aad` too; resolves with the frame's counter and its ciphertext. */
  async seal(plaintext: Uint8Array, aad: Uint8Array): Promise<{ counter: number; ciphertext: Uint8Array }> {
    // Taken before the await: two seals in flight never share a counter.
    const counter = this.#next++;
    if (counter >= Number.MAX_SAFE_INTEGER) throw new Error('relay counter exhausted');
    const ciphertext = await subtle().encrypt(
      { name: 'AES-GCM', iv: nonceOf(counter), additionalData: bs(aad) },
      this.key,
      bs(plaintext),
    );
    return { counter, ciphertext: new Uint8Array(ciphertext) };
  }
}

/**
 * Opens one direction's frames, in order: only the next counter is opened, and the counter moves on only
 * when a frame opens, so a forged or replayed frame cannot make the real one be refused. Calls are
 * handled one after another, whatever their timing.
 */
export class RelayOpener {
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly key: CryptoKey) {}

  /** The counter the next frame must carry. */
  get expected(): number {
    return this.#next;
  }

  /** Opens a frame: its plaintext, or why it was refused (the frame is then dropped). */
  open(counter: number, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array | OpenFailure> {
    const run = async (): Promise<Uint8Array | OpenFailure> => {
      if (counter !== this.#next) return 'OutOfOrder';
      try {
        const plain = await subtle().decrypt(
          { name: 'AES-GCM', iv: nonceOf(counter), additionalData: bs(aad) },
          this.key,
          bs(ciphertext),
        );
        this.#next++;
        return new Uint8Array(plain);
      } catch {
        return 'BadSeal';
      }
    };
    const result = this.#queue.then(run);
    this.#queue = result;
    return result;
  }
}
