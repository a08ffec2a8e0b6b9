/**
 * The signaling server under attack by raw socket.io clients while honest participants (real
 * node-datachannel peers) go on: malformed and oversized events, signals into other rooms, to ids that
 * do not exist and claiming another sender, floods past the rate limits, and thousands of joins and leaves
 * (polite and abrupt) from many addresses. The attackers get clear errors; the honest participants keep
 * messaging and a newcomer can still reach them; and the server's memory returns to where it was.
 */
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { Harness, eventually } from '../support/harness.js';
import { ack as rawAck, closeRawClients, rawConnect, type WireReply } from '../support/raw-client.js';

/** Documentation addresses (RFC 5737), told through X-Forwarded-For to a server that trusts one proxy. */
const address = (i: number): Record<string, string> => ({ 'x-forwarded-for': `198.51.${(i >> 8) & 255}.${i & 255}` });

// Untracked: this test closes each client itself, and its heap measurement must not see them kept.
const connect = (url: string, headers: Record<string, string>): Promise<Socket> => rawConnect(url, headers, false);

/** Like ack, but a reply that never comes counts as `NoReply` instead of failing the test. */
const ack = (s: Socket, event: string, ...args: unknown[]): Promise<WireReply> =>
  rawAck(s, event, ...args).catch(() => ({ ok: false, error: { reason: 'NoReply', message: '' } }));

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

describe('the signaling server under attack, honest participants unharmed', function () {
  this.timeout(180_000);
  const h = new Harness();
  after(async () => {
    closeRawClients();
    await h.close();
  });

  it('refuses every attack with a clear error, keeps the mesh and newcomers working, and returns to its memory baseline', async () => {
    const server = await h.server({ trustProxy: true, resumeGraceMs: 500 });
    const [alice, bob] = await h.mesh(server, 'honest', ['alice', 'bob']);
    const received: number[] = [];
    bob!.messaging.on('message', (m) => received.push(m.message.n as number));
    let n = 0;
    const sends: Array<Promise<void>> = [];
    const pump = setInterval(
      () => sends.push(alice!.messaging.sendMessage({ to: bob!.localParticipant.id, type: 'n', message: { n: n++ } })),
      20,
    );
    const reasons = new Map<string, number>();
    const count = (r: WireReply): void => {
      const key = r.ok ? 'ok' : String(r.error?.reason);
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    };

    /** One round of everything; `cycles` joins and leaves from as many addresses. */
    const attack = async (cycles: number, seed: number): Promise<void> => {
      const evil = await connect(server.url, address(seed));
      for (const bad of [
        null,
        'x',
        [],
        { v: SIGNALING_VERSION },
        { v: SIGNALING_VERSION, room: 'r'.repeat(500), name: 'm' },
      ])
        count(await ack(evil, 'join', bad));
      count(
        await ack(evil, 'signal', { to: alice!.localParticipant.id, cid: 'c', data: { type: 'offer', sdp: 'v=0' } }),
      ); // before joining
      count(await ack(evil, 'join', { v: SIGNALING_VERSION, room: 'evil', name: 'mallory' }));
      count(await ack(evil, 'enable_messaging'));
      // Into another room, to nobody, and claiming to be alice: refused, or relayed stamped as mallory to nobody.
      count(
        await ack(evil, 'signal', { to: alice!.localParticipant.id, cid: 'c', data: { type: 'offer', sdp: 'v=0' } }),
      );
      count(
        await ack(evil, 'signal', {
          to: 'no-such-id',
          from: alice!.localParticipant.id,
          cid: 'c',
          data: { type: 'offer', sdp: 'v=0' },
        }),
      );
      for (const junk of [
        { to: 'x' },
        { to: 'x', cid: 'c', data: { type: 'rollback' } },
        { to: 'x', cid: 'c', data: { type: 'offer', sdp: 's'.repeat(40_000) } },
      ])
        count(await ack(evil, 'signal', junk));
      evil.emit('no_such_event' as never, { a: 1 });
      // Past the signal rate limit (in batches under the queue limit): beyond the burst, refused.
      for (let b = 0; b < 6; b++) {
        const flood = await Promise.all(
          Array.from({ length: 50 }, () =>
            ack(evil, 'signal', { to: 'no-such-id', cid: 'c', data: { type: 'offer', sdp: 'v=0' } }),
          ),
        );
        flood.forEach(count);
      }
      // An event of several times the payload limit closes only this connection.
      evil.emit('join', { v: SIGNALING_VERSION, room: 'r', name: 'n', pad: 'p'.repeat(300_000) });
      // Past the join limit of one address (JoinRateLimited is among the reasons checked at the end).
      await Promise.all(
        Array.from({ length: 60 }, async () => {
          const s = await connect(server.url, address(seed + 1));
          const r = await ack(s, 'join', { v: SIGNALING_VERSION, room: 'burst', name: 'x' });
          count(r);
          s.close();
        }),
      );
      // Thousands of joins and leaves, from many addresses: half say goodbye, half just drop.
      for (let i = 0; i < cycles; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, async (_, j) => {
            const s = await connect(server.url, address(seed + 2 + i + j));
            const r = await ack(s, 'join', { v: SIGNALING_VERSION, room: `churn-${(i + j) % 7}`, name: `c${i + j}` });
            count(r);
            if (r.ok) count(await ack(s, 'enable_messaging'));
            if ((i + j) % 2 === 0) s.disconnect();
            else (s.io.engine as unknown as { close(): void }).close(); // an abrupt drop: held for a resume, then removed
          }),
        );
      }
      evil.close();
    };

    const settled = async (): Promise<void> => {
      await eventually(
        () => {
          const st = server.stats();
          return st.connections === 2 && st.participants === 2 && st.rooms === 1;
        },
        20_000,
        'the server to hold only the honest participants',
      );
    };

    await attack(200, 1000); // warm-up: code paths compiled, pools filled
    await settled();
    gc();
    const baseline = process.memoryUsage().heapUsed;
    await attack(2000, 20_000);
    await settled();
    // A newcomer still finds and reaches both honest participants through the server.
    const carol = await h.join(server, 'honest', 'carol');
    await carol.messaging.enable();
    expect(carol.messaging.remoteParticipants.map((p) => p.name).sort()).to.deep.equal(['alice', 'bob']);
    clearInterval(pump);
    await Promise.all(sends);
    expect(received).to.deep.equal(Array.from({ length: n }, (_, i) => i));
    await carol.disconnect();
    await settled();
    gc();
    const grownMiB = (process.memoryUsage().heapUsed - baseline) / 2 ** 20;

    // Every refusal named its reason; none was an internal error.
    expect(reasons.get('Internal') ?? 0).to.equal(0);
    expect(reasons.get('NoReply') ?? 0, 'events left without an answer').to.be.at.most(2);
    for (const r of ['BadRequest', 'NotJoined', 'UnknownParticipant', 'SignalRateLimited', 'JoinRateLimited']) {
      expect(reasons.get(r) ?? 0, `${r} in ${JSON.stringify([...reasons])}`).to.be.above(0);
    }
    expect(reasons.get('ok') ?? 0).to.be.above(4000);
    // gc() is there when mocha runs with --expose-gc (npm test does); without it the bound is looser.
    const gcd = typeof (globalThis as { gc?: unknown }).gc === 'function';
    expect(grownMiB, `heap growth over 2,000 join/leave cycles and floods (MiB, gc ${gcd})`).to.be.below(gcd ? 8 : 40);
  });
});
