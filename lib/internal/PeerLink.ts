import Peer from 'simple-peer';
import type { WebRTCImplementation } from '../defaults.js';
import type { Logger } from '../logger.js';
import type { CandidateInit, SignalData } from '../protocol/signaling.js';
import { TypedEmitter } from './TypedEmitter.js';

/** Most bytes left in the channel's own send buffer before frames wait in the link's queue. */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** The channel's `bufferedamountlow` threshold: the queue refills the channel below this. */
export const LOW_WATER_BYTES = 256 * 1024;
/** Poll interval while frames wait, for implementations that never fire `bufferedamountlow`. */
const DRAIN_POLL_MS = 10;

/** Events of a {@link PeerLink}. @internal */
export interface PeerLinkEvents {
  /** Signaling data to relay to the other side. */
  signal: (data: SignalData) => void;
  /** The data channel is open. */
  open: () => void;
  /** One data-channel message. */
  data: (bytes: Uint8Array) => void;
  /** The link is closed for good; fired once. */
  close: (reason: string) => void;
}

/** Options of a {@link PeerLink}. @internal */
export interface PeerLinkOptions {
  initiator: boolean;
  wrtc: WebRTCImplementation | undefined;
  rtcConfig: Record<string, unknown>;
  logger: Logger;
}

// What simple-peer keeps on the instance that roommesh needs; not in its typings.
interface PeerInternals {
  _channel?: RTCDataChannel;
  _iceCompleteTimer?: ReturnType<typeof setTimeout> | null;
}

/**
 * One RTCDataChannel to one remote participant, through one simple-peer instance: signaling in and out,
 * bytes in and out. Sending never lets the channel buffer past {@link HIGH_WATER_BYTES}; frames beyond
 * that wait, in order, in the link's queue. It knows nothing of frames or participants.
 * @internal
 */
export class PeerLink extends TypedEmitter<PeerLinkEvents> {
  readonly #peer: Peer.Instance & PeerInternals;
  #channel: RTCDataChannel | undefined;
  #queue: Uint8Array[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: PeerLinkOptions) {
    super();
    this.emitterLogger = options.logger;
    const peerOptions: Peer.Options = {
      initiator: options.initiator,
      trickle: true,
      config: options.rtcConfig as RTCConfiguration,
      channelConfig: { ordered: true },
    };
    if (options.wrtc !== undefined) peerOptions.wrtc = options.wrtc as Peer.Options['wrtc'];
    this.#peer = new Peer(peerOptions) as Peer.Instance & PeerInternals;
    this.#peer.on('signal', (data: Record<string, unknown>) => this.#onSignal(data));
    this.#peer.on('connect', () => this.#onConnect());
    this.#peer.on('data', (data: Uint8Array) => this.emit('data', data));
    this.#peer.on('close', () => this.#finish('closed'));
    this.#peer.on('error', (err: Error & { code?: string }) => this.#finish(err.code ?? err.message));
  }

  /** True once the channel is open and until the link closes. */
  get isOpen(): boolean {
    return this.#channel !== undefined && !this.#closed;
  }

  /** Bytes accepted by {@link send} and not yet handed to the network: the channel's buffer plus the queue. */
  get bufferedBytes(): number {
    return this.#queuedBytes + (this.#channel?.bufferedAmount ?? 0);
  }

  /** Feeds signaling data from the other side. */
  signal(data: SignalData): void {
    if (this.#closed) return;
    try {
      this.#peer.signal((data.type === 'offer' ? { type: 'offer', sdp: preferOffererAsDtlsClient(data.sdp) } : data) as Peer.SignalData);
    } catch (err) {
      this.#finish(`bad signal: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Sends one message, or queues it behind earlier ones. Returns false when the link is not open. */
  send(bytes: Uint8Array): boolean {
    const channel = this.#channel;
    if (channel === undefined || this.#closed) return false;
    if (this.#queuedBytes === 0 && channel.bufferedAmount < HIGH_WATER_BYTES) {
      try {
        channel.send(bytes as Uint8Array<ArrayBuffer>);
      } catch (err) {
        this.#finish(`send failed: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      }
      return true;
    }
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    this.#schedulePoll();
    return true;
  }

  /** Closes the link. Queued frames are dropped. */
  close(reason = 'closed locally'): void {
    this.#finish(reason);
  }

  #onSignal(data: Record<string, unknown>): void {
    if ((data.type === 'offer' || data.type === 'answer') && typeof data.sdp === 'string') {
      this.emit('signal', { type: data.type, sdp: data.sdp });
    } else if (data.type === 'candidate' && typeof data.candidate === 'object' && data.candidate !== null) {
      this.emit('signal', { type: 'candidate', candidate: data.candidate as CandidateInit });
    }
    // simple-peer's renegotiate and transceiverRequest signals concern media, which roommesh never adds.
  }

  #onConnect(): void {
    const channel = this.#peer._channel;
    if (channel === undefined || this.#closed) return;
    this.#channel = channel;
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    channel.addEventListener('bufferedamountlow', () => this.#drain());
    this.emit('open');
  }

  #schedulePoll(): void {
    if (this.#pollTimer !== undefined) return;
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      this.#drain();
    }, DRAIN_POLL_MS);
  }

  #drain(): void {
    const channel = this.#channel;
    if (channel === undefined || this.#closed) return;
    while (this.#queueHead < this.#queue.length && channel.bufferedAmount < HIGH_WATER_BYTES) {
      const bytes = this.#queue[this.#queueHead] as Uint8Array;
      this.#queue[this.#queueHead++] = EMPTY;
      this.#queuedBytes -= bytes.byteLength;
      try {
        channel.send(bytes as Uint8Array<ArrayBuffer>);
      } catch (err) {
        this.#finish(`send failed: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
    }
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else {
      this.#schedulePoll();
    }
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    this.#peer.destroy();
    // simple-peer leaves this timer running after destroy(); it would hold a Node process open for 5 s.
    if (this.#peer._iceCompleteTimer) clearTimeout(this.#peer._iceCompleteTimer);
    this.emit('close', reason);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Reads an offer's `a=setup:actpass` as `a=setup:active`, so the offerer becomes the DTLS client.
 * By default the answerer is the client and may finish ICE before the offerer has applied the answer;
 * its first DTLS ClientHello is then dropped and retried after 1 s. Measured with node-datachannel on
 * loopback: 10 of 60 connects took ~1 s by default, 0 of 60 with this (median 7 ms either way). The
 * offerer cannot finish ICE before it holds the answer, so its ClientHello always finds a listener.
 */
function preferOffererAsDtlsClient(sdp: string): string {
  return sdp.replace(/^a=setup:actpass\r?$/gm, (line) => line.replace('actpass', 'active'));
}
