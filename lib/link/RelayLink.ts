/**
 * A {@link Link} through the signaling server's `relay` event, for a pair that cannot connect directly.
 * Every frame after the handshake is sealed end to end (relay-crypto.ts); the server sees only sizes and
 * timing. The handshake: the opener sends `open` with a fresh link id, the acceptor answers `accept` with
 * its own nonce, and both derive the link's keys from the two.
 *
 * Flow control, end to end: socket.io has no backpressure, and the server drops a connection that leaves
 * over `maxUnreadOutputBytes` (4 MiB) unread. A sender may have at most `windowBytes` (1 MiB) of its
 * message stream unacknowledged; the receiver grants credit for the stream it has taken in (its messages
 * handed to the listeners, which run at once), once a quarter window has come since the last credit.
 * So a frozen receiver holds at most one window per relayed peer at the server (3 peers fit under 4 MiB),
 * and `writable` is false (the session waits) until credit returns. Why 1 MiB: with the rate limits lifted
 * (the bench), a bulk transfer is bound by the window (it is a round trip through two socket.io hops and
 * three processes) and by the credit frames (each one a seal, two socket.io events and a server handler,
 * as a data frame). In alternating 5-round runs of a 64 MiB attachment (2 cores, load 4–8): 512 KiB 0.45×
 * and 0.46× the socket.io relay's throughput, 1 MiB 0.51× and 0.57×, 1.5 MiB 0.57× and 0.52×, 2 MiB 0.59×
 * to 0.66×. 1 MiB gets what 1.5 MiB gets, within the noise, and leaves a frozen receiver room for three
 * relayed peers streaming at once (1.5 MiB two, 2 MiB one) before the server drops it. At the
 * server's default terms (4 MiB/s per connection) the client's pacing binds long before the window.
 *
 * Messages travel as one stream per direction: each is a u32 length then its bytes, and the stream is cut
 * into relayed frames as full as the server takes (its `relay.maxFrameBytes`, 63 KiB by default). A message
 * may be as large as on a data channel ({@link MAX_FRAME_BYTES}) and span frames, and one frame may carry
 * many small ones; so a session moves between a data channel and the relay without planning its frames
 * again, and every frame but the last of a turn is full (and that one too while the window is full: see
 * #queueFlush). Each frame costs a seal, an open, two socket.io events and a server handler whatever its
 * size: 64 KiB chunk frames cut at message boundaries into 32 KiB frames took three frames each (the third
 * of 84 bytes), measured as a third of today's rate.
 *
 * WebCrypto is asynchronous: then sealing and opening each run on a promise chain, so frames keep their
 * order. With a synchronous cipher (node:crypto, from the Node entry) a frame is sealed and sent, or opened
 * and delivered, at once whenever nothing waits on the chain. The same for the handshake: with node:crypto's key
 * derivation the link opens inside the frame that completes it, not after WebCrypto's awaited steps.
 */
import { ConnectionError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MAX_FRAME_BYTES } from '../protocol/frame-types.js';
import {
  RELAY_ACCEPT_BYTES,
  RELAY_NONCE_BYTES,
  RELAY_SEALED_HEADER_BYTES,
  RelayInnerKind,
  decodeRelayFrame,
  encodeRelayAccept,
  encodeRelayOpen,
  relaySealedHeader,
  sameLinkId,
} from '../protocol/relay-frames.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { nextTurn } from '../util/schedule.js';
import type { Link, LinkEvents } from './Link.js';
import { MessagePacker, MessageUnpacker, RELAY_LENGTH_BYTES } from './relay-stream.js';
import {
  SEAL_TAG_BYTES,
  deriveRelayCiphers,
  type OpenFailure,
  type RelayAeadFactory,
  type RelayCiphers,
  type RelayKdf,
  type RelayKeyPair,
  type Sealed,
} from './relay-crypto.js';

/** Events of a {@link RelayLink}: those of every link, and frames refused because they did not open. @internal */
export interface RelayLinkEvents extends LinkEvents {
  /** A sealed frame failed authentication or came out of order (the link closes after this). */
  refused: (detail: string) => void;
}

/** Refusals that mean the peer left or disabled messaging, not that something went wrong. */
const PEER_GONE_REFUSALS: ReadonlySet<string> = new Set(['UnknownParticipant', 'PeerNotEnabled']);

/** Unacknowledged relayed bytes one link may have; see the module comment for why 1 MiB. */
export const RELAY_WINDOW_BYTES = 1024 * 1024;

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
  /**
   * The AES-GCM the link's ciphers run on.
   * @default webCryptoAead
   */
  aead?: RelayAeadFactory;
  /**
   * The ECDH and HKDF the link's keys are derived with.
   * @default webCryptoKdf
   */
  kdf?: RelayKdf;
  logger: Logger;
}

/** A sealed frame, with the accept of acceptor nonce `accept` before it in the same event when there is one. */
function withAccept(linkId: Uint8Array, accept: Uint8Array | undefined, sealed: Uint8Array): Uint8Array {
  return accept === undefined ? sealed : encodeRelayAccept(linkId, accept, sealed);
}

function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** A link over the signaling server's relay, sealed end to end. @internal */
export class RelayLink extends TypedEmitter<RelayLinkEvents> implements Link {
  readonly #o: RelayLinkOptions;
  readonly #window: number;
  #linkId: Uint8Array | undefined;
  /** The acceptor's nonce while its accept waits to go with its first sealed frame. */
  #pendingAccept: Uint8Array | undefined;
  #ciphers: RelayCiphers | undefined;
  #open = false;
  #closed = false;
  #unacked = 0;
  #waiting = false;
  #received = 0;
  /** Frames whose seal or send is under way, in order; and how many wait on it. */
  #sendChain: Promise<void> = Promise.resolve();
  #sendsWaiting = 0;
  #sendFailed = false;
  /** The key derivation and frames being opened, in order; and how many wait on it. */
  #receiveChain: Promise<void> = Promise.resolve();
  #receivesWaiting = 0;
  /** The outgoing message stream, packed into frames; and whether a flush is queued for this turn. */
  readonly #packer: MessagePacker;
  #flushQueued = false;
  /** The peer's message stream, put back together. */
  readonly #unpacker = new MessageUnpacker(MAX_FRAME_BYTES);
  /** The largest message the session may write: as on a data channel (it goes in parts). */
  readonly maxMessageBytes = MAX_FRAME_BYTES;
  /** The largest message that goes in one relayed frame, never cut: a session's chunks are cut to it. */
  readonly unitMessageBytes: number;
  /** The largest plaintext of a frame. */
  readonly #plainBytes: number;
  /** Stream bytes sealed into data frames, and credited by the peer, since the link opened. */
  #sealedStream = 0;
  #creditedStream = 0;
  /** Buffers of large data frames sent and not yet credited, oldest first, each with the stream offset it ends at. */
  #lent: { buffer: Uint8Array; end: number }[] = [];
  /** Buffers of large data frames the peer has credited: written out of this process, free to seal into again. */
  #spare: Uint8Array[] = [];
  /**
   * How many spare buffers are kept: the frames of half a window, and one. The writer fills the window again
   * once it is half empty (two credits), so that many are sealed at once.
   */
  readonly #spareMax: number;

  constructor(options: RelayLinkOptions) {
    super();
    this.#o = options;
    this.emitterLogger = options.logger;
    this.#window = options.windowBytes ?? RELAY_WINDOW_BYTES;
    const plainBytes = options.maxFrameBytes - RELAY_SEALED_HEADER_BYTES - SEAL_TAG_BYTES;
    if (plainBytes < 1024) throw new RangeError(`a relayed frame of ${options.maxFrameBytes} bytes is too small`);
    this.#plainBytes = plainBytes;
    this.#spareMax = Math.ceil(this.#window / 2 / plainBytes) + 1;
    this.#packer = new MessagePacker(plainBytes, RelayInnerKind.Data, (plain) => this.#seal(plain));
    this.unitMessageBytes = this.#packer.unitBytes;
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
    // Counted as the stream carries it (its length too), which is what the peer credits.
    this.#unacked += RELAY_LENGTH_BYTES + bytes.byteLength;
    this.#packer.push(bytes);
    this.#queueFlush();
    return true;
  }

  /**
   * What is left of this turn's writes goes once the turn's synchronous writes are done; except when the
   * window is full: then the session writes again when credit returns, and the frame not yet full waits
   * for that turn's bytes rather than going short (a frame costs the same whatever its size; a bulk
   * transfer made one short frame per credit, 25% more frames). It waits safely: the peer credits every
   * byte sent, so credit returns to at most this frame and a quarter window unacknowledged, which is
   * under the half window that makes the link writable again, and that turn flushes.
   */
  #queueFlush(): void {
    if (!this.#packer.pending || this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (this.#closed) return;
      if (this.#unacked >= this.#window && this.#packer.pendingBytes <= this.#window / 4) {
        this.#waiting = true;
        return;
      }
      this.#packer.flush();
    });
  }

  close(reason = 'closed locally'): void {
    if (this.#closed) return;
    if (this.isOpen) {
      this.#packer.flush();
      this.#sendSealed(RelayInnerKind.Close, new TextEncoder().encode(reason.slice(0, 200)));
    }
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
      // Derived at once (node:crypto), the link is open now and the session's hello is sealed in this
      // turn's microtasks: the accept waits for it, and both go in one event (alone a turn later if the
      // session wrote nothing). Derived later (WebCrypto), the accept goes now.
      this.#pendingAccept = nonce;
      this.#derive(nonce);
      if (this.#open) nextTurn(() => this.#sendPendingAccept());
      else this.#sendPendingAccept();
      return;
    }
    if (this.#linkId === undefined || !sameLinkId(frame.linkId, this.#linkId)) return; // another link's
    if (frame.kind === 'accept') {
      if (!this.#o.initiator || this.#ciphers !== undefined) return this.#fail('unexpected accept frame');
      this.#derive(frame.nonce.slice());
      // The acceptor's first sealed frame, carried with the accept: opened as if it came alone after it.
      if (frame.sealed !== undefined) this.handleFrame(frame.sealed);
      return;
    }
    const { counter, header, ciphertext } = frame;
    const ciphers = this.#ciphers;
    if (ciphers !== undefined && this.#receivesWaiting === 0) {
      const plain = ciphers.opener.open(counter, ciphertext, header);
      if (!(plain instanceof Promise)) return this.#onOpened(plain);
      // WebCrypto copied the bytes at the call.
      return this.#afterReceives(() => plain.then((p) => this.#onOpened(p)));
    }
    // Kept for later: the bytes given may be reused once this returns.
    const header2 = header.slice();
    const sealed = ciphertext.slice();
    this.#afterReceives(async () => {
      const ciphers = this.#ciphers;
      if (ciphers === undefined || this.#closed) return;
      this.#onOpened(await ciphers.opener.open(counter, sealed, header2));
    });
  }

  #onOpened(plain: Uint8Array | OpenFailure): void {
    if (this.#closed) return;
    if (typeof plain === 'string') {
      this.emit('refused', plain);
      return this.#fail(`relayed frame refused (${plain})`);
    }
    this.#onInner(plain);
  }

  /** Runs `step` after every receive step before it. */
  #afterReceives(step: () => void | Promise<void>): void {
    this.#receivesWaiting++;
    // Never left rejected: an unhandled rejection ends a Node process.
    this.#receiveChain = this.#receiveChain
      .then(step)
      .catch((err: unknown) => this.#fail(`cannot open a relayed frame: ${String(err)}`))
      .finally(() => this.#receivesWaiting--);
  }

  /** The server refused a frame of this link (rate, budget, the peer gone): the stream has a gap. */
  handleRefused(reason: string): void {
    // A peer that left (or disabled messaging) is not a failure: its goodbye or the server's word about it
    // may trail the frames this side still had on their way.
    const peerGone = PEER_GONE_REFUSALS.has(reason);
    this.#fail(`the server refused a relayed frame (${reason})`, peerGone ? 'debug' : 'warn');
  }

  #derive(peerNonce: Uint8Array): void {
    const linkId = this.#linkId as Uint8Array;
    // The opener's link id then the acceptor's nonce, on both sides.
    const salt = new Uint8Array(2 * RELAY_NONCE_BYTES);
    salt.set(linkId);
    salt.set(peerNonce, RELAY_NONCE_BYTES);
    const { keys, peerKey, localId, peerId } = this.#o;
    let derived: RelayCiphers | Promise<RelayCiphers>;
    try {
      derived = deriveRelayCiphers(keys, peerKey, localId, peerId, salt, this.#o.aead, this.#o.kdf);
    } catch (err) {
      return this.#fail(`cannot derive relay keys: ${String(err)}`);
    }
    // Derived at once (node:crypto) with nothing waiting before it: the link opens now, not a turn later.
    if (!(derived instanceof Promise) && this.#receivesWaiting === 0) {
      this.#ciphers = derived;
      this.#open = true;
      this.emit('open');
      return;
    }
    if (derived instanceof Promise) derived.catch(() => {}); // handled in its turn below
    this.#afterReceives(async () => {
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
    if (kind === RelayInnerKind.Data) {
      const wrong = this.#unpacker.push(
        body,
        (m) => this.emit('data', m),
        () => !this.#closed,
      );
      if (wrong !== undefined) return this.#fail(wrong);
      this.#credit(body.byteLength);
    } else if (kind === RelayInnerKind.Credit && body.byteLength === 4) {
      const bytes = new DataView(body.buffer, body.byteOffset, 4).getUint32(0);
      if (bytes > this.#unacked) return this.#fail('credit for more than was sent');
      this.#unacked -= bytes;
      this.#reclaim(bytes);
      if (this.#waiting && this.#unacked <= this.#window / 2) {
        this.#waiting = false;
        this.emit('writable');
        // A frame held back for this turn goes at its end, whether or not the session wrote more.
        this.#queueFlush();
      }
    } else if (kind === RelayInnerKind.Close) {
      this.#finish('closed by peer');
    } else {
      this.#fail('unknown sealed frame kind');
    }
  }

  /**
   * Credit for `bytes` of the stream taken in (its messages handed to the listeners, which run at once),
   * every quarter window: a frozen receiver takes in nothing and grants none.
   */
  #credit(bytes: number): void {
    this.#received += bytes;
    if (this.#received >= this.#window / 4 && !this.#closed) {
      const credit = new Uint8Array(4);
      new DataView(credit.buffer).setUint32(0, this.#received);
      this.#received = 0;
      this.#sendSealed(RelayInnerKind.Credit, credit);
    }
  }

  #sendSealed(kind: number, body: Uint8Array): void {
    const plain = new Uint8Array(1 + body.byteLength);
    plain[0] = kind;
    plain.set(body, 1);
    this.#seal(plain);
  }

  /**
   * The peer credited `bytes` more of the stream: the frames that carried them have been written out of this
   * process (the peer opened them), so their buffers can take the next frames. A bulk transfer thus seals
   * into the same few buffers (its frames in flight, at most a window and a frame, and at most half a
   * window's spare) instead of a fresh one per frame, which was a fresh frame-sized buffer to fault in per
   * frame and, as V8 counts ArrayBuffer memory towards its next full collection, more of those. A peer that
   * credits what it has not received only garbles the ciphertext it is then sent (and fails its own link):
   * these buffers only ever hold ciphertext.
   */
  #reclaim(bytes: number): void {
    this.#creditedStream += bytes;
    const lent = this.#lent;
    let head = 0;
    while (head < lent.length && (lent[head] as { end: number }).end <= this.#creditedStream) {
      if (this.#spare.length < this.#spareMax) this.#spare.push((lent[head] as { buffer: Uint8Array }).buffer);
      head++;
    }
    if (head > 0) lent.splice(0, head);
  }

  /**
   * The buffer a data frame is sealed into: for a frame over three quarters full (a bulk transfer's), a
   * spare one when there is one (see #reclaim). Any other data frame means the bulk transfer is over (at the
   * latest the session's next heartbeat): the link lets its buffers go, so that an idle link holds none,
   * and that frame gets a new buffer, as every small frame does.
   */
  #frameBuffer(plain: Uint8Array): Uint8Array | undefined {
    if (plain[0] !== RelayInnerKind.Data) return undefined;
    if (plain.byteLength * 4 > this.#plainBytes * 3) return this.#spare.pop() ?? new Uint8Array(this.#o.maxFrameBytes);
    if (this.#lent.length > 0) this.#lent = [];
    if (this.#spare.length > 0) this.#spare = [];
    return undefined;
  }

  /** Seals a frame's plaintext (inner kind first) and sends it after every frame sealed before it. */
  #seal(plain: Uint8Array): void {
    const ciphers = this.#ciphers;
    const linkId = this.#linkId;
    if (ciphers === undefined || linkId === undefined) return;
    // The frame is the header then the ciphertext: sealed with room for the header, one buffer made once.
    const header = relaySealedHeader(linkId, ciphers.sealer.next);
    const frame = (s: Sealed): Uint8Array => {
      s.ciphertext.set(header);
      return s.ciphertext;
    };
    const into = this.#frameBuffer(plain);
    let sealed: Sealed | Promise<Sealed>;
    try {
      // Counters are taken in call order; the chain keeps sends in order when sealing takes a while.
      sealed = ciphers.sealer.seal(plain, header, header.byteLength, into);
    } catch (err) {
      return this.#fail(`cannot seal a relayed frame: ${String(err)}`);
    }
    if (plain[0] === RelayInnerKind.Data) {
      this.#sealedStream += plain.byteLength - 1;
      if (into !== undefined) this.#lent.push({ buffer: into, end: this.#sealedStream });
    }
    // A pending accept goes with this frame, before it, when both fit in a relayed frame (else alone first):
    // taken now, so that nothing is sent between.
    let accept = this.#pendingAccept;
    this.#pendingAccept = undefined;
    const bundled = RELAY_ACCEPT_BYTES + header.byteLength + plain.byteLength + SEAL_TAG_BYTES;
    if (accept !== undefined && bundled > this.#o.maxFrameBytes) {
      this.#send(encodeRelayAccept(linkId, accept));
      accept = undefined;
    }
    if (sealed instanceof Promise) {
      this.#afterSends(async () => {
        await this.#o.port.send(withAccept(linkId, accept, frame(await sealed)));
      });
    } else {
      this.#send(withAccept(linkId, accept, frame(sealed)));
    }
  }

  /** The acceptor's accept not sent yet: it goes with the first sealed frame of this turn. */
  #sendPendingAccept(): void {
    const nonce = this.#pendingAccept;
    if (nonce === undefined || this.#closed) return;
    this.#pendingAccept = undefined;
    this.#send(encodeRelayAccept(this.#linkId as Uint8Array, nonce));
  }

  /** Sends a frame: at once when nothing waits before it, else after what does. */
  #send(bytes: Uint8Array): void {
    if (this.#sendFailed) return;
    if (this.#sendsWaiting > 0) return this.#afterSends(() => this.#o.port.send(bytes));
    // The port keeps what it is handed in order (the pacer queues behind a wait): no need to wait on it.
    const sent = this.#o.port.send(bytes);
    if (sent instanceof Promise) sent.catch((err: unknown) => this.#sendFailure(err));
  }

  /** Runs `step` after every send step before it; a failure stops every later one. */
  #afterSends(step: () => void | Promise<void>): void {
    this.#sendsWaiting++;
    this.#sendChain = this.#sendChain
      .then(() => (this.#sendFailed ? undefined : step()))
      .catch((err: unknown) => this.#sendFailure(err))
      .finally(() => this.#sendsWaiting--);
  }

  #sendFailure(err: unknown): void {
    this.#sendFailed = true;
    // Off the signaling server every relayed link goes; the room says so once, not each link.
    const offServer = err instanceof ConnectionError && err.reason === 'Disconnected';
    this.#fail(`cannot seal or send a relayed frame: ${String(err)}`, offServer ? 'debug' : 'warn');
  }

  /** Closes on a failure, telling the peer when this side still can, so that it need not wait for silence. */
  #fail(reason: string, level: 'warn' | 'debug' = 'warn'): void {
    if (this.#closed) return;
    this.#o.logger[level]({ participant: this.#o.peerId, reason }, 'relayed link failed');
    this.close(reason);
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    this.emit('close', reason);
  }
}
