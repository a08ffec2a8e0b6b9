/**
 * The message stream inside a relayed link's data frames: each message is a 4-byte big-endian length then
 * its bytes, and the stream is cut into frames as full as the server takes, so small messages share a
 * frame and a large one spans several; except that a message over a quarter of a frame that fits in one
 * ({@link MessagePacker.unitBytes}: a session's attachment chunk on this link) is not cut in two, so that the
 * receiver takes it as a view of the frame it came in, not put back together in a copy. This module packs
 * and unpacks the stream; RelayLink seals and sends.
 */

/** Bytes of the length before each message in the stream. */
export const RELAY_LENGTH_BYTES = 4;

/**
 * Bytes a packer's buffer starts with: a link's handshake and small messages fit, and a link that carries
 * no more costs no more. Why not a whole frame at once: a relayed link was made for every peer as a room's
 * messaging starts, and the bench's 256 KiB frames made that 2.3 MiB of zeroed buffers per process at N =
 * 10, in the window where the peers become present, and garbage-collector work with it. The buffer grows
 * (doubling, up to a frame) as messages need it, and stays grown.
 */
export const PACKER_INITIAL_BYTES = 4096;

/** Packs messages into frames' plaintexts; the first byte of each is the inner kind the packer was given. @internal */
export class MessagePacker {
  /** The largest plaintext of a frame; the buffer grows up to this. */
  readonly #frameBytes: number;
  #out: Uint8Array;
  #outBytes = 1;
  readonly #seal: (plain: Uint8Array) => void;

  /** Frames carry at most `plainBytes` of plaintext, kind `kind` first; `seal` gets each (it must copy before returning). */
  constructor(plainBytes: number, kind: number, seal: (plain: Uint8Array) => void) {
    this.#frameBytes = plainBytes;
    this.#out = new Uint8Array(Math.min(plainBytes, PACKER_INITIAL_BYTES));
    this.#out[0] = kind;
    this.#seal = seal;
  }

  /** True while bytes wait for {@link flush}. */
  get pending(): boolean {
    return this.#outBytes > 1;
  }

  /** Stream bytes waiting for {@link flush}. */
  get pendingBytes(): number {
    return this.#outBytes - 1;
  }

  /** The largest message that goes whole in one frame (with its length, after the kind). */
  get unitBytes(): number {
    return this.#frameBytes - 1 - RELAY_LENGTH_BYTES;
  }

  /**
   * Adds one message (its length, then its bytes), sealing every frame it fills. A message over a quarter
   * frame that fits in one but not in what is left of this one starts a frame of its own: the frame before
   * it goes less than full (one short frame per large message at most, and none for chunks cut to fit).
   */
  push(message: Uint8Array): void {
    const stream = RELAY_LENGTH_BYTES + message.byteLength;
    const frame = this.#frameBytes - 1;
    if (stream > this.#frameBytes - this.#outBytes && stream <= frame && stream * 4 > frame) this.flush();
    const length = new Uint8Array(RELAY_LENGTH_BYTES);
    new DataView(length.buffer).setUint32(0, message.byteLength);
    this.#append(length);
    this.#append(message);
  }

  /** Seals what is packed so far, a frame not yet full. */
  flush(): void {
    if (this.#outBytes <= 1) return;
    this.#seal(this.#out.subarray(0, this.#outBytes));
    this.#outBytes = 1;
  }

  #append(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const wanted = Math.min(this.#frameBytes, this.#outBytes + bytes.byteLength - offset);
      if (wanted > this.#out.byteLength) this.#grow(wanted);
      const out = this.#out;
      const n = Math.min(out.byteLength - this.#outBytes, bytes.byteLength - offset);
      out.set(n === bytes.byteLength ? bytes : bytes.subarray(offset, offset + n), this.#outBytes);
      this.#outBytes += n;
      offset += n;
      if (this.#outBytes === this.#frameBytes) this.flush();
    }
  }

  /** A larger buffer, holding at least `bytes` (twice the old one, at most a frame), with what is packed. */
  #grow(bytes: number): void {
    const out = new Uint8Array(Math.min(this.#frameBytes, Math.max(bytes, 2 * this.#out.byteLength)));
    out.set(this.#out.subarray(0, this.#outBytes));
    this.#out = out;
  }
}

/** Puts the peer's messages back together from the stream's bytes, frame after frame. @internal */
export class MessageUnpacker {
  readonly #maxMessageBytes: number;
  /** The length of the next message, as far as it has arrived (a length may span frames). */
  readonly #lengthBytes = new Uint8Array(4);
  #lengthHave = 0;
  /** The message that spans frames, and how much of it has arrived. */
  #message: Uint8Array | undefined;
  #messageHave = 0;

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /**
   * The next bytes of the stream: calls `deliver` for every message they complete (a message whole in
   * `bytes` is a view of it, not a copy) while `more()` says so. Returns what is wrong, or undefined.
   */
  push(bytes: Uint8Array, deliver: (message: Uint8Array) => void, more: () => boolean): string | undefined {
    let offset = 0;
    while (offset < bytes.byteLength && more()) {
      const message = this.#message;
      if (message !== undefined) {
        const n = Math.min(message.byteLength - this.#messageHave, bytes.byteLength - offset);
        message.set(bytes.subarray(offset, offset + n), this.#messageHave);
        this.#messageHave += n;
        offset += n;
        if (this.#messageHave === message.byteLength) {
          this.#message = undefined;
          deliver(message);
        }
        continue;
      }
      const n = Math.min(4 - this.#lengthHave, bytes.byteLength - offset);
      this.#lengthBytes.set(bytes.subarray(offset, offset + n), this.#lengthHave);
      this.#lengthHave += n;
      offset += n;
      if (this.#lengthHave < 4) break;
      this.#lengthHave = 0;
      const length = new DataView(this.#lengthBytes.buffer).getUint32(0);
      if (length > this.#maxMessageBytes) return 'a relayed message over the largest one';
      if (bytes.byteLength - offset >= length) {
        // The common case for small messages: whole in this frame, delivered without a copy.
        deliver(bytes.subarray(offset, offset + length));
        offset += length;
      } else {
        this.#message = new Uint8Array(length);
        this.#messageHave = 0;
      }
    }
    return undefined;
  }
}
