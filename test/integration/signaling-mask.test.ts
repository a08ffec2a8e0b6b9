/**
 * The Node entry's signaling websocket sends its frames with an all-zero masking key
 * (lib/signaling/node-websocket.ts), read off the wire by a TCP relay between a real client and a real
 * server: the server still understands every frame, and engine.io's own transport, the control, masks
 * with random keys. The relayed payload also crosses unchanged (a message over the relay arrives). And the
 * Node transport writes what one turn emits in one socket write (a binary event is two websocket messages).
 */
import { expect } from 'chai';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { openSocket, type SignalingTransport } from '../../lib/signaling/socket.js';
import { ZeroMaskNodeWebSocket } from '../../lib/signaling/node-websocket.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness, eventually } from '../support/harness.js';
import { countWrites } from '../support/socket-writes.js';

/** The masking keys of the websocket frames a client sent, parsed from the bytes after its HTTP upgrade. */
class FrameTap {
  readonly keys: Buffer[] = [];
  #buffered = Buffer.alloc(0);
  #upgraded = false;

  push(chunk: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    if (!this.#upgraded) {
      const end = this.#buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.#upgraded = true;
      this.#buffered = this.#buffered.subarray(end + 4);
    }
    for (;;) {
      const b = this.#buffered;
      if (b.length < 2) return;
      const masked = (b[1] as number) & 0x80;
      let length = (b[1] as number) & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (masked === 0) throw new Error('a client frame without a mask');
      if (b.length < at + 4 + length) return;
      this.keys.push(Buffer.from(b.subarray(at, at + 4)));
      this.#buffered = b.subarray(at + 4 + length);
    }
  }
}

/** A TCP relay to `port` on 127.0.0.1 that taps what each client sends. */
async function tapProxy(port: number): Promise<{ url: string; taps: FrameTap[]; close: () => Promise<void> }> {
  const taps: FrameTap[] = [];
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    const tap = new FrameTap();
    taps.push(tap);
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk: Buffer) => {
      tap.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  if (address === null || typeof address === 'string') throw new Error('no proxy port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    taps,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

const isZero = (key: Buffer): boolean => key.every((b) => b === 0);

/** Counts the writes of `socket`'s TCP socket from now on. */
function countClientWrites(socket: Awaited<ReturnType<typeof openSocket>>): () => number {
  const transport = socket.io.engine.transport as unknown as { ws: { _socket: unknown } };
  return countWrites(transport.ws._socket);
}

describe('signaling websocket masking (a TCP tap between a real client and server)', function () {
  this.timeout(20_000);
  const h = new Harness();
  let server: SignalingServer;
  let proxy: Awaited<ReturnType<typeof tapProxy>>;

  before(async () => {
    server = await h.server();
    proxy = await tapProxy(Number(new URL(server.url).port));
  });
  after(async () => {
    await h.close();
    await proxy.close();
  });

  /** Opens a socket through the tap with `transport`, has the server answer a join, and returns the keys sent. */
  const keysOfJoin = async (transport: SignalingTransport): Promise<Buffer[]> => {
    const before = proxy.taps.length;
    const socket = await openSocket(proxy.url, 5000, transport);
    try {
      const reply = (await socket
        .timeout(5000)
        .emitWithAck('join', { v: SIGNALING_VERSION, room: 'mask', name: 'probe' })) as {
        ok: boolean;
      };
      expect(reply.ok, 'the server understood the frames').to.equal(true);
    } finally {
      socket.close();
    }
    const tap = proxy.taps[before];
    expect(tap, 'the connection went through the tap').to.not.equal(undefined);
    return (tap as FrameTap).keys;
  };

  it('the Node transport masks every frame with zeros, and the server answers', async () => {
    const keys = await keysOfJoin(ZeroMaskNodeWebSocket);
    expect(keys.length).to.be.greaterThan(0);
    expect(keys.filter((k) => !isZero(k))).to.deep.equal([]);
  });

  it('engine.io’s own transport (the control) masks with random keys', async () => {
    const keys = await keysOfJoin('websocket');
    expect(keys.length).to.be.greaterThan(0);
    expect(keys.some((k) => !isZero(k))).to.equal(true);
  });

  /** Socket writes of one binary event, then of five emitted in one turn, with `transport`. */
  const writesOf = async (transport: SignalingTransport): Promise<[number, number]> => {
    const socket = await openSocket(server.url, 5000, transport);
    try {
      const writes = countClientWrites(socket);
      const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));
      // Not joined: the server refuses each (request_error); only what the client writes counts here.
      socket.emit('relay', { to: 'nobody', data: new Uint8Array(8) });
      await settle();
      const one = writes();
      for (let i = 0; i < 5; i++) socket.emit('relay', { to: 'nobody', data: new Uint8Array(8) });
      await settle();
      return [one, writes() - one];
    } finally {
      socket.close();
    }
  };

  it('the Node transport writes a binary event (header and attachment) and a turn’s events in one write', async () => {
    expect(await writesOf(ZeroMaskNodeWebSocket)).to.deep.equal([1, 1]);
  });

  it('engine.io’s own transport (the control) writes each websocket message on its own', async () => {
    const [one, five] = await writesOf('websocket');
    expect(one).to.equal(2);
    expect(five).to.be.greaterThan(1);
  });

  it('a Node-entry Room sends unmasked, and a relayed message crosses intact', async () => {
    const before = proxy.taps.length;
    const [a, b] = await Promise.all([
      h.join(server, 'mask-room', 'a', { url: proxy.url, paths: 'relay' }),
      h.join(server, 'mask-room', 'b', { url: proxy.url, paths: 'relay' }),
    ]);
    await Promise.all([a.messaging.enable(), b.messaging.enable()]);
    await eventually(() => a.messaging.remoteParticipants.length === 1, 5000, 'b present at a');
    const got: unknown[] = [];
    b.messaging.on('message', (m) => got.push(m.message));
    await a.messaging.sendMessage({ to: b.localParticipant.id, type: 'note', message: { text: 'x'.repeat(70_000) } });
    await eventually(() => got.length === 1, 5000, 'the relayed message at b');
    expect(got[0]).to.deep.equal({ text: 'x'.repeat(70_000) });
    const taps = proxy.taps.slice(before);
    expect(taps.length).to.equal(2);
    for (const tap of taps) {
      expect(tap.keys.length).to.be.greaterThan(0);
      expect(tap.keys.filter((k) => !isZero(k))).to.deep.equal([]);
    }
  });
});
