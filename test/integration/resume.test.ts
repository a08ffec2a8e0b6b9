/**
 * Resuming on the signaling server, with raw socket.io clients: a connection that drops is held for a
 * grace period and taken back under the same id by `resume`; a goodbye removes at once; tokens the server
 * did not sign, or that expired, are refused; each token works once, a goodbye revokes them; a restarted
 * server with the same resume secret takes its participants back, once each.
 */
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import type { SignalingServer, SignalingServerOptions } from '../../signaling/server.js';
import { Harness, eventually } from '../support/harness.js';
import {
  ack,
  closeRawClients,
  rawConnect as connect,
  record,
  type Info,
  type WireReply,
} from '../support/raw-client.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const SECRET = 'a resume secret of at least thirty-two bytes';

/** Joins and enables; returns the socket, self and resume token. */
async function member(url: string, room: string, name: string): Promise<{ s: Socket; info: Info; token: string }> {
  const s = await connect(url);
  const r = await ack(s, 'join', { v: SIGNALING_VERSION, room, name });
  expect(r.ok, JSON.stringify(r)).to.equal(true);
  expect((await ack(s, 'enable_messaging')).ok).to.equal(true);
  return { s, info: r.data.self as Info, token: r.data.resumeToken as string };
}

const resume = (s: Socket, token: string, messagingEnabled = true): Promise<WireReply> =>
  ack(s, 'resume', { v: SIGNALING_VERSION, token, messagingEnabled });

describe('resuming on the signaling server', function () {
  this.timeout(20_000);
  let server: SignalingServer | undefined;
  let proxy: TcpProxy | undefined;
  const h = new Harness();
  afterEach(async () => {
    closeRawClients();
    await proxy?.close();
    await h.close();
    proxy = undefined;
    server = undefined;
  });

  async function start(options: SignalingServerOptions = {}): Promise<{ server: SignalingServer; proxy: TcpProxy }> {
    server = await h.server({ resumeSecret: SECRET, ...options });
    proxy = await startTcpProxy(server.port);
    return { server, proxy };
  }

  it('a dropped connection is held: peers hear peer_disconnected, and resume brings the same participant back unnoticed', async () => {
    const { server, proxy } = await start();
    const alice = await member(proxy.url, 'r', 'alice');
    const bob = await member(server.url, 'r', 'bob');
    const disconnected = record<{ id: string }>(bob.s, 'peer_disconnected');
    const disabled = record<{ id: string }>(bob.s, 'peer_disabled');
    const enabled = record<Info>(bob.s, 'peer_enabled');
    proxy.cut();
    await eventually(() => disconnected.length === 1, 5000, 'peer_disconnected');
    expect(disconnected[0]).to.deep.equal({ id: alice.info.id });
    expect(server.stats().participants).to.equal(2); // held, not removed
    const again = await connect(proxy.url);
    const r = await resume(again, alice.token);
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    expect(r.data.self).to.deep.equal(alice.info);
    expect(r.data.participants).to.deep.equal([bob.info]);
    expect(r.data.resumeToken).to.be.a('string').that.is.not.empty;
    // Signals reach it on its new connection, under its old id.
    const got = record<{ from: string }>(again, 'signal');
    expect(
      (await ack(bob.s, 'signal', { to: alice.info.id, cid: 'c', data: { type: 'offer', sdp: 'v=0' } })).ok,
    ).to.equal(true);
    await eventually(() => got.length === 1, 5000, 'the signal');
    expect(got[0]!.from).to.equal(bob.info.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(disabled).to.deep.equal([]);
    // Told it is back (its relayed links died with its connection), never that it left.
    expect(enabled).to.deep.equal([alice.info]);
    expect(server.stats().participants).to.equal(2);
  });

  it('a participant that does not resume within the grace period is removed, and its peers told', async () => {
    const { server, proxy } = await start({ resumeGraceMs: 500 });
    const alice = await member(proxy.url, 'r', 'alice');
    const bob = await member(server.url, 'r', 'bob');
    const disabled = record<{ id: string }>(bob.s, 'peer_disabled');
    const t0 = Date.now();
    proxy.cut();
    await eventually(() => disabled.length === 1, 5000, 'peer_disabled');
    expect(Date.now() - t0).to.be.at.least(450);
    expect(disabled[0]).to.deep.equal({ id: alice.info.id });
    expect(server.stats().participants).to.equal(1);
    // Its token still proves who it was: it comes back as itself, and bob hears it enabled again.
    const enabled = record<Info>(bob.s, 'peer_enabled');
    const r = await resume(await connect(server.url), alice.token);
    expect(r.data.self).to.deep.equal(alice.info);
    await eventually(() => enabled.length === 1, 5000, 'peer_enabled');
    expect(enabled[0]).to.deep.equal(alice.info);
    // Once: the same token again is refused.
    expect((await resume(await connect(server.url), alice.token)).error?.reason).to.equal('ResumeInvalid');
  });

  it('a used token is refused: the live participant keeps its connection, and its peers hear nothing', async () => {
    const { server, proxy } = await start();
    const alice = await member(proxy.url, 'r', 'alice');
    const bob = await member(server.url, 'r', 'bob');
    proxy.cut();
    await eventually(() => server.stats().connections === 1, 5000, 'the cut noticed');
    const back = await connect(server.url);
    const r = await resume(back, alice.token);
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    const heard = ['peer_disabled', 'peer_disconnected', 'peer_enabled'].map((e) => record(bob.s, e));
    const kicked = record(back, 'disconnect');
    for (const token of [alice.token, alice.token]) {
      const replay = await resume(await connect(server.url), token);
      expect(replay.error?.reason, JSON.stringify(replay)).to.equal('ResumeInvalid');
    }
    // Signals from bob still reach alice's live connection, and alice's signals still go out as alice.
    const atAlice = record<{ from: string }>(back, 'signal');
    const atBob = record<{ from: string }>(bob.s, 'signal');
    expect(
      (await ack(bob.s, 'signal', { to: alice.info.id, cid: 'c', data: { type: 'offer', sdp: 'v=0' } })).ok,
    ).to.equal(true);
    expect(
      (await ack(back, 'signal', { to: bob.info.id, cid: 'c', data: { type: 'answer', sdp: 'v=0' } })).ok,
    ).to.equal(true);
    await eventually(() => atAlice.length === 1 && atBob.length === 1, 5000, 'both signals');
    expect(atBob[0]!.from).to.equal(alice.info.id);
    await new Promise((res) => setTimeout(res, 300));
    expect(back.connected).to.equal(true);
    expect(kicked).to.deep.equal([]);
    expect(heard.flat()).to.deep.equal([]);
    // The token of the reply is the one that works next, once.
    const next = r.data.resumeToken as string;
    const racing = await Promise.all([
      resume(await connect(server.url), next),
      resume(await connect(server.url), next),
    ]);
    expect(racing.map((x) => x.ok).sort(), JSON.stringify(racing)).to.deep.equal([false, true]);
    expect(racing.find((x) => !x.ok)?.error?.reason).to.equal('ResumeInvalid');
    expect(server.stats().participants).to.equal(2);
  });

  it("a goodbye revokes the participant's tokens: a resume is refused and nobody is recreated", async () => {
    const { server, proxy } = await start();
    const alice = await member(proxy.url, 'r', 'alice');
    const bob = await member(server.url, 'r', 'bob');
    proxy.cut();
    const again = await connect(server.url);
    const r = await resume(again, alice.token);
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    const disabled = record<{ id: string }>(bob.s, 'peer_disabled');
    again.disconnect(); // a goodbye: the client closes its socket.io namespace
    await eventually(() => disabled.length === 1, 5000, 'peer_disabled');
    const enabled = record(bob.s, 'peer_enabled');
    for (const token of [alice.token, r.data.resumeToken as string]) {
      expect((await resume(await connect(server.url), token)).error?.reason).to.equal('ResumeInvalid');
    }
    await new Promise((res) => setTimeout(res, 300));
    expect(enabled).to.deep.equal([]);
    expect(server.stats().participants).to.equal(1);
    // A token straight from the join dies with a goodbye too.
    const carol = await member(server.url, 'r', 'carol');
    carol.s.disconnect();
    await eventually(() => server.stats().participants === 1, 5000, 'carol gone');
    expect((await resume(await connect(server.url), carol.token)).error?.reason).to.equal('ResumeInvalid');
    expect(server.stats().participants).to.equal(1);
  });

  it('a goodbye (the client closes its connection) removes at once', async () => {
    const { server } = await start();
    const alice = await member(server.url, 'r', 'alice');
    const bob = await member(server.url, 'r', 'bob');
    const disconnected = record(bob.s, 'peer_disconnected');
    const disabled = record<{ id: string }>(bob.s, 'peer_disabled');
    alice.s.disconnect();
    await eventually(() => disabled.length === 1, 2000, 'peer_disabled');
    expect(disconnected).to.deep.equal([]);
    expect(server.stats().participants).to.equal(1);
  });

  it('a resume while the old connection is still open takes over: the old one is closed, peers hear only that it is back', async () => {
    const { server } = await start();
    const alice = await member(server.url, 'r', 'alice');
    const bob = await member(server.url, 'r', 'bob');
    const heard = [...['peer_disabled', 'peer_disconnected', 'peer_enabled'].map((e) => record(bob.s, e))];
    const oldClosed = new Promise((r) => alice.s.once('disconnect', r));
    const r = await resume(await connect(server.url), alice.token);
    expect(r.ok).to.equal(true);
    await oldClosed;
    await new Promise((res) => setTimeout(res, 300));
    expect(heard.flat()).to.deep.equal([alice.info]);
    expect(server.stats()).to.include({ participants: 2, connections: 2 });
  });

  it('resuming with messaging disabled tells the peers, like disable_messaging', async () => {
    const { server, proxy } = await start();
    const alice = await member(proxy.url, 'r', 'alice');
    const bob = await member(server.url, 'r', 'bob');
    const disabled = record<{ id: string }>(bob.s, 'peer_disabled');
    proxy.cut();
    const r = await resume(await connect(server.url), alice.token, false);
    expect(r.data.participants).to.deep.equal([]);
    await eventually(() => disabled.length === 1, 5000, 'peer_disabled');
  });

  it('refuses tokens it did not sign, expired ones, join tokens, and malformed requests', async () => {
    const { server } = await start();
    const alice = await member(server.url, 'r', 'alice');
    const key = new TextEncoder().encode(SECRET);
    const sign = (
      claims: Record<string, unknown>,
      secret = key,
      expSeconds = 3600,
      aud = 'roommesh-resume',
    ): Promise<string> =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(alice.info.id)
        .setAudience(aud)
        .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
        .sign(secret);
    const claims = { room: 'r', name: 'alice', jat: alice.info.joinedAtMs };
    const cases: Array<[string, string]> = [
      ['another key', await sign(claims, new TextEncoder().encode('another secret of at least thirty-two bytes'))],
      ['expired', await sign(claims, key, -60)],
      ['a join audience', await sign(claims, key, 3600, 'roommesh')],
      ['no room', await sign({ name: 'alice', jat: 1 })],
      ['no generation', await sign(claims)],
      ['another generation', await sign({ ...claims, gen: 'A'.repeat(22), ep: 'B'.repeat(22) })],
      ['a bad until claim', await sign({ ...claims, until: 'soon' })],
      ['garbage', 'not.a.token'],
      ['tampered', `${alice.token.slice(0, -4)}AAAA`],
    ];
    for (const [what, token] of cases) {
      const r = await resume(await connect(server.url), token);
      expect(r.error?.reason, what).to.equal('ResumeInvalid');
    }
    for (const bad of [
      {},
      { v: SIGNALING_VERSION, token: 5, messagingEnabled: true },
      { v: SIGNALING_VERSION, token: 'x'.repeat(3000), messagingEnabled: true },
      { v: SIGNALING_VERSION, token: alice.token },
    ]) {
      expect((await ack(await connect(server.url), 'resume', bad)).error?.reason).to.equal('BadRequest');
    }
    expect(
      (await ack(await connect(server.url), 'resume', { v: 99, token: alice.token, messagingEnabled: true })).error
        ?.reason,
    ).to.equal('UnsupportedVersion');
    expect((await resume(alice.s, alice.token)).error?.reason).to.equal('AlreadyJoined');
    // None of these took alice's place or added anyone.
    expect(server.stats().participants).to.equal(1);
  });

  it('a restarted server with the same resume secret takes its participants back, same ids', async () => {
    const first = await h.server({ resumeSecret: SECRET });
    const port = first.port;
    const alice = await member(first.url, 'r', 'alice');
    const bob = await member(first.url, 'r', 'bob');
    await first.close();
    server = await h.server({ port, resumeSecret: SECRET });
    const a2 = await connect(server.url);
    const ra = await resume(a2, alice.token);
    expect(ra.data.self).to.deep.equal(alice.info);
    expect(ra.data.participants).to.deep.equal([]);
    const enabledAtAlice = record<Info>(a2, 'peer_enabled');
    const rb = await resume(await connect(server.url), bob.token);
    expect(rb.data.self).to.deep.equal(bob.info);
    expect(rb.data.participants).to.deep.equal([alice.info]);
    await eventually(() => enabledAtAlice.length === 1, 5000, 'alice hears bob');
    expect(enabledAtAlice[0]).to.deep.equal(bob.info);
    // Each old token brings its participant back once: a replay is refused, present or gone.
    expect((await resume(await connect(server.url), alice.token)).error?.reason).to.equal('ResumeInvalid');
    a2.disconnect();
    await eventually(() => server!.stats().participants === 1, 5000, 'alice left');
    expect((await resume(await connect(server.url), alice.token)).error?.reason).to.equal('ResumeInvalid');
    // Without the secret, a restarted server cannot tell its tokens from forgeries.
    await server.close();
    server = await h.server({ port });
    expect((await resume(await connect(server.url), alice.token)).error?.reason).to.equal('ResumeInvalid');
  });
});
