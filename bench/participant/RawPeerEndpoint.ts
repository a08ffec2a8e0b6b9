import type { BlobOutcome, Expectation, LatencyReply, LatencySend, Received } from '../protocol.js';
import type { Endpoint } from './Endpoint.js';
import { laterTask, pingBytes, smallMessageBytes } from './message.js';
import { RawMesh, type RawPeer, type RawWebRTC } from './RawMesh.js';
import { Tally, deferred } from './waiters.js';

/** The one-byte message a raw receiver sends back once everything arrived. */
const DONE = new Uint8Array([0x06]);

/**
 * The raw baseline: pre-encoded bytes on plain simple-peer channels, no envelope, no acknowledgement.
 * Completion is a one-byte "done" from the receiver over the same channel, so "delivered" means the
 * same thing as for roommesh: the receiver has everything (plus one one-way trip, as an ack costs).
 */
export class RawPeerEndpoint implements Endpoint {
  readonly #mesh: RawMesh;
  /** Who handles the next message from each peer; by default nobody. */
  readonly #handlers = new Map<string, (data: Uint8Array) => void>();
  /** How this side echoes, once it does. */
  #echo: LatencyReply | undefined;

  private constructor(mesh: RawMesh) {
    this.#mesh = mesh;
    mesh.onData = (from, data) => {
      if (this.#echo !== undefined) {
        if (this.#echo === 'listener') this.#mesh.peers.get(from)?.send(data);
        else laterTask(() => this.#mesh.peers.get(from)?.send(data));
        return;
      }
      this.#handlers.get(from)?.(data);
    };
  }

  /** Joins `room` through the signaling server at `url`; `wrtc` as for {@link RawMesh.join}. */
  static async connect(url: string, room: string, name: string, wrtc: RawWebRTC): Promise<RawPeerEndpoint> {
    return new RawPeerEndpoint(await RawMesh.join(url, room, name, wrtc));
  }

  get id(): string {
    return this.#mesh.id;
  }

  enable(expectedPeers: number): Promise<void> {
    return this.#mesh.enable(expectedPeers);
  }

  expect(e: Expectation): Promise<Received> {
    const tally = new Tally(e.messages ?? 0, e.bytes ?? 0);
    const counting = e.bytes === undefined;
    this.#handlers.set(e.from, (data) => {
      if (tally.add(counting ? 1 : 0, counting ? 0 : data.byteLength)) this.#peer(e.from).send(DONE);
    });
    return tally.done.promise.finally(() => this.#handlers.delete(e.from));
  }

  /** A raw channel has one way to send: `send` does not apply. */
  serveEcho(_send: LatencySend, reply: LatencyReply): void {
    this.#echo = reply;
  }

  async sendMany(to: string, count: number): Promise<void> {
    const peer = this.#peer(to);
    const done = this.#next(to);
    const bytes = smallMessageBytes(0);
    for (let i = 0; i < count; i++) {
      const wait = peer.whenWritable();
      if (wait !== undefined) await wait;
      peer.send(bytes);
    }
    await done;
  }

  /** Pre-encoded, as every raw message; `send` does not apply. */
  async roundTrips(to: string, count: number, _send: LatencySend, size: number): Promise<number[]> {
    const peer = this.#peer(to);
    const bytes = pingBytes(0, size);
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const reply = this.#next(to);
      const t0 = performance.now();
      peer.send(bytes);
      const back = await reply;
      samples.push(performance.now() - t0);
      if (back.byteLength !== bytes.byteLength)
        throw new Error(`echo of ${back.byteLength} bytes for ${bytes.byteLength}`);
    }
    return samples;
  }

  async sendBlob(to: string, bytes: Uint8Array, chunkBytes: number): Promise<BlobOutcome> {
    const peer = this.#peer(to);
    const done = this.#next(to);
    const t0 = performance.now();
    for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
      const wait = peer.whenWritable();
      if (wait !== undefined) await wait;
      peer.send(bytes.subarray(offset, offset + chunkBytes));
    }
    await done;
    return { elapsedMs: performance.now() - t0 };
  }

  async broadcastMany(count: number, receivers: string[]): Promise<void> {
    const peers = receivers.map((id) => this.#peer(id));
    const dones = receivers.map((id) => this.#next(id));
    const bytes = smallMessageBytes(0);
    for (let i = 0; i < count; i++) {
      for (const peer of peers) {
        const wait = peer.whenWritable();
        if (wait !== undefined) await wait;
        peer.send(bytes);
      }
    }
    await Promise.all(dones);
  }

  counters(): Record<string, number> {
    return { redials: this.#mesh.retries };
  }

  close(): Promise<void> {
    this.#mesh.close();
    return Promise.resolve();
  }

  #peer(id: string): RawPeer {
    const peer = this.#mesh.peers.get(id);
    if (peer === undefined) throw new Error(`no raw connection to ${id}`);
    return peer;
  }

  /** The next message from `from`. */
  #next(from: string): Promise<Uint8Array> {
    const next = deferred<Uint8Array>();
    this.#handlers.set(from, (data) => {
      this.#handlers.delete(from);
      next.resolve(data);
    });
    return next.promise;
  }
}
