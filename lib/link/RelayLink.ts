/**
 * A {@link Link} through the signaling server's `relay` event, for a pair that cannot connect directly.
 * Every frame after the handshake is sealed end to end (relay-crypto.ts); the server sees only sizes and
 * timing. The handshake: the opener sends `open` with a fresh link id, the acceptor answers `accept` with
 * its own nonce, and both derive the link's keys from the two.
 *
 * Flow control, end to end: socket.io has no backpressure, and the server drops a connection that leaves
 * over `maxUnreadOutputBytes` (4 MiB) unread. A sender may have at most `windowBytes` (256 KiB) of data
 * unacknowledged; the receiver grants credit for what its listeners have processed, every quarter window.
 * So a frozen receiver holds at most one window per relayed peer at the server, and `writable` is false
 * (the session waits) until credit returns.
 *
 * A relayed frame is small (the server's `relay.maxFrameBytes`, 32 KiB by default); a message may be as
 * large as on a data channel ({@link MAX_FRAME_BYTES}), so it goes in parts of at most one frame each, and
 * the receiver puts them together (never more than {@link MAX_FRAME_BYTES}). So a session moves between a
 * data channel and the relay without planning its frames again.
 *
 * WebCrypto is asynchronous: sealing and opening each run on a promise chain, so frames keep their order.
 */
import type { Logger } from '../logger.js';
import { MAX_FRAME_BYTES } from '../protocol/frame-types.js';
import {
  RELAY_NONCE_BYTES,
  RELAY_SEALED_HEADER_BYTES,
  RelayInnerKind,
  decodeRelayFrame,
  encodeRelayAccept,
  encodeRelayOpen,
  encodeRelaySealed,
  relaySealedHeader,
  sameLinkId,
} from '../protocol/relay-frames.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import type { Link, LinkEvents } from './Link.js';
import { SEAL_TAG_BYTES, deriveRelayCiphers, type RelayCiphers, type RelayKeyPair } from './relay-crypto.js';

/** Events of a {@link RelayLink}: those of every link, and frames refused because they did not open. @internal */
export interface RelayLinkEvents extends LinkEvents {
  /** A sealed frame failed authentication or came out of order (the link closes after this). */
  refused: (detail: string) => void;
}

/** Unacknowledged relayed bytes one link may have; see the module comment for why 256 KiB. */
export const RELAY_WINDOW_BYTES = 256 * 1024;

/** Where a {@link RelayLink} sends its frames: the signaling connection, to one peer. @internal */
export interface RelayPort {
  /** Sends one frame to the peer; may resolve later to pace the sender. */
  send(data: Uint8Array): void | Promise<void>;
}

/** What a {@link RelayLink} is built from. @internal */
export interface RelayLinkOptions {
  port: RelayPort;
  keys: RelayKeyPair;
  localId: string;
  peerId: string;
  /** The session this link is for (its connection id), told to the peer in the open frame. */
  cid: string;
  /** The peer's public relay key, as signaling carried it. */
  peerKey: string;
  /** True on the side that opens the link (the newcomer, as with dialing). */
  initiator: boolean;
  /** The largest relayed frame the server accepts (its join reply's `relay.maxFrameBytes`). */
  maxFrameBytes: number;
  /** @default RELAY_WINDOW_BYTES */
  windowBytes?: number;
  logger: Logger;
}

function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** A link over the signaling server's relay, sealed end to end. @internal */
export class RelayLink extends TypedEmitter<RelayLinkEvents> implements Link {
  readonly #o: RelayLinkOptions;
  readonly #window: number;
  #linkId: Uint8Array | undefined;
  #ciphers: RelayCiphers | undefined;
  #open = false;
  #closed = false;
  #unacked = 0;
  #waiting = false;
  #received = 0;
  #sendChain: Promise<void> = Promise.resolve();
  /** A send failed: nothing more is sent on this link. */
  #sendFailed = false;
  #receiveChain: Promise<void> = Promise.resolve();
  /** Parts of a message still arriving, and their total size. */
  #parts: Uint8Array[] = [];
  #partsBytes = 0;
  /** The most a sealed frame carries: a relayed frame less its header, tag and inner kind. */
  readonly #partBytes: number;
  /** The largest message the session may write: as on a data channel (it goes in parts). */
  readonly maxMessageBytes = MAX_FRAME_BYTES;

  constructor(options: RelayLinkOptions) {
    super();
    this.#o = options;
    this.emitterLogger = options.logger;
    this.#window = options.windowBytes ?? RELAY_WINDOW_BYTES;
    this.#partBytes = options.maxFrameBytes - RELAY_SEALED_HEADER_BYTES - SEAL_TAG_BYTES - 1;
    if (this.#partBytes < 1024) throw new RangeError(`a relayed frame of ${options.maxFrameBytes} bytes is too small`);
    if (options.initiator) {
      this.#linkId = randomBytes(RELAY_NONCE_BYTES);
      this.#send(encodeRelayOpen(this.#linkId, options.cid));
    }
  }

  /** The session this link is for. */
  get cid(): string {
    return this.#o.cid;
  }

  /** The participant at the other end. */
  get peerId(): string {
    return this.#o.peerId;
  }

  /** The link id once known (the opener's at once, the acceptor's after the open frame). */
  get linkId(): Uint8Array | undefined {
    return this.#linkId;
  }

  get isOpen(): boolean {
    return this.#open && !this.#closed;
  }

  get writable(): boolean {
    if (!this.isOpen) return false;
    if (this.#unacked < this.#window) return true;
    this.#waiting = true;
    return false;
  }

  get bufferedBytes(): number {
    return this.#unacked;
  }

  write(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    if (bytes.byteLength > this.maxMessageBytes) {
      this.close(`a message of ${bytes.byteLength} bytes is over the relay's ${this.maxMessageBytes}`);
      return false;
    }
    this.#unacked += bytes.byteLength;
    const part = this.#partBytes;
    let offset = 0;
    for (; bytes.byteLength - offset > part; offset += part)
      this.#sendSealed(RelayInnerKind.Part, bytes.subarray(offset, offset + part));
    this.#sendSealed(RelayInnerKind.Data, offset === 0 ? bytes : bytes.subarray(offset));
    return true;
  }

  close(reason = 'closed locally'): void {
    if (this.#closed) return;
    if (this.isOpen) this.#sendSealed(RelayInnerKind.Close, new TextEncoder().encode(reason.slice(0, 200)));
    this.#finish(reason);
  }

  /** A frame the server relayed from this link's peer. */
  handleFrame(bytes: Uint8Array): void {
    if (this.#closed) return;
    const frame = decodeRelayFrame(bytes);
    if (typeof frame === 'string') return this.#fail(frame);
    if (frame.kind === 'open') {
      if (this.#o.initiator || this.#linkId !== undefined) return this.#fail('unexpected open frame');
      this.#linkId = frame.linkId.slice();
      const nonce = randomBytes(RELAY_NONCE_BYTES);
      this.#send(encodeRelayAccept(this.#linkId, nonce));
      this.#derive(nonce);
      return;
    }
    if (this.#linkId === undefined || !sameLinkId(frame.linkId, this.#linkId)) return; // another link's
    if (frame.kind === 'accept') {
      if (!this.#o.initiator || this.#ciphers !== undefined) return this.#fail('unexpected accept frame');
      this.#derive(frame.nonce.slice());
      return;
    }
    const { counter, header, ciphertext } = frame;
    const header2 = header.slice();
    const sealed = ciphertext.slice();
    this.#receiveChain = this.#receiveChain.then(async () => {
      const ciphers = this.#ciphers;
      if (ciphers === undefined || this.#closed) return;
      const plain = await ciphers.opener.open(counter, sealed, header2);
      if (this.#closed) return;
      if (typeof plain === 'string') {
        this.emit('refused', plain);
        return this.#fail(`relayed frame refused (${plain})`);
      }
      this.#onInner(plain);
    });
  }

  /** The server refused a frame of this link (rate, budget, the peer gone): the stream has a gap. */
  handleRefused(reason: string): void {
    this.#fail(`the server refused a relayed frame (${reason})`);
  }

  #derive(peerNonce: Uint8Array): void {
    const linkId = this.#linkId as Uint8Array;
    // The opener's link id then the acceptor's nonce, on both sides.
    const salt = new Uint8Array(2 * RELAY_NONCE_BYTES);
    salt.set(linkId);
    salt.set(peerNonce, RELAY_NONCE_BYTES);
    const { keys, peerKey, localId, peerId } = this.#o;
    const derived = deriveRelayCiphers(keys, peerKey, localId, peerId, salt);
    this.#receiveChain = this.#receiveChain.then(async () => {
      try {
        this.#ciphers = await derived;
      } catch (err) {
        return this.#fail(`cannot derive relay keys: ${String(err)}`);
      }
      if (this.#closed) return;
      this.#open = true;
      this.emit('open');
    });
  }

  #onInner(plain: Uint8Array): void {
    const kind = plain[0];
    const body = plain.subarray(1);
    if (kind === RelayInnerKind.Part) {
      this.#partsBytes += body.byteLength;
      if (this.#partsBytes > this.maxMessageBytes) return this.#fail('a relayed message over the largest one');
      this.#parts.push(body);
    } else if (kind === RelayInnerKind.Data) {
      if (this.#partsBytes + body.byteLength > this.maxMessageBytes)
        return this.#fail('a relayed message over the largest one');
      const message = this.#parts.length === 0 ? body : this.#assemble(body);
      this.emit('data', message);
      // Credit for what the listeners took, every quarter window: a frozen receiver grants none.
      this.#received += message.byteLength;
      if (this.#received >= this.#window / 4) {
        const credit = new Uint8Array(4);
        new DataView(credit.buffer).setUint32(0, this.#received);
        this.#received = 0;
        this.#sendSealed(RelayInnerKind.Credit, credit);
      }
    } else if (kind === RelayInnerKind.Credit && body.byteLength === 4) {
      const bytes = new DataView(body.buffer, body.byteOffset, 4).getUint32(0);
      if (bytes > this.#unacked) return this.#fail('credit for more than was sent');
      this.#unacked -= bytes;
      if (this.#waiting && this.#unacked <= this.#window / 2) {
        this.#waiting = false;
        this.emit('writable');
      }
    } else if (kind === RelayInnerKind.Close) {
      this.#finish('closed by peer');
    } else {
      this.#fail('unknown sealed frame kind');
    }
  }

  /** The message whose parts arrived, ending with `last`. */
  #assemble(last: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.#partsBytes + last.byteLength);
    let offset = 0;
    for (const p of this.#parts) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    out.set(last, offset);
    this.#parts = [];
    this.#partsBytes = 0;
    return out;
  }

  #sendSealed(kind: number, body: Uint8Array): void {
    const ciphers = this.#ciphers;
    const linkId = this.#linkId;
    if (ciphers === undefined || linkId === undefined) return;
    const plain = new Uint8Array(1 + body.byteLength);
    plain[0] = kind;
    plain.set(body, 1);
    // Counters are taken in call order (seal takes one before it awaits); the chain keeps sends in order.
    const sealed = ciphers.sealer.seal(plain, relaySealedHeader(linkId, ciphers.sealer.next));
    sealed.catch(() => {}); // awaited on the chain below, unless a send before it failed
    this.#chain(async () => {
      const s = await sealed;
      await this.#o.port.send(encodeRelaySealed(relaySealedHeader(linkId, s.counter), s.ciphertext));
    });
  }

  #send(bytes: Uint8Array): void {
    this.#chain(() => this.#o.port.send(bytes));
  }

  /**
   * Runs `step` after every earlier send, in order. The first that fails (the signaling connection is
   * gone; sealing failed) closes the link, and later steps do nothing: a relayed stream has no gaps. Never
   * leaves a rejected promise behind (an unhandled rejection ends a Node process).
   */
  #chain(step: () => void | Promise<void>): void {
    this.#sendChain = this.#sendChain
      .then(async () => {
        if (!this.#sendFailed) await step();
      })
      .catch((err: unknown) => {
        this.#sendFailed = true;
        this.#fail(`cannot relay a frame: ${String(err)}`);
      });
  }

  /** Closes on a failure, telling the peer when this side still can, so that it need not wait for silence. */
  #fail(reason: string): void {
    if (this.#closed) return;
    this.#o.logger.warn({ participant: this.#o.peerId, reason }, 'relayed link failed');
    this.close(reason);
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    this.emit('close', reason);
  }
}
