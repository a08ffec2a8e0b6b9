/**
 * The signaling server's `relay`, with raw socket.io clients: bytes between two enabled members of a room,
 * stamped with the sender, and every refusal (another room, a member not enabled, self, oversized, over
 * the per-connection rate, over the process budget, no relay key, relay off), each counted in /metrics.
 */
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness, eventually } from '../support/harness.js';
import { httpGet } from '../support/processes.js';
import { ack, closeRawClients, connect, next, quiet, record, settle } from '../support/raw-client.js';

/** A P-256 public key in the shape clients send (87 base64url characters); the server never opens it. */
const KEY = 'B'.repeat(87);

describe('signaling server relay (raw socket.io clients)', function () {
  this.timeout(20_000);
  const h = new Harness();
  let server: SignalingServer;

  const member = async (
    s: SignalingServer,
    room: string,
    name: string,
    opts: { enable?: boolean; key?: string | null } = {},
  ): Promise<{ s: Socket; id: string; relay: unknown }> => {
    const sock = await connect(s.url);
    const key = opts.key === undefined ? KEY : opts.key;
    const j = await ack(sock, 'join', { v: SIGNALING_VERSION, room, name, ...(key === null ? {} : { relayKey: key }) });
    expect(j.ok, JSON.stringify(j)).to.equal(true);
    if (opts.enable !== false) expect((await ack(sock, 'enable_messaging')).ok).to.equal(true);
    return { s: sock, id: j.data.self.id as string, relay: j.data.relay };
  };
  const metric = async (s: SignalingServer, line: string): Promise<number> => {
    const body = (await httpGet(s.port, '/metrics')).body;
    const found = body.split('\n').find((l) => l.startsWith(`${line} `));
    return found === undefined ? 0 : Number(found.slice(line.length + 1));
  };
  const refusedWith = async (from: Socket, frame: unknown, reason: string): Promise<void> => {
    const refusal = next(from, 'relay_refused');
    from.emit('relay', frame);
    const r = (await refusal) as { to: string; reason: string; message: string };
    expect(r.reason, JSON.stringify(r)).to.equal(reason);
    expect(r.message).to.be.a('string').that.is.not.empty;
  };

  before(async () => {
    server = await h.server({
      joinsPerSecondPerIp: 0,
      resumeGraceMs: 0,
      maxRelayFrameBytes: 4096,
      relayBytesPerSecond: 20_000,
      relayBurstBytes: 40_000,
    });
  });
  afterEach(async () => {
    await settle(server);
  });
  after(async () => {
    closeRawClients();
    await h.close();
  });

  it('tells clients its relay terms in the join reply, and peers each other’s relay key', async () => {
    const a = await member(server, 'r', 'a');
    expect(a.relay).to.deep.equal({
      maxFrameBytes: 4096,
      bytesPerSecond: 20_000,
      burstBytes: 40_000,
      frameCostBytes: 512,
    });
    const heard = next(a.s, 'peer_enabled');
    const b = await member(server, 'r', 'b');
    expect(((await heard) as { relayKey?: string }).relayKey).to.equal(KEY);
    const c = await connect(server.url);
    const bad = await ack(c, 'join', { v: SIGNALING_VERSION, room: 'r', name: 'c', relayKey: 'not base64url!' });
    expect(bad.ok).to.equal(false);
    expect(bad.error?.reason).to.equal('BadRequest');
    const long = await ack(c, 'join', { v: SIGNALING_VERSION, room: 'r', name: 'c', relayKey: 'A'.repeat(129) });
    expect(long.error?.reason).to.equal('BadRequest');
    expect(b.id).to.not.equal(a.id);
  });

  it('a resume with another relay key: the room, and whoever enables later, get the new key', async () => {
    const KEY2 = 'C'.repeat(87);
    const a = await connect(server.url);
    const j = await ack(a, 'join', { v: SIGNALING_VERSION, room: 'k', name: 'a', relayKey: KEY });
    expect((await ack(a, 'enable_messaging')).ok).to.equal(true);
    const b = await member(server, 'k', 'b');
    const heard = next(b.s, 'peer_enabled');
    // Resumed while its first connection is still open (the server takes the member over from it).
    const again = await connect(server.url);
    const r = await ack(again, 'resume', {
      v: SIGNALING_VERSION,
      token: j.data.resumeToken as string,
      messagingEnabled: true,
      relayKey: KEY2,
    });
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    expect(((await heard) as { relayKey?: string }).relayKey).to.equal(KEY2);
    const c = await member(server, 'k', 'c', { enable: false });
    const listed = await ack(c.s, 'enable_messaging');
    const aListed = (listed.data.participants as Array<{ id: string; relayKey?: string }>).find(
      (p) => p.id === j.data.self.id,
    );
    expect(aListed?.relayKey).to.equal(KEY2);
  });

  it('announces its queue limit, and answers a relay that asks for an acknowledgement after the events before it', async () => {
    const a = await member(server, 'q', 'a');
    const b = await member(server, 'q', 'b');
    const c = await connect(server.url);
    const j = await ack(c, 'join', { v: SIGNALING_VERSION, room: 'q', name: 'c', relayKey: KEY });
    expect(j.data.maxPendingEvents).to.equal(64);
    const got = record(b.s, 'relay');
    for (let i = 0; i < 10; i++) a.s.emit('relay', { to: b.id, data: new Uint8Array([i]) });
    const reply = await ack(a.s, 'relay', { to: b.id, data: new Uint8Array([10]) });
    expect(reply).to.deep.equal({ ok: true });
    // Answered in order: every frame before it was handled, so all eleven are on their way to b.
    await quiet();
    expect(got.map((r) => Array.from((r as { data: Uint8Array }).data)[0])).to.deep.equal([...Array(11).keys()]);
    // A refused frame still comes as relay_refused; its acknowledgement says it was handled.
    const refusal = next(a.s, 'relay_refused');
    expect(await ack(a.s, 'relay', { to: a.id, data: new Uint8Array([1]) })).to.deep.equal({ ok: true });
    expect(((await refusal) as { reason: string }).reason).to.equal('UnknownParticipant');
  });

  it('counts each of many pipelined binary relays once against the event size limit (all arrive)', async () => {
    // Default limits: 32 KiB frames, 64 KiB events. socket.io dispatches a tick after decoding, so back-to-back
    // frames' messages arrive before the first is dispatched: a running byte count charged one event for two.
    const plain = await h.server({ joinsPerSecondPerIp: 0, resumeGraceMs: 0, relayBytesPerSecond: 0 });
    const a = await member(plain, 'p', 'a');
    const b = await member(plain, 'p', 'b');
    const got = record(b.s, 'relay');
    const errors = record(a.s, 'request_error');
    const refused = record(a.s, 'relay_refused');
    for (let i = 0; i < 20; i++) a.s.emit('relay', { to: b.id, data: new Uint8Array(32 * 1024).fill(i) });
    await quiet();
    expect(errors).to.deep.equal([]);
    expect(refused).to.deep.equal([]);
    expect(got).to.have.length(20);
    // An event over the limit is still refused.
    a.s.emit('relay', { to: b.id, data: new Uint8Array(70 * 1024) });
    await quiet();
    expect(errors.map((e) => (e as { reason: string }).reason)).to.deep.equal(['PayloadTooLarge']);
    await settle(plain);
  });

  it('relays bytes between two enabled members, stamped with the sender whatever it claims', async () => {
    const a = await member(server, 'r', 'a');
    const b = await member(server, 'r', 'b');
    const before = await metric(server, 'roommesh_relayed_bytes_total');
    const got = next(b.s, 'relay');
    a.s.emit('relay', { to: b.id, from: 'someone-else', data: new Uint8Array([1, 2, 3, 250]) });
    const frame = (await got) as { from: string; data: Uint8Array };
    expect(frame.from).to.equal(a.id);
    expect([...new Uint8Array(frame.data)]).to.deep.equal([1, 2, 3, 250]);
    expect(Object.keys(frame).sort()).to.deep.equal(['data', 'from']);
    expect((await metric(server, 'roommesh_relayed_bytes_total')) - before).to.equal(4);
  });

  it('refuses a relay into another room, to a member not enabled, to self, and from a member not enabled', async () => {
    const a = await member(server, 'r', 'a');
    const other = await member(server, 'elsewhere', 'x');
    const idle = await member(server, 'r', 'idle', { enable: false });
    const heard = record(other.s, 'relay').concat(record(idle.s, 'relay'));
    await refusedWith(a.s, { to: other.id, data: new Uint8Array([1]) }, 'UnknownParticipant');
    await refusedWith(a.s, { to: idle.id, data: new Uint8Array([1]) }, 'PeerNotEnabled');
    await refusedWith(a.s, { to: a.id, data: new Uint8Array([1]) }, 'UnknownParticipant');
    await refusedWith(idle.s, { to: a.id, data: new Uint8Array([1]) }, 'NotEnabled');
    await quiet();
    expect(heard).to.have.length(0);
    expect(await metric(server, 'roommesh_relay_refusals_total{reason="PeerNotEnabled"}')).to.be.greaterThan(0);
  });

  it('refuses malformed, oversized and keyless relays', async () => {
    const a = await member(server, 'r', 'a');
    const b = await member(server, 'r', 'b');
    const keyless = await member(server, 'r', 'k', { key: null });
    const heard = record(b.s, 'relay');
    await refusedWith(a.s, { to: b.id, data: 'text, not bytes' }, 'BadRequest');
    await refusedWith(a.s, { to: b.id, data: new Uint8Array(4097) }, 'PayloadTooLarge');
    await refusedWith(a.s, { to: keyless.id, data: new Uint8Array(10) }, 'NoRelayKey');
    await quiet();
    expect(heard).to.have.length(0);
  });

  it('drops relayed bytes over the per-connection rate, and the connection keeps relaying later', async () => {
    const a = await member(server, 'r', 'a');
    const b = await member(server, 'r', 'b');
    const got = record(b.s, 'relay');
    const refusals = record<{ reason: string }>(a.s, 'relay_refused');
    // Each counts 4,000 + 512 bytes: 8 fit the 40 KB burst.
    for (let i = 0; i < 12; i++) a.s.emit('relay', { to: b.id, data: new Uint8Array(4000) });
    await next(a.s, 'relay_refused');
    await quiet();
    expect(got).to.have.length(8);
    expect(refusals.map((r) => r.reason)).to.deep.equal(Array(4).fill('RelayRateLimited'));
    await quiet(300); // 20 KB/s refills 6 KB
    const again = next(b.s, 'relay');
    a.s.emit('relay', { to: b.id, data: new Uint8Array(4000) });
    await again;
  });

  it('counts each frame 512 bytes beyond its data: tiny frames cannot pass the byte rate by their number', async () => {
    const a = await member(server, 'r', 'a');
    const b = await member(server, 'r', 'b');
    const got = record(b.s, 'relay');
    const refusals = record<{ reason: string }>(a.s, 'relay_refused');
    // 120 one-byte frames, 40 at a time (the server queues at most 64 events of a connection): 120 bytes of
    // data, but 61,560 counted against a 40 KB burst refilled at 20 KB/s. Counted by their data alone, all pass.
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 40; i++) a.s.emit('relay', { to: b.id, data: new Uint8Array(1) });
      await quiet(50);
    }
    await eventually(() => got.length + refusals.length === 120, 5000, 'every frame relayed or refused');
    expect(got.length).to.be.within(77, 100);
    expect(new Set(refusals.map((r) => r.reason))).to.deep.equal(new Set(['RelayRateLimited']));
  });

  it('holds the process-wide budget across connections, and refuses every relay with relay off', async () => {
    const budgeted = await h.server({ joinsPerSecondPerIp: 0, resumeGraceMs: 0, relayBudgetBytesPerSecond: 100_000 });
    const a = await member(budgeted, 'r', 'a');
    const b = await member(budgeted, 'r', 'b');
    const c = await member(budgeted, 'r', 'c');
    const got = record(c.s, 'relay');
    for (let i = 0; i < 2; i++) a.s.emit('relay', { to: c.id, data: new Uint8Array(30_000) });
    for (let i = 0; i < 2; i++) b.s.emit('relay', { to: c.id, data: new Uint8Array(30_000) });
    const refusal = (await Promise.race([next(a.s, 'relay_refused'), next(b.s, 'relay_refused')])) as {
      reason: string;
    };
    expect(refusal.reason).to.equal('RelayBudgetExceeded');
    await quiet();
    expect(got).to.have.length(3);

    const off = await h.server({ joinsPerSecondPerIp: 0, resumeGraceMs: 0, relay: false });
    const x = await member(off, 'r', 'x');
    const y = await member(off, 'r', 'y');
    expect(x.relay).to.equal(undefined);
    await refusedWith(x.s, { to: y.id, data: new Uint8Array([1]) }, 'RelayDisabled');
    closeRawClients();
    await settle(off);
    await settle(budgeted);
  });
});
