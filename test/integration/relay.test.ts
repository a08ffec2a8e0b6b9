/**
 * Every pair reachable: participants that reach the signaling server but can never reach each other
 * (each in a network namespace of its own, on the server through a Unix socket), and one sharing a
 * namespace with another, so that some pairs of the room are relayed and some direct. Real processes,
 * real node-datachannel, the real server's relay. Needs root and iproute2 (`ip netns`); skipped without.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { generateRelayKeyPair } from '../../lib/link/relay-crypto.js';
import { encodeRelayOpen, encodeRelaySealed, relaySealedHeader } from '../../lib/protocol/relay-frames.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { RELAY_WINDOW_BYTES } from '../../lib/link/RelayLink.js';
import { CONNECTION_DEFAULTS } from '../../signaling/options-connections.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness } from '../support/harness.js';
import { httpGet } from '../support/processes.js';
import { ack, closeRawClients, connect, next } from '../support/raw-client.js';
import { NetnsLab, type NsParticipant, lastEvent, waitForEvent } from '../support/netns.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/relay-participant.js', import.meta.url));

/** The attachment the fixture sends for message `n` of `bytes`. */
function pattern(n: number, bytes: number): string {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) out[i] = (i / 4096 + n) & 0xff;
  return createHash('sha256').update(out).digest('hex');
}

describe('the relayed path (participants in network namespaces that cannot reach each other)', function () {
  this.timeout(120_000);
  const h = new Harness();
  const lab = new NetnsLab('roommesh-relay');
  let alice: NsParticipant;
  let bob: NsParticipant;
  let carol: NsParticipant;
  let server: SignalingServer;
  /** Bytes the server has relayed so far (its metric). */
  const relayedBytes = async (): Promise<number> => {
    const body = (await httpGet(server.port, '/metrics')).body;
    return Number(/^roommesh_relayed_bytes_total (\d+)$/m.exec(body)?.[1] ?? NaN);
  };

  before(async function () {
    if (!NetnsLab.available()) this.skip(); // needs root and iproute2's `ip netns`
    // A relay fast enough that a 64 MiB attachment takes seconds, not the default 4 MiB/s.
    server = await h.server({ relayBytesPerSecond: 64 << 20, relayBurstBytes: 8 << 20 });
    await lab.forwardTo(server.port);
    const nsA = lab.namespace('a');
    const nsB = lab.namespace('b');
    alice = await lab.start(nsA, FIXTURE, [lab.socketPath, 'r', 'alice', 'relay-first'], 'alice');
    bob = await lab.start(nsB, FIXTURE, [lab.socketPath, 'r', 'bob', 'relay-first'], 'bob');
    // carol shares bob's namespace: bob and carol can go direct. She pipelines to bob from the moment he is present.
    carol = await lab.start(nsB, FIXTURE, [lab.socketPath, 'r', 'carol', 'relay-first', 'bob', '10000'], 'carol');
  });
  after(async () => {
    closeRawClients();
    await lab.close();
    await h.close();
  });

  it('makes every pair present, the relayed ones relayed and the shared-namespace pair direct', async () => {
    expect(carol.ready.present).to.have.members(['alice', 'bob']);
    // enable() waited for both: presence over the relay does not wait for WebRTC.
    console.log(`      carol's enable() with 2 present: ${Math.round(carol.ready.enableMs as number)} ms`);
    await waitForEvent(alice, (e) => e.added === 'bob', 5000, 'alice sees bob');
    await waitForEvent(alice, (e) => e.added === 'carol', 5000, 'alice sees carol');
    expect(lastEvent(alice, (e) => e.added === 'bob')?.state).to.equal('relayed');
    // Present over the relay, then direct; or direct already when carol's hello came (the channel won the race).
    const direct = (e: Record<string, unknown>): boolean =>
      (e.link === 'carol' || e.added === 'carol') && e.state === 'direct';
    await waitForEvent(bob, direct, 10_000, 'bob and carol go direct');
    // alice's pairs never go direct: there is no path.
    await new Promise((r) => setTimeout(r, 500));
    expect(alice.events.filter((e) => e.link !== undefined && e.state === 'direct')).to.deep.equal([]);
  });

  it('10,000 pipelined messages arrive once each and in order across the move from relayed to direct', async () => {
    await waitForEvent(carol, (e) => e.pipelined !== undefined, 60_000, 'carol’s pipeline to finish');
    const done = lastEvent(carol, (e) => e.pipelined !== undefined)?.pipelined as Record<string, unknown>;
    expect(done.failed).to.deep.equal([]);
    expect(done.ok).to.equal(10_000);
    expect(done.firstState, 'the pipeline started on the relay').to.equal('relayed');
    expect(done.lastState).to.equal('direct');
    bob.proc.send({ report: true });
    await waitForEvent(bob, (e) => e.report !== undefined, 5000, 'bob’s report');
    const report = lastEvent(bob, (e) => e.report !== undefined)?.report as Record<string, Record<string, unknown>>;
    expect(report.carol).to.deep.include({ count: 10_000, inOrder: true, duplicates: 0 });
  });

  it('carries direct messages, broadcasts and a 64 MiB attachment over the relay, hash compared', async () => {
    alice.proc.send({ send: { to: bob.id, n: 1 } });
    await waitForEvent(bob, (e) => (e.got as { n?: number })?.n === 1, 5000, 'message 1');
    alice.proc.send({ broadcast: { n: 2 } });
    await waitForEvent(alice, (e) => (e.broadcasted as { n?: number })?.n === 2, 10_000, 'the broadcast');
    expect(lastEvent(alice, (e) => e.broadcasted !== undefined)?.broadcasted).to.deep.equal({
      n: 2,
      delivered: 2,
      failed: 0,
    });
    const size = 64 << 20;
    alice.proc.send({ send: { to: bob.id, n: 3, bytes: size } });
    await waitForEvent(alice, (e) => (e.sent as { n?: number })?.n === 3, 60_000, 'the attachment acknowledged');
    expect(lastEvent(alice, (e) => (e.sent as { n?: number })?.n === 3)?.sent).to.deep.equal({ n: 3, ok: true });
    const got = lastEvent(bob, (e) => (e.got as { n?: number })?.n === 3)?.got as Record<string, unknown>;
    expect(got).to.deep.include({ from: 'alice', bytes: size, sha256: pattern(3, size) });
    expect(lastEvent(bob, (e) => e.link === 'alice')?.state ?? 'relayed').to.equal('relayed');
  });

  it('direct-first: a newcomer that cannot connect directly is relayed once its direct attempt failed', async () => {
    const nsC = lab.namespace('c');
    const dave = await lab.start(nsC, FIXTURE, [lab.socketPath, 'r', 'dave', 'direct-first'], 'dave');
    await waitForEvent(dave, (e) => e.added === 'bob', 15_000, 'dave sees bob');
    expect(lastEvent(dave, (e) => e.added === 'bob')?.state).to.equal('relayed');
    console.log(`      dave's enable() (direct attempts first): ${Math.round(dave.ready.enableMs as number)} ms`);
    dave.proc.send({ send: { to: bob.id, n: 5 } });
    await waitForEvent(bob, (e) => (e.got as { n?: number })?.n === 5, 5000, 'bob gets dave’s message');
  });

  it('a participant sending sealed frames that do not open is reported and cut off; nothing reaches the app', async () => {
    const keys = await generateRelayKeyPair();
    const mallory = await connect(server.url);
    const joined = await ack(mallory, 'join', {
      v: SIGNALING_VERSION,
      room: 'r',
      name: 'mallory',
      relayKey: keys.publicKey,
    });
    expect(joined.ok).to.equal(true);
    expect((await ack(mallory, 'enable_messaging')).ok).to.equal(true);
    // Opens a relayed link to bob as a dialing participant would; bob accepts; then a forged sealed frame.
    const linkId = new Uint8Array(16).fill(9);
    const accepted = next(mallory, 'relay');
    mallory.emit('relay', { to: bob.id, data: encodeRelayOpen(linkId, 'forged-session') });
    await accepted;
    mallory.emit('relay', {
      to: bob.id,
      data: encodeRelaySealed(relaySealedHeader(linkId, 0), new Uint8Array(64).fill(7)),
    });
    await waitForEvent(bob, (e) => e.error === 'BadFrame', 5000, 'bob to report the frame');
    expect(String(lastEvent(bob, (e) => e.error === 'BadFrame')?.detail)).to.match(/did not open \(BadSeal\)/);
    expect(bob.events.filter((e) => (e.got as { from?: string })?.from === 'mallory')).to.deep.equal([]);
    // bob carries on with everyone else.
    carol.proc.send({ send: { to: bob.id, n: 6 } });
    await waitForEvent(bob, (e) => (e.got as { n?: number })?.n === 6, 5000, 'carol’s message after it');
    mallory.close();
  });

  it('a frozen relayed receiver: the relay carries at most a window for it, and the transfer completes after', async () => {
    // Under way when alice freezes: 64 MiB take over a second at this server's 64 MiB/s.
    const size = 64 << 20;
    bob.proc.send({ send: { to: alice.id, n: 4, bytes: size } });
    await new Promise((r) => setTimeout(r, 300));
    alice.proc.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 200)); // what was in flight lands
    expect(
      lastEvent(bob, (e) => (e.sent as { n?: number })?.n === 4),
      'done before the freeze',
    ).to.equal(undefined);
    const before = await relayedBytes();
    await new Promise((r) => setTimeout(r, 1000)); // shorter than the fixture's 2 s heartbeat timeout
    const during = (await relayedBytes()) - before;
    alice.proc.kill('SIGCONT');
    // End-to-end flow control: bob may have a window (1 MiB) unacknowledged on the link, and the server
    // holds no more; what it relays while alice is frozen is at most that and its frames' headers.
    expect(during, 'bytes relayed while the receiver was frozen').to.be.below(RELAY_WINDOW_BYTES + 16 * 1024);
    // So three peers relaying to a receiver that stops reading stay under the server's unread limit, frames'
    // headers and a credit each included: it is dropped as a slow consumer only when a fourth streams at once.
    expect(3 * (RELAY_WINDOW_BYTES + 64 * 1024)).to.be.below(CONNECTION_DEFAULTS.maxUnreadOutputBytes);
    await waitForEvent(bob, (e) => (e.sent as { n?: number })?.n === 4, 60_000, 'the attachment acknowledged');
    expect(lastEvent(bob, (e) => (e.sent as { n?: number })?.n === 4)?.sent).to.deep.equal({ n: 4, ok: true });
    await waitForEvent(alice, (e) => (e.got as { n?: number })?.n === 4, 5000, 'alice to have it');
    const got = lastEvent(alice, (e) => (e.got as { n?: number })?.n === 4)?.got as Record<string, unknown>;
    expect(got).to.deep.include({ from: 'bob', bytes: size, sha256: pattern(4, size) });
    expect(alice.events.filter((e) => e.removed !== undefined)).to.deep.equal([]);
  });

  it("paths 'relay' takes no direct channel, even from a dialer that could reach it directly", async () => {
    const nsB = lab.namespace('b2');
    const erin = await lab.start(nsB, FIXTURE, [lab.socketPath, 'r2', 'erin', 'relay'], 'erin');
    const frank = await lab.start(nsB, FIXTURE, [lab.socketPath, 'r2', 'frank', 'relay-first'], 'frank');
    await waitForEvent(frank, (e) => e.added === 'erin', 5000, 'frank sees erin');
    await waitForEvent(erin, (e) => e.added === 'frank', 5000, 'erin sees frank');
    await new Promise((r) => setTimeout(r, 1500)); // frank's direct attempt (same namespace) would have opened
    for (const p of [erin, frank]) expect(p.events.filter((e) => e.state === 'direct')).to.deep.equal([]);
  });

  it('removes a relayed participant that was killed, within bounded time', async () => {
    alice.proc.kill('SIGKILL');
    const ms = await waitForEvent(bob, (e) => e.removed === 'alice', 15_000, 'bob to remove alice');
    await waitForEvent(carol, (e) => e.removed === 'alice', 15_000, 'carol to remove alice');
    console.log(`      alice removed ${ms} ms after the kill`);
  });
});
