import Peer from 'simple-peer';
import { type WebRTCImplementation, hasLiveBufferedAmount } from './webrtc.js';
import type { Logger } from '../logger.js';
import type { CandidateInit, SignalData } from '../protocol/signaling.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { nextTurn, unrefTimer } from '../util/schedule.js';
import type { DialedLink, DialedLinkEvents } from './Link.js';

/**
 * The channel's send buffer is kept below this: {@link PeerLink.writable} is false above it. Far below the
 * 16 MiB at which Chromium closes a channel; chosen by measurement (see bench/frame-size).
 */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** The channel's `bufferedamountlow` threshold: below it the link reports `writable` again. */
export const LOW_WATER_BYTES = 256 * 1024;
/**
 * {@link HIGH_WATER_BYTES} on a browser's own RTCDataChannel while it carries batches of small frames.
 * Chromium's SCTP sends whatever is buffered as fast as its congestion window lets it, and the renderer
 * discards packets its socket to the network process has no room for (`packetsDiscardedOnSend` in
 * getStats). In a stream of small messages (acknowledged, so acks flow back) that sometimes leaves the
 * sender, its buffer full, sending a few dozen packets every ~0.4 s (SCTP's retransmission timer) for
 * seconds. Measured, 100,000 small messages between two pages, rounds that stalled (~15,000-42,000
 * instead of ~60,000-170,000 msg/s): with 1 MiB buffered 4 of 12 (2 of 5 with a 768 KiB low mark); with
 * 256 KiB 2 of 36 (one 6.7 s, one 2.4 s; none of 24 in an earlier series). Tried, no better: 256 KiB with
 * 192 KiB low (1 of 6), 1 MiB with batches that fit one SCTP packet (3 of 25, for 8-11 s), and with acks
 * spaced 20 ms apart (4 of 12).
 * Attachments' chunks, which never stalled and show no discards with 1 MiB, keep 1 MiB (see
 * {@link waterMarksFor}).
 */
export const BROWSER_HIGH_WATER_BYTES = 256 * 1024;
/** {@link LOW_WATER_BYTES} with {@link BROWSER_HIGH_WATER_BYTES} (a quarter of the high mark, as in Node). */
export const BROWSER_LOW_WATER_BYTES = 64 * 1024;

/**
 * How full a link's send buffer may get, and how far it drains before writers resume: after a batch of
 * small frames, and after a bulk message (an attachment chunk). @internal
 */
export interface WaterMarks {
  highBytes: number;
  lowBytes: number;
  bulkHighBytes: number;
  bulkLowBytes: number;
}

/**
 * The water marks for a WebRTC implementation: `undefined` is the browser's own, whose batches of small
 * frames get the smaller {@link BROWSER_HIGH_WATER_BYTES} and whose bulk keeps 1 MiB (a 64 MiB attachment
 * with 256 KiB measured ~0.9x raw simple-peer, against ~1.2x); anything else (node-datachannel, an app's
 * own implementation) 1 MiB for both.
 * @internal
 */
export function waterMarksFor(wrtc: WebRTCImplementation | undefined): WaterMarks {
  const bulk = { bulkHighBytes: HIGH_WATER_BYTES, bulkLowBytes: LOW_WATER_BYTES };
  return wrtc === undefined
    ? { highBytes: BROWSER_HIGH_WATER_BYTES, lowBytes: BROWSER_LOW_WATER_BYTES, ...bulk }
    : { highBytes: HIGH_WATER_BYTES, lowBytes: LOW_WATER_BYTES, ...bulk };
}
/**
 * How often, at most, {@link PeerLink.writable} reads the channel's buffer again while it is over the high-water
 * mark within one task, on an implementation whose buffer drains during a task (node-datachannel: see
 * `markLiveBufferedAmount`). An app that sends thousands of messages in one loop used to fill the buffer
 * to the mark early in the loop and queue the rest until the loop ended, while libdatachannel's thread had
 * sent the buffer long before and sat idle. Measured (bench small, 100,000 acknowledged messages, Node, 3
 * alternating series of 3 rounds each way at load 1.6–2.9): 116,000–121,000 msg/s against 92,000–105,000
 * read once a turn; the loop's messages then all leave within it, and the acks start coming back.
 * At most a thousand native reads a second, and only while over the mark.
 */
const REREAD_WAITING_MS = 1;
/** Poll interval while a writer waits, for implementations that never fire `bufferedamountlow` (@roamhq/wrtc). */
const DRAIN_POLL_MS = 10;
/**
 * Poll interval of the connection's state until the channel opens. node-datachannel closes a connection
 * that failed (DTLS, ICE) without a state event reaching JavaScript, so simple-peer never hears of it; the
 * state getters do tell.
 */
export const CONNECT_STATE_POLL_MS = 100;
/**
 * How long after applying the answer the offering side waits for its own connectivity checks to succeed
 * before it sends its candidates anyway (see {@link PeerLink}'s held candidates): on loopback and a LAN
 * they succeed within milliseconds; behind a NAT the answering side may need this side's candidates first.
 */
export const OWN_CHECKS_WAIT_MS = 100;

/** Events of a {@link PeerLink}. @internal */
export type PeerLinkEvents = DialedLinkEvents;

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
  _pc?: {
    sctp?: { maxMessageSize?: number } | null;
    connectionState?: string;
    iceConnectionState?: string;
  };
  _iceCompleteTimer?: ReturnType<typeof setTimeout> | null;
}

/**
 * A {@link DialedLink} over one RTCDataChannel to one remote participant, through one simple-peer
 * instance: signaling in and out, bytes in and out. It does not queue: a writer sends while {@link PeerLink.writable} is true and waits
 * for the `writable` event otherwise, so what waits stays with the writer, uncut. It knows nothing of
 * frames or participants.
 * @internal
 */
export class PeerLink extends TypedEmitter<PeerLinkEvents> implements DialedLink {
  readonly #peer: Peer.Instance & PeerInternals;
  #channel: RTCDataChannel | undefined;
  /** True while a writer waits for the buffer to drain. */
  #waiting = false;
  /** Bytes written in this turn of the event loop since {@link #turnBufferedBytes} was read (see {@link writable}). */
  #turnBytes = 0;
  /**
   * The channel's `bufferedAmount` when this turn first asked, or last read it again (see `#drainedWithinTask`);
   * undefined until then (see {@link writable}).
   */
  #turnBufferedBytes: number | undefined;
  #turnResetScheduled = false;
  /** The channel's `bufferedAmount` falls during a task (see {@link REREAD_WAITING_MS}). */
  readonly #liveBuffered: boolean;
  /** When {@link writable} last read the buffer again over the mark (performance.now()). */
  #rereadAtMs = -Infinity;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #statePollTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #initiator: boolean;
  readonly #marks: WaterMarks;
  /** The last message written was bulk (see {@link write}): the bulk water marks apply. */
  #bulk = false;
  /**
   * Candidates this side gathered and has not sent yet; undefined once they go out as they come. The
   * answering side holds them until its answer has gone out, the offering side until it has applied the
   * answer and its own connectivity checks have succeeded (ICE connected; or {@link OWN_CHECKS_WAIT_MS}
   * after the answer). Why the offer goes first: the answering side starts its attempt on the offer and
   * drops a candidate of an attempt it does not know yet (node-datachannel gathers its host candidate
   * before simple-peer emits the offer; the answerer then learned of the offerer only from its
   * connectivity checks, about 1 s late). Why the offerer's wait for the answer and for its own checks: see
   * {@link #applyAnswer} and {@link #onIceState}.
   */
  #heldCandidates: CandidateInit[] | undefined = [];
  /** The offering side has applied the answer (its candidates wait for its own checks to succeed). */
  #answerApplied = false;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: PeerLinkOptions) {
    super();
    this.emitterLogger = options.logger;
    const peerOptions: Peer.Options = {
      initiator: options.initiator,
      trickle: true,
      config: options.rtcConfig,
      channelConfig: { ordered: true },
    };
    if (options.wrtc !== undefined) peerOptions.wrtc = options.wrtc as Peer.Options['wrtc'];
    this.#peer = new Peer(peerOptions);
    this.#peer.on('signal', (data: Record<string, unknown>) => this.#onSignal(data));
    this.#peer.on('connect', () => this.#onConnect());
    this.#peer.on('iceStateChange', (state: string) => this.#onIceState(state));
    this.#peer.on('data', (data: Uint8Array) => this.emit('data', data));
    this.#peer.on('close', () => this.#finish('closed'));
    this.#peer.on('error', (err: Error & { code?: string }) => this.#finish(err.code ?? err.message));
    this.#initiator = options.initiator;
    this.#marks = waterMarksFor(options.wrtc);
    this.#liveBuffered = hasLiveBufferedAmount(options.wrtc);
    this.#statePollTimer = setInterval(() => this.#checkState(), CONNECT_STATE_POLL_MS);
    unrefTimer(this.#statePollTimer); // the connection's own resources hold the process while it lives
  }

  /** True once the channel is open and until the link closes. */
  get isOpen(): boolean {
    return this.#channel !== undefined && !this.#closed;
  }

  /**
   * True when the channel is open and its send buffer is below the high-water mark ({@link waterMarksFor}:
   * the bulk one when the last message written was bulk). When it is false, the link emits `writable` once
   * the buffer has drained.
   */
  get writable(): boolean {
    const channel = this.#channel;
    if (channel === undefined || this.#closed) return false;
    // Read once a turn, then what this turn wrote is added: never less than the truth, since the channel
    // only drains meanwhile. bufferedAmount is a native call (a lock in libdatachannel) and writers ask
    // before every frame: measured, 6% of a sender's time in a stream of small messages. @roamhq/wrtc
    // updates it only between turns anyway (measured: 0 throughout a burst of 100,000 sends).
    if (this.#turnBufferedBytes === undefined) {
      this.#turnBufferedBytes = channel.bufferedAmount;
      this.#scheduleTurnReset();
    }
    if (this.#turnBufferedBytes + this.#turnBytes < this.#highBytes) return true;
    if (this.#liveBuffered && this.#drainedWithinTask(channel)) return true;
    this.#wait();
    return false;
  }

  /**
   * Over the mark as counted, within a task that may be long (an app's loop of sends): on an implementation
   * whose buffer drains meanwhile, reads it again (at most every {@link REREAD_WAITING_MS}), and lets the
   * writer go on once it is at or below the low-water mark, as the drain event would after the task.
   */
  #drainedWithinTask(channel: RTCDataChannel): boolean {
    const now = performance.now();
    if (now - this.#rereadAtMs < REREAD_WAITING_MS) return false;
    this.#rereadAtMs = now;
    const buffered = channel.bufferedAmount;
    if (buffered > this.#lowBytes) return false;
    // What was written before this read is in it; the writer resumes, so the poll or event it waited for is moot.
    this.#turnBufferedBytes = buffered;
    this.#turnBytes = 0;
    this.#waiting = false;
    return true;
  }

  /** Bytes handed to the channel and not yet sent on the network. */
  get bufferedBytes(): number {
    return this.#channel?.bufferedAmount ?? 0;
  }

  /**
   * The largest message the remote end accepts, from its SDP (`a=max-message-size`), when the
   * implementation tells; undefined when it does not.
   */
  get maxMessageBytes(): number | undefined {
    const size = this.#peer._pc?.sctp?.maxMessageSize;
    return typeof size === 'number' && size > 0 ? size : undefined;
  }

  /** Feeds signaling data from the other side. */
  signal(data: SignalData): void {
    if (this.#closed) return;
    try {
      this.#peer.signal(data as Peer.SignalData);
    } catch (err) {
      this.#finish(`bad signal: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (data.type === 'answer' && this.#initiator) this.#applyAnswer();
  }

  /**
   * Hands one message to the channel at once. Writers check {@link writable} first; a write past the
   * high-water mark is allowed (a frame that must not wait) and simply makes the link unwritable for a
   * while. Returns false when the link is not open or the channel refused the message (the link closes).
   * `bulk` (an attachment chunk) selects the bulk water marks until a message that is not bulk.
   */
  write(bytes: Uint8Array, bulk = false): boolean {
    const channel = this.#channel;
    if (channel === undefined || this.#closed) return false;
    try {
      channel.send(bytes as Uint8Array<ArrayBuffer>);
    } catch (err) {
      this.#finish(`send failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    this.#turnBytes += bytes.byteLength;
    this.#scheduleTurnReset();
    if (bulk !== this.#bulk) {
      this.#bulk = bulk;
      // Crossing a threshold raised past the buffer fires no event: the poll of a waiting writer covers that.
      channel.bufferedAmountLowThreshold = this.#lowBytes;
    }
    return true;
  }

  get #highBytes(): number {
    return this.#bulk ? this.#marks.bulkHighBytes : this.#marks.highBytes;
  }

  get #lowBytes(): number {
    return this.#bulk ? this.#marks.bulkLowBytes : this.#marks.lowBytes;
  }

  /** Forgets, at the end of this turn, what {@link writable} counted in it. */
  #scheduleTurnReset(): void {
    if (this.#turnResetScheduled) return;
    this.#turnResetScheduled = true;
    nextTurn(this.#resetTurn);
  }

  // Bound once, not a closure per turn: less garbage per message sent.
  readonly #resetTurn = (): void => {
    this.#turnResetScheduled = false;
    this.#turnBytes = 0;
    this.#turnBufferedBytes = undefined;
  };

  /** Closes the link. */
  close(reason = 'closed locally'): void {
    this.#finish(reason);
  }

  /**
   * The answer has been handed to the connection: not before now may the answering side learn this side's
   * candidates. If it learns them earlier, it runs its connectivity checks before this side has the
   * answer, and node-datachannel (libdatachannel 0.24) here then completes ICE inside
   * `setRemoteDescription`, before it has stored the remote DTLS fingerprint; the DTLS handshake that
   * starts at once fails its fingerprint check ("certificate verify failed") and the connection closes.
   * Measured, 200 connects 10 at a time with 0–3 ms jitter per signal: 2–7 such failures before, none
   * after. (node-datachannel applies a description synchronously, so it is stored when `signal` returns.)
   */
  #applyAnswer(): void {
    this.#answerApplied = true;
    if (this.#heldCandidates === undefined || this.#releaseTimer !== undefined) return;
    this.#releaseTimer = setTimeout(() => this.#releaseCandidates(), OWN_CHECKS_WAIT_MS);
    unrefTimer(this.#releaseTimer);
  }

  /**
   * The offering side's connectivity checks succeeded (ICE connected): only now may the answering side
   * learn its candidates. Its checks have then reached the answering side, which answers them and connects
   * a moment later with a check of its own; so this side (the DTLS server, as the answer makes the
   * answerer the client) is connected before the answerer's DTLS ClientHello arrives. When the answerer
   * checked first instead, its ClientHello reached this side before its DTLS transport had started;
   * node-datachannel (libdatachannel 0.24.5) then sometimes leaves that buffered ClientHello unread until
   * the answerer sends it again, 1 s later. Measured (bench mesh, direct only, N = 2 and 5): 1 round in 5
   * to 10 took ~1.05 s instead of ~0.1 s, each time a pair whose answerer connected first; in one process
   * with signals handed over at once, 9 connects in 10 took ~1 s before, none after. Releasing them on
   * the answerer's first candidate instead (this side's checks start then) still let the answerer check
   * first on a loaded machine, whose checks went out late (1 pair in 100); with this, none in 160 at a
   * load of 10 on 2 cores, the candidates going out a median 6 ms after the answer (at most 65 ms).
   */
  #onIceState(state: string): void {
    if (this.#initiator && this.#answerApplied && (state === 'connected' || state === 'completed'))
      this.#releaseCandidates();
  }

  /** Sends the held candidates, and every later one as it comes. */
  #releaseCandidates(): void {
    if (this.#releaseTimer !== undefined) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    const held = this.#heldCandidates;
    if (held === undefined) return;
    this.#heldCandidates = undefined;
    for (const candidate of held) this.emit('signal', { type: 'candidate', candidate });
  }

  /** Closes the link when the connection failed or closed before its channel opened. */
  #checkState(): void {
    const pc = this.#peer._pc;
    if (this.#closed || this.#channel !== undefined || pc === undefined) {
      this.#stopStatePoll();
      return;
    }
    for (const state of [pc.connectionState, pc.iceConnectionState])
      if (state === 'failed' || state === 'closed') {
        this.#finish(`connection ${state} before the channel opened`);
        return;
      }
  }

  #stopStatePoll(): void {
    if (this.#statePollTimer !== undefined) clearInterval(this.#statePollTimer);
    this.#statePollTimer = undefined;
  }

  #onSignal(data: Record<string, unknown>): void {
    if ((data.type === 'offer' || data.type === 'answer') && typeof data.sdp === 'string') {
      this.emit('signal', { type: data.type, sdp: withoutCandidates(data.sdp) });
      if (data.type === 'answer') this.#releaseCandidates();
    } else if (data.type === 'candidate' && typeof data.candidate === 'object' && data.candidate !== null) {
      const candidate = data.candidate as CandidateInit;
      if (this.#heldCandidates !== undefined) this.#heldCandidates.push(candidate);
      else this.emit('signal', { type: 'candidate', candidate });
    }
    // simple-peer's renegotiate and transceiverRequest signals concern media, which roommesh never adds.
  }

  #onConnect(): void {
    const channel = this.#peer._channel;
    if (channel === undefined || this.#closed) return;
    this.#channel = channel;
    this.#stopStatePoll();
    channel.bufferedAmountLowThreshold = this.#lowBytes;
    channel.addEventListener('bufferedamountlow', () => this.#drained(true));
    // From now on messages come straight from the channel, not through simple-peer's readable stream (a
    // Buffer made, pushed, and emitted twice per message); what came before the channel was handed over
    // came through the stream, in order, and is already out (the stream flows: it emits as it is pushed).
    channel.onmessage = this.#onMessage;
    this.emit('open');
  }

  // Bound once, not a closure per message.
  readonly #onMessage = (event: MessageEvent): void => {
    if (this.#closed) return;
    const data: unknown = event.data;
    if (data instanceof ArrayBuffer) this.emit('data', new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) this.emit('data', new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    // A text message is not a frame; its bytes go to the decoder, which says so, as simple-peer's did.
    else if (typeof data === 'string') this.emit('data', textEncoder.encode(data));
    else this.#finish('a message that is neither binary nor text');
  };

  /** Starts waiting for the buffer to drain: the `bufferedamountlow` event, or a poll where it never comes. */
  #wait(): void {
    if (this.#waiting) return;
    this.#waiting = true;
    this.#schedulePoll();
  }

  #schedulePoll(): void {
    if (this.#pollTimer !== undefined) return;
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      this.#drained(false);
    }, DRAIN_POLL_MS);
  }

  /** The buffer may have drained: tell the waiting writer when it has, or poll again. */
  #drained(fromEvent: boolean): void {
    const channel = this.#channel;
    if (!this.#waiting || channel === undefined || this.#closed) return;
    // The event means "at or below the low-water mark"; a poll settles for that too, so that a writer
    // refills the buffer in large steps rather than one frame per poll.
    if (
      this.#liveBuffered
        ? this.#drainedNow(channel)
        : fromEvent || Math.max(channel.bufferedAmount, this.#turnBytes) <= this.#lowBytes
    ) {
      this.#waiting = false;
      // The writer resumes now, maybe before this turn's reset: let it see the drained buffer.
      this.#turnBufferedBytes = undefined;
      if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
      this.#pollTimer = undefined;
      this.emit('writable');
    } else {
      this.#schedulePoll();
    }
  }

  /**
   * On an implementation whose `bufferedAmount` is always current (see `markLiveBufferedAmount`), whether the
   * buffer is at or below the low-water mark now. Its `bufferedamountlow` event may be stale: queued when the
   * buffer fell below the mark during a task in which the writer, reading it again ({@link #drainedWithinTask}),
   * went on and filled it past the high-water mark. Trusted, it told the writer `writable` while
   * {@link writable} said no. When so, what this turn counted is in the amount read.
   */
  #drainedNow(channel: RTCDataChannel): boolean {
    if (channel.bufferedAmount > this.#lowBytes) return false;
    this.#turnBytes = 0;
    return true;
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting = false;
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    if (this.#releaseTimer !== undefined) clearTimeout(this.#releaseTimer);
    this.#stopStatePoll();
    this.#peer.destroy();
    // simple-peer leaves this timer running after destroy(); it would hold a Node process open for 5 s.
    if (this.#peer._iceCompleteTimer) clearTimeout(this.#peer._iceCompleteTimer);
    this.emit('close', reason);
  }
}

const textEncoder = new TextEncoder();

/**
 * Drops the candidate lines an offer or answer may already hold: every candidate is trickled as well,
 * and node-datachannel, handed one twice, or one inside the description before its ICE transport exists,
 * sometimes fails the connection ("remote candidate without ICE transport"). Measured over 200 connects
 * each: 21 such failures with the lines, 4 without.
 */
function withoutCandidates(sdp: string): string {
  return sdp.replace(/^a=(candidate|end-of-candidates).*\r?\n/gm, '');
}
