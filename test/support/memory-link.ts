/**
 * Links that live in memory, for unit tests of what runs above a link: what one side writes, the other
 * receives in a later turn of the event loop, whole and in order, as on a data channel. A side can be
 * frozen (it stops reading, as a frozen process does) to test backpressure and heartbeats, and what it has
 * in flight dropped, as a link that dies loses it. The two sides may open at different moments; what one
 * side writes reaches the other even before that one saw `open` (as a relayed path may).
 */
import type { DialedLink, DialedLinkEvents, Link } from '../../lib/link/Link.js';
import type { SignalData } from '../../lib/protocol/signaling.js';
import { TypedEmitter } from '../../lib/util/TypedEmitter.js';
import { silentLogger } from '../../lib/logger.js';

/** Options of a {@link memoryLinkPair}. */
export interface MemoryLinkOptions {
  /** Bytes in flight above which a side is not writable. @default 1 MiB */
  highWaterBytes?: number;
  /** Bytes in flight at or below which a waiting writer hears `writable`. @default 256 KiB */
  lowWaterBytes?: number;
  /** What `maxMessageBytes` reports. @default undefined */
  maxMessageBytes?: number;
}

/** One side of an in-memory pair. */
export class MemoryLink extends TypedEmitter<DialedLinkEvents> implements Link, DialedLink {
  peer: MemoryLink | undefined;
  readonly #high: number;
  readonly #low: number;
  readonly maxMessageBytes: number | undefined;
  #open = false;
  #closed = false;
  #frozen = false;
  #waiting = false;
  #inFlight: Uint8Array[] = [];
  #inFlightBytes = 0;
  #deliveryScheduled = false;
  /** Every message this side wrote, in order (copies). */
  readonly written: Uint8Array[] = [];
  /** Signaling data fed to this side. */
  readonly signals: SignalData[] = [];
  /** When this side last handed a message to its peer (Date.now()), 0 before the first. */
  lastDeliveredAtMs = 0;

  constructor(options: MemoryLinkOptions = {}) {
    super();
    this.emitterLogger = silentLogger;
    this.#high = options.highWaterBytes ?? 1024 * 1024;
    this.#low = options.lowWaterBytes ?? 256 * 1024;
    this.maxMessageBytes = options.maxMessageBytes;
  }

  get isOpen(): boolean {
    return this.#open && !this.#closed;
  }

  get writable(): boolean {
    if (!this.isOpen) return false;
    if (this.#inFlightBytes < this.#high) return true;
    this.#waiting = true;
    return false;
  }

  get bufferedBytes(): number {
    return this.#inFlightBytes;
  }

  /** Opens this side in a later turn (both sides of a pair open together). */
  open(): void {
    setImmediate(() => {
      if (this.#closed || this.#open) return;
      this.#open = true;
      this.emit('open');
    });
  }

  write(bytes: Uint8Array): boolean {
    if (!this.isOpen || this.peer === undefined) return false;
    // Copied, as a channel copies: writers reuse their buffers once write returns.
    const copy = bytes.slice();
    this.written.push(copy);
    this.#inFlight.push(copy);
    this.#inFlightBytes += copy.byteLength;
    this.#scheduleDelivery();
    return true;
  }

  signal(data: SignalData): void {
    this.signals.push(data);
  }

  /** Sends signaling data out, as a WebRTC link would. */
  emitSignal(data: SignalData): void {
    this.emit('signal', data);
  }

  /** The peer stops reading this side's messages: they stay in flight, and this side's buffer fills. */
  freezePeer(): void {
    this.#frozen = true;
  }

  /** Drops what this side wrote and the peer has not read yet: lost with a link that died. */
  dropInFlight(): void {
    this.#inFlight = [];
    this.#inFlightBytes = 0;
  }

  /** Messages this side wrote that the peer has not read yet. */
  get inFlightCount(): number {
    return this.#inFlight.length;
  }

  /** Tells the writer it may write now, as a relayed link does when its peer grants credit. */
  announceWritable(): void {
    this.emit('writable');
  }

  /** The peer reads again. */
  thawPeer(): void {
    this.#frozen = false;
    this.#scheduleDelivery();
  }

  close(reason = 'closed locally'): void {
    if (this.closeAlone(reason)) {
      const peer = this.peer;
      if (peer !== undefined) setImmediate(() => peer.close('closed by peer'));
    }
  }

  /**
   * Closes this side only: the peer learns nothing until the test closes its side too (a path that died,
   * seen by one end first). False when it was closed already.
   */
  closeAlone(reason = 'closed locally'): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#inFlight = [];
    this.#inFlightBytes = 0;
    this.emit('close', reason);
    return true;
  }

  #scheduleDelivery(): void {
    if (this.#deliveryScheduled) return;
    this.#deliveryScheduled = true;
    setImmediate(() => {
      this.#deliveryScheduled = false;
      this.#deliver();
    });
  }

  #deliver(): void {
    const peer = this.peer;
    if (this.#frozen || this.#closed || peer === undefined) return;
    while (this.#inFlight.length > 0 && !this.#closed && !this.#frozen) {
      const bytes = this.#inFlight.shift() as Uint8Array;
      this.#inFlightBytes -= bytes.byteLength;
      if (peer.#closed) continue;
      this.lastDeliveredAtMs = Date.now();
      peer.emit('data', bytes);
    }
    if (this.#waiting && this.#inFlightBytes <= this.#low) {
      this.#waiting = false;
      this.emit('writable');
    }
  }
}

/** Two connected in-memory links, opening in a later turn unless `open` is false. */
export function memoryLinkPair(options: MemoryLinkOptions = {}, open = true): [MemoryLink, MemoryLink] {
  const a = new MemoryLink(options);
  const b = new MemoryLink(options);
  a.peer = b;
  b.peer = a;
  if (open) {
    a.open();
    b.open();
  }
  return [a, b];
}
