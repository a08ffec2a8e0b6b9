import { io, type Socket } from 'socket.io-client';
import type { BlobOutcome, Expectation, LatencyReply, LatencySend, Received } from '../protocol.js';
import type { RelayClientEvents, RelayServerEvents } from '../servers/relay-server.js';
import type { Endpoint } from './Endpoint.js';
import {
  BLOB_TYPE,
  DONE_TYPE,
  PING_TYPE,
  PONG_TYPE,
  SMALL_TYPE,
  laterTask,
  pingPayload,
  smallPayload,
} from './message.js';
import { Tally, deferred } from './waiters.js';

type RelaySocket = Socket<RelayServerEvents, RelayClientEvents>;
type Handler = (type: string, payload: unknown, attachment: Uint8Array | undefined) => void;

/**
 * The socket.io baseline: every message goes to the bench's relay server, which passes it on. The
 * same typed JSON payloads as roommesh; blobs in 64 KiB binary chunks (socket.io refuses events above
 * 1 MB by default). socket.io has no delivery acknowledgement from the receiver, so the receiver says
 * "done" back through the relay once everything arrived.
 */
export class SocketioEndpoint implements Endpoint {
  readonly id: string;
  readonly #socket: RelaySocket;
  readonly #peers: Set<string>;
  readonly #handlers = new Map<string, Handler>();
  #onPeer: (() => void) | undefined;
  /** How this side echoes, once it does. */
  #echo: LatencyReply | undefined;

  private constructor(socket: RelaySocket, id: string, peers: Set<string>) {
    this.#socket = socket;
    this.id = id;
    this.#peers = peers;
    socket.on('peer_joined', () => this.#onPeer?.());
    socket.on('m', (from, type, payload, attachment) => {
      if (this.#echo !== undefined && type === PING_TYPE) {
        if (this.#echo === 'listener') this.#socket.emit('to', from, PONG_TYPE, payload);
        else laterTask(() => this.#socket.emit('to', from, PONG_TYPE, payload));
      } else this.#handlers.get(from)?.(type, payload, attachment);
    });
    socket.on('relay_error', (e) => console.error(`relay refused a message: ${e.reason}: ${e.message}`));
  }

  /** Connects to the relay at `url` and joins `room`. */
  static async connect(url: string, room: string): Promise<SocketioEndpoint> {
    const socket: RelaySocket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
    // Listening before joining: a peer_joined may arrive before the join's reply has been handled.
    const peers = new Set<string>();
    socket.on('peer_joined', (peer) => void peers.add(peer));
    const reply = await new Promise<{ id: string; peers: string[] } | { error: string }>((resolve, reject) => {
      socket.once('connect_error', reject);
      socket.emit('join', room, resolve);
    });
    if ('error' in reply) {
      socket.close();
      throw new Error(`relay refused join: ${reply.error}`);
    }
    for (const peer of reply.peers) peers.add(peer);
    return new SocketioEndpoint(socket, reply.id, peers);
  }

  async enable(expectedPeers: number): Promise<void> {
    const all = deferred<void>();
    this.#onPeer = () => {
      if (this.#peers.size >= expectedPeers) all.resolve();
    };
    this.#onPeer();
    await all.promise;
  }

  expect(e: Expectation): Promise<Received> {
    const tally = new Tally(e.messages ?? 0, e.bytes ?? 0);
    this.#handlers.set(e.from, (type, _payload, attachment) => {
      const complete =
        type === SMALL_TYPE ? tally.add(1, 0) : type === BLOB_TYPE ? tally.add(0, attachment?.byteLength ?? 0) : false;
      if (complete) this.#socket.emit('to', e.from, DONE_TYPE, {});
    });
    return tally.done.promise.finally(() => this.#handlers.delete(e.from));
  }

  /** A relay has one way to send: `send` does not apply. */
  serveEcho(_send: LatencySend, reply: LatencyReply): void {
    this.#echo = reply;
  }

  async sendMany(to: string, count: number): Promise<void> {
    const done = this.#next(to, DONE_TYPE);
    for (let i = 0; i < count; i++) this.#socket.emit('to', to, SMALL_TYPE, smallPayload(i));
    await done;
  }

  /** `send` does not apply. */
  async roundTrips(to: string, count: number, _send: LatencySend, bytes: number): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const reply = this.#next(to, PONG_TYPE);
      const t0 = performance.now();
      this.#socket.emit('to', to, PING_TYPE, pingPayload(i, bytes));
      const payload = (await reply) as { seq?: unknown };
      samples.push(performance.now() - t0);
      if (payload.seq !== i) throw new Error(`reply ${String(payload.seq)} to request ${i}`);
    }
    return samples;
  }

  async sendBlob(to: string, bytes: Uint8Array, chunkBytes: number): Promise<BlobOutcome> {
    const done = this.#next(to, DONE_TYPE);
    const t0 = performance.now();
    for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
      this.#socket.emit('to', to, BLOB_TYPE, { offset }, bytes.subarray(offset, offset + chunkBytes));
    }
    await done;
    return { elapsedMs: performance.now() - t0 };
  }

  async broadcastMany(count: number, receivers: string[]): Promise<void> {
    const dones = receivers.map((id) => this.#next(id, DONE_TYPE));
    for (let i = 0; i < count; i++) this.#socket.emit('all', SMALL_TYPE, smallPayload(i));
    await Promise.all(dones);
  }

  counters(): Record<string, number> {
    return {};
  }

  close(): Promise<void> {
    this.#socket.close();
    return Promise.resolve();
  }

  /** The payload of the next message of `type` from `from`. */
  #next(from: string, type: string): Promise<unknown> {
    const next = deferred<unknown>();
    this.#handlers.set(from, (t, payload) => {
      if (t !== type) return;
      this.#handlers.delete(from);
      next.resolve(payload);
    });
    return next.promise;
  }
}
