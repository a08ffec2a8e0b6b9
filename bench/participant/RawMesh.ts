import Peer from 'simple-peer';
import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  IncomingSignal,
  Reply,
  ServerToClientEvents,
  SignalData,
} from '../../lib/protocol/signaling.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { checkIncomingSignal } from '../../lib/protocol/signaling-checks.js';
import { deferred } from './waiters.js';

/** Attempts to connect to one peer before the run fails (roommesh's connectAttempts default). */
const MAX_ATTEMPTS = 4;
/** How long one connect may take before it is dialed again (roommesh's connectAttemptTimeoutMs default). */
const CONNECT_ATTEMPT_TIMEOUT_MS = 5_000;
/** Bytes left in a channel's send buffer before the sender waits; the same as roommesh's PeerLink. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** The `bufferedamountlow` threshold the sender waits for; the same as roommesh's PeerLink. */
const LOW_WATER_BYTES = 256 * 1024;

type SignalingSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Makes the WebRTC implementation of one connection; undefined uses the browser's own RTCPeerConnection. */
export type RawWebRTC = (() => Peer.Options['wrtc']) | undefined;
type PeerWithInternals = Peer.Instance & {
  _channel?: RTCDataChannel;
  _iceCompleteTimer?: ReturnType<typeof setTimeout> | null;
};

/** One simple-peer connection of the raw baseline: the channel and nothing on top. */
export class RawPeer {
  readonly #peer: PeerWithInternals;
  #channel: RTCDataChannel | undefined;
  #low: Array<() => void> = [];

  constructor(peer: PeerWithInternals) {
    this.#peer = peer;
  }

  /** Called once simple-peer says connect. */
  opened(): void {
    const channel = this.#peer._channel;
    if (channel === undefined) throw new Error('simple-peer connected without a channel');
    this.#channel = channel;
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    channel.addEventListener('bufferedamountlow', () => {
      const waiting = this.#low;
      this.#low = [];
      for (const resolve of waiting) resolve();
    });
  }

  /** Sends one message straight to the channel. */
  send(bytes: Uint8Array): void {
    this.#peer.send(bytes);
  }

  /** Undefined when the channel can take more now; else a promise that resolves when it can. */
  whenWritable(): Promise<void> | undefined {
    const channel = this.#channel;
    if (channel === undefined || channel.bufferedAmount < HIGH_WATER_BYTES) return undefined;
    return new Promise((resolve) => this.#low.push(resolve));
  }

  destroy(): void {
    this.#peer.destroy();
    // simple-peer leaves this timer running after destroy() (see lib/internal/PeerLink.ts).
    if (this.#peer._iceCompleteTimer) clearTimeout(this.#peer._iceCompleteTimer);
  }
}

/**
 * A full mesh of plain simple-peer connections through the roommesh signaling server: what the raw
 * baseline does instead of roommesh. The same WebRTC implementation as roommesh on its host (in Node,
 * node-datachannel with roommesh's adaptation: see node-webrtc.ts; in a page, the browser's own) and the
 * same setup choice (the offerer is the DTLS client), no envelope, no hello; a connect that fails, or has
 * not connected after 5 s, is dialed again at once (roommesh: within 50 ms). Offers and answers go as simple-peer makes them,
 * candidate lines included (roommesh strips those: see PeerLink's withoutCandidates).
 */
export class RawMesh {
  readonly id: string;
  readonly peers = new Map<string, RawPeer>();
  readonly #socket: SignalingSocket;
  readonly #wrtc: RawWebRTC;
  readonly #connecting = new Map<string, { peer: PeerWithInternals; cid: string }>();
  #onPeer: (() => void) | undefined;
  /** Connects that failed and were dialed again. */
  retries = 0;
  #failure: Error | undefined;
  /** Receives every message from every peer. */
  onData: (from: string, data: Uint8Array) => void = () => {};

  private constructor(socket: SignalingSocket, id: string, wrtc: RawWebRTC) {
    this.#socket = socket;
    this.id = id;
    this.#wrtc = wrtc;
    socket.on('signal', (s) => {
      const checked = checkIncomingSignal(s);
      if (checked.ok) this.#signal(checked.value);
    });
  }

  /** Connects to the signaling server and joins `room`; `wrtc` makes each connection's WebRTC implementation. */
  static async join(url: string, room: string, name: string, wrtc: RawWebRTC): Promise<RawMesh> {
    const socket: SignalingSocket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    const reply = await new Promise<Reply<{ self: { id: string } }>>((resolve, reject) => {
      socket.once('connect_error', reject);
      socket.emit('join', { v: SIGNALING_VERSION, room, name }, resolve);
    });
    if (!reply.ok) {
      socket.close();
      throw new Error(`join refused: ${reply.error.message}`);
    }
    return new RawMesh(socket, reply.data.self.id, wrtc);
  }

  /** Enables messaging, dials everyone already enabled, answers the rest; resolves when `expectedPeers` are connected. */
  async enable(expectedPeers: number): Promise<void> {
    const all = deferred<void>();
    all.promise.catch(() => {}); // awaited below; a failure may come first
    this.#onPeer = () => {
      if (this.#failure !== undefined) all.reject(this.#failure);
      else if (this.peers.size >= expectedPeers) all.resolve();
    };
    const reply = await new Promise<Reply<{ participants: Array<{ id: string }> }>>((resolve) =>
      this.#socket.emit('enable_messaging', resolve),
    );
    if (!reply.ok) throw new Error(`enable_messaging refused: ${reply.error.message}`);
    for (const p of reply.data.participants) {
      if (p.id !== this.id) this.#start(p.id, crypto.randomUUID(), true);
    }
    this.#onPeer();
    await all.promise;
  }

  close(): void {
    for (const { peer } of this.#connecting.values()) peer.destroy();
    for (const p of this.peers.values()) p.destroy();
    this.#socket.close();
  }

  #start(remoteId: string, cid: string, initiator: boolean, attempt = 1): PeerWithInternals {
    const options: Peer.Options = {
      initiator,
      trickle: true,
      config: { iceServers: [] },
      channelConfig: { ordered: true },
    };
    const wrtc = this.#wrtc?.();
    if (wrtc !== undefined) options.wrtc = wrtc;
    const peer = new Peer(options) as PeerWithInternals;
    this.#connecting.set(remoteId, { peer, cid });
    // A connect can also stall without an error (e.g. a lost DTLS flight): treat it as failed.
    const stalled = setTimeout(
      () => peer.emit('error', new Error(`not connected within ${CONNECT_ATTEMPT_TIMEOUT_MS} ms`)),
      CONNECT_ATTEMPT_TIMEOUT_MS,
    );
    peer.once('connect', () => clearTimeout(stalled));
    peer.once('close', () => clearTimeout(stalled));
    peer.on('signal', (data: Record<string, unknown>) => {
      const out = toSignalData(data);
      if (out === undefined) return;
      this.#socket.emit('signal', { to: remoteId, cid, data: out }, (r: Reply<unknown>) => {
        if (!r.ok) this.#fail(new Error(`signaling server refused a signal: ${r.error.message}`));
      });
    });
    peer.on('connect', () => {
      this.#connecting.delete(remoteId);
      const raw = new RawPeer(peer);
      raw.opened();
      this.peers.set(remoteId, raw);
      this.#onPeer?.();
    });
    peer.on('data', (data: Uint8Array) => this.onData(remoteId, data));
    peer.on('error', (err: Error) => {
      const current = this.#connecting.get(remoteId);
      if (current?.peer !== peer) {
        if (this.peers.has(remoteId)) this.#fail(new Error(`raw connection to ${remoteId} failed: ${err.message}`));
        return;
      }
      // A connect that fails is dialed again at once by the side that dialed, up to MAX_ATTEMPTS.
      this.#connecting.delete(remoteId);
      peer.destroy();
      if (!initiator) return;
      if (attempt >= MAX_ATTEMPTS)
        this.#fail(new Error(`raw connection to ${remoteId} failed ${attempt} times: ${err.message}`));
      else {
        this.retries++;
        this.#start(remoteId, crypto.randomUUID(), true, attempt + 1);
      }
    });
    return peer;
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#onPeer?.();
  }

  #signal(s: IncomingSignal): void {
    let current = this.#connecting.get(s.from);
    if (current === undefined || (current.cid !== s.cid && s.data.type === 'offer')) {
      // A new offer: the first, or a redial after a failed connect.
      if (s.data.type !== 'offer' || this.peers.has(s.from)) return;
      current?.peer.destroy();
      current = { peer: this.#start(s.from, s.cid, false), cid: s.cid };
    }
    if (current.cid !== s.cid) return;
    // The same choice roommesh's PeerLink makes: the offerer is the DTLS client, so no 1 s retransmission.
    const data =
      s.data.type === 'offer'
        ? {
            type: 'offer' as const,
            sdp: s.data.sdp.replace(/^a=setup:actpass\r?$/gm, (l) => l.replace('actpass', 'active')),
          }
        : s.data;
    current.peer.signal(data as Peer.SignalData);
  }
}

function toSignalData(data: Record<string, unknown>): SignalData | undefined {
  if ((data.type === 'offer' || data.type === 'answer') && typeof data.sdp === 'string')
    return { type: data.type, sdp: data.sdp };
  if (data.type === 'candidate' && typeof data.candidate === 'object' && data.candidate !== null) {
    return { type: 'candidate', candidate: data.candidate as { candidate: string } };
  }
  return undefined;
}
