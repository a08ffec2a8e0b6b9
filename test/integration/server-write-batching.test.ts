/**
 * signaling/write-batching.ts on a real socket.io server and client over loopback: what the server sends a
 * connection in one turn (a binary event is a header and an attachment) goes in one write of its TCP
 * socket, counted at the socket; without it (the control) each websocket message takes a write of its own.
 */
import { expect } from 'chai';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connectClient, type Socket } from 'socket.io-client';
import { batchWrites, type BatchedConnection } from '../../signaling/write-batching.js';
import { countWrites } from '../support/socket-writes.js';

/** Counts the writes (system calls) of the server-side TCP socket under `socket` from now on. */
function countServerWrites(socket: ServerSocket): () => number {
  const transport = socket.conn.transport as unknown as { socket: { _socket: unknown } };
  return countWrites(transport.socket._socket);
}

describe('server write batching (socket.io server and client, loopback)', function () {
  this.timeout(10_000);
  let http: HttpServer;
  let server: Server;
  let batched = true;
  const clients: Socket[] = [];

  before(async () => {
    http = createServer();
    server = new Server(http, { transports: ['websocket'] });
    server.on('connection', (socket) => {
      if (batched) batchWrites(socket.conn as unknown as BatchedConnection);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  /** The server's writes for one binary event, then for five binary events emitted in one turn. */
  const writesOf = async (): Promise<[number, number]> => {
    const connected = new Promise<ServerSocket>((resolve) => server.once('connection', resolve));
    const client = connectClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
      transports: ['websocket'],
      forceNew: true,
    });
    clients.push(client);
    const socket = await connected;
    await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
    const writes = countServerWrites(socket);
    const received = (n: number): Promise<void> => {
      let got = 0;
      return new Promise((resolve) => {
        const on = (data: unknown): void => {
          expect(data).to.be.instanceOf(Uint8Array);
          if (++got === n) {
            client.off('frame', on);
            resolve();
          }
        };
        client.on('frame', on);
      });
    };
    let arrived = received(1);
    socket.emit('frame', new Uint8Array(64));
    await arrived;
    const one = writes();
    arrived = received(5);
    for (let i = 0; i < 5; i++) socket.emit('frame', new Uint8Array(64));
    await arrived;
    return [one, writes() - one];
  };

  it('writes a binary event, and five emitted in one turn, in one write each time', async () => {
    batched = true;
    expect(await writesOf()).to.deep.equal([1, 1]);
  });

  it('without it (the control), each websocket message takes a write', async () => {
    batched = false;
    const [one, five] = await writesOf();
    expect(one).to.equal(2);
    expect(five).to.be.greaterThan(1);
  });
});
