/**
 * What a session needs from a transport: bytes in and out of one ordered, reliable channel to one peer,
 * with backpressure. A WebRTC data channel ({@link PeerLink}) is one; a relayed path or an in-memory pair
 * for unit tests are others. A link knows nothing of frames or participants.
 */
import type { SignalData } from '../protocol/signaling.js';

/** Events every {@link Link} emits. @internal */
export interface LinkEvents {
  /** The channel is open: bytes may be written. */
  open: () => void;
  /** One message from the peer, whole and in order. */
  data: (bytes: Uint8Array) => void;
  /** The buffer drained below the low-water mark after {@link Link.writable} was false. */
  writable: () => void;
  /** The link is closed for good; fired once. */
  close: (reason: string) => void;
}

/** A channel to one peer, as a session uses it. @internal */
export interface Link {
  /** True once the channel is open and until it closes. */
  readonly isOpen: boolean;
  /**
   * True when the channel is open and takes more now. When it is false, the link emits `writable` once
   * its buffer has drained: a writer waits for that rather than queueing in the link.
   */
  readonly writable: boolean;
  /** Bytes handed to the link and not yet on their way to the peer. */
  readonly bufferedBytes: number;
  /** The largest message the peer accepts on this channel, when the transport tells. */
  readonly maxMessageBytes: number | undefined;
  /**
   * The largest message that goes in one unit of the transport, never cut and put back together (on the
   * relay, what a relayed frame holds besides a message's length); a session cuts attachment chunks to fit.
   * Undefined when the transport has no such units to fit (a data channel carries each message whole).
   */
  readonly unitMessageBytes?: number | undefined;
  /**
   * Hands one message to the channel at once, even past the high-water mark (that only makes the link
   * unwritable for a while). False when the link is not open or refused it (the link then closes).
   * `bulk`: a large message of its own (an attachment chunk), not a batch of small frames; a link may
   * buffer bulk deeper (PeerLink on a browser's own channel: see its `waterMarksFor`).
   */
  write(bytes: Uint8Array, bulk?: boolean): boolean;
  /** Closes the link; `close` follows (once). */
  close(reason?: string): void;
  /** Adds a listener. */
  on<K extends keyof LinkEvents>(event: K, listener: LinkEvents[K]): this;
  /** Removes a listener. */
  off<K extends keyof LinkEvents>(event: K, listener: LinkEvents[K]): this;
}

/** Events of a {@link DialedLink}: those of every link, and signaling data to relay to the peer. @internal */
export interface DialedLinkEvents extends LinkEvents {
  /** Signaling data (an offer, an answer, a candidate) for the peer's link of the same attempt. */
  signal: (data: SignalData) => void;
}

/** A link set up through signaling, as the mesh dials it: a WebRTC data channel in practice. @internal */
export interface DialedLink extends Link {
  /** Feeds signaling data from the peer's link of the same attempt. */
  signal(data: SignalData): void;
  /** Adds a listener. */
  on<K extends keyof DialedLinkEvents>(event: K, listener: DialedLinkEvents[K]): this;
  /** Removes a listener. */
  off<K extends keyof DialedLinkEvents>(event: K, listener: DialedLinkEvents[K]): this;
}
