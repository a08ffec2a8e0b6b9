/**
 * The client's event window against a real server in its own process, stopped (SIGSTOP) while a real
 * SignalingClient sends hundreds of relayed frames and signals: when it runs again, none was refused with
 * `TooManyRequests` (the server's /metrics and the client's log both say so) and every frame arrived, in
 * order. Without the window the server refuses most of them (the client would have sent them all at once).
 */
import { expect } from 'chai';
import { silentLogger, type Logger } from '../../lib/logger.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { SignalingClient } from '../../lib/signaling/SignalingClient.js';
import { httpGet, startSignal, stopAll, until, type Proc } from '../support/processes.js';

/** A P-256 public key in the shape clients send (87 base64url characters); nobody opens these frames. */
const KEY = 'B'.repeat(87);

describe('signaling client event window (server in a child process)', function () {
  this.timeout(30_000);
  let server: Proc & { url: string };
  const clients: SignalingClient[] = [];

  const refusals = async (): Promise<number> => {
    const body = (await httpGet(server.port, '/metrics')).body;
    const line = body.split('\n').find((l) => l.startsWith('roommesh_rejections_total{reason="TooManyRequests"} '));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  };
  const client = async (name: string, logger: Logger = silentLogger): Promise<{ c: SignalingClient; id: string }> => {
    const c = await SignalingClient.connect(server.url, {
      timeoutMs: 20_000,
      reconnectMaxDelayMs: 1000,
      messagingEnabled: () => true,
      logger,
    });
    clients.push(c);
    const reply = await c.join({ v: SIGNALING_VERSION, room: 'w', name, relayKey: KEY });
    await c.enableMessaging();
    return { c, id: reply.self.id };
  };

  before(async () => {
    server = await startSignal(['--joins-per-second-per-ip', '0']);
  });
  after(async () => {
    for (const c of clients) c.close();
    await stopAll();
  });

  it('keeps its events below the server’s limit while the server is stopped: none refused, all in order', async () => {
    const refusedLogs: unknown[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (obj, msg) => {
        if (msg === 'signaling server refused a request') refusedLogs.push(obj);
      },
    };
    const alice = await client('alice', logger);
    const bob = await client('bob');
    const got: number[] = [];
    bob.c.on('relay', (from, data) => {
      if (from === alice.id) got.push(new DataView(data.buffer, data.byteOffset).getUint32(0));
    });
    const relayRefused: unknown[] = [];
    alice.c.on('relay_refused', (r) => relayRefused.push(r));
    const before = await refusals();

    const frames = 300;
    server.child.kill('SIGSTOP');
    let sent: Promise<void[]>;
    try {
      const sends: Array<Promise<void>> = [];
      for (let i = 0; i < frames; i++) {
        const data = new Uint8Array(8);
        new DataView(data.buffer).setUint32(0, i);
        sends.push(alice.c.sendRelay(bob.id, data));
        // Signals (acknowledged events) share the window with the frames.
        if (i % 50 === 0) alice.c.sendSignal(bob.id, `cid.${i}`, { type: 'offer', sdp: 'v=0' });
      }
      sent = Promise.all(sends);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      server.child.kill('SIGCONT');
    }
    await sent;
    await until(
      async () => got.length >= frames || (await refusals()) > before,
      15_000,
      `${frames} frames at bob, or a refusal`,
    );
    expect((await refusals()) - before, 'TooManyRequests refusals').to.equal(0);
    expect(refusedLogs).to.deep.equal([]);
    expect(relayRefused).to.deep.equal([]);
    expect(got).to.deep.equal(Array.from({ length: frames }, (_, i) => i));
  });
});
