/**
 * A client that stops reading what the server sends, and goes on sending requests whose replies pile up
 * for it: the server drops it once it holds `maxUnreadOutputBytes` for it, and neither its memory nor the
 * honest members of the room suffer.
 */
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { DEFAULT_SERVER_OPTIONS } from '../../signaling/server.js';
import { Harness, eventually } from '../support/harness.js';
import { httpGet } from '../support/processes.js';
import { ack, closeRawClients, rawConnect, wireConnect } from '../support/raw-client.js';

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
/** What the test process holds: the server runs in it. */
const heldBytes = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

describe('signaling server backpressure', function () {
  this.timeout(60_000);
  const h = new Harness();
  afterEach(async () => {
    closeRawClients();
    await h.close();
  });

  it('maxUnreadOutputBytes: a client that stops reading and floods requests is dropped; memory stays bounded; honest members stay', async () => {
    const server = await h.server({ metrics: true });
    // Honest members with the longest names: every enable reply the flooder asks for lists them all.
    const honest: Array<{ s: Socket; id: string }> = [];
    for (let i = 0; i < 4; i++) {
      const s = await rawConnect(server.url);
      const j = await ack(s, 'join', { v: SIGNALING_VERSION, room: 'r', name: `${i}`.padEnd(128, 'n') });
      expect((await ack(s, 'enable_messaging')).ok).to.equal(true);
      honest.push({ s, id: j.data.self.id as string });
    }
    const evil = await wireConnect(server.port);
    evil.send('join', [{ v: SIGNALING_VERSION, room: 'r', name: 'mallory' }], 0);
    expect((await evil.reply(0)).ok).to.equal(true);
    gc();
    const baseline = heldBytes();

    evil.pauseReading();
    const t0 = Date.now();
    let sentBytes = 0;
    const frame = `421${JSON.stringify(['enable_messaging'])}`;
    while (server.stats().connections > honest.length && Date.now() - t0 < 20_000) {
      // The test's own send buffer stays small: the server reads everything it is sent.
      if (evil.ws.readyState !== evil.ws.OPEN) break;
      if (evil.ws.bufferedAmount < 256 * 1024) {
        for (let i = 0; i < 200; i++) evil.ws.send(frame);
        sentBytes += 200 * frame.length;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const tookMs = Date.now() - t0;
    await eventually(
      () => server.stats().connections === honest.length,
      5000,
      `the flooder to be dropped (sent ${sentBytes} bytes in ${tookMs} ms)`,
    );
    evil.ws.terminate();
    gc();
    const grownMiB = (heldBytes() - baseline) / 2 ** 20;
    expect(grownMiB, 'growth of the server while the flooder ran, MiB').to.be.below(
      (2 * DEFAULT_SERVER_OPTIONS.maxUnreadOutputBytes) / 2 ** 20 + 8,
    );
    const body = (await httpGet(server.port, '/metrics')).body;
    expect(body).to.match(/roommesh_rejections_total\{reason="SlowConsumer"\} 1\n/);
    // The honest members were never dropped, and still reach each other.
    for (const m of honest) expect(m.s.connected).to.equal(true);
    const [a, b] = honest as [{ s: Socket; id: string }, { s: Socket; id: string }];
    const got = new Promise((resolve) => b.s.once('signal', resolve));
    expect((await ack(a.s, 'signal', { to: b.id, cid: 'c', data: { type: 'offer', sdp: 'v=0\r\n' } })).ok).to.equal(
      true,
    );
    await got;
  });
});
