/**
 * Staying connected, with real participants: the signaling server killed, or stopped, and restarted mid-conversation,
 * a participant's connection to the server cut and restored, and a default-settings server (no resume
 * secret) restarted: its participants re-join under new ids and their peers follow them. The mesh keeps carrying messages throughout; nobody sees a leave that did not happen.
 */
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { Room } from '../../lib/node.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness, eventually, nextEvent } from '../support/harness.js';
import { startSignal, stop, stopAll } from '../support/processes.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { ack, connect, next } from '../support/raw-client.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import {
  decodeRelayFrame,
  encodeRelayAccept,
  encodeRelaySealed,
  relaySealedHeader,
} from '../../lib/protocol/relay-frames.js';

const SECRET = 'the resume secret of this test, 32+ bytes';

/** Presence changes a room sees from now on, as "added name" / "removed name". */
function presenceLog(room: Room): string[] {
  const log: string[] = [];
  room.messaging.on('participant_added', (p) => log.push(`added ${p.name}`));
  room.messaging.on('participant_removed', (p) => log.push(`removed ${p.name}`));
  return log;
}

/** Participant id changes a room sees from now on, as "previousId>id". */
function idChangeLog(room: Room): string[] {
  const log: string[] = [];
  room.messaging.on('participant_id_changed', (p, previousId) => log.push(`${previousId}>${p.id}`));
  return log;
}

/** Waits until alice knows bob as `bobId` and bob knows alice as `aliceId` (both re-joined under new ids). */
async function followedEachOther(alice: Room, bob: Room, aliceId: string, bobId: string): Promise<void> {
  await eventually(
    () =>
      alice.messaging.getParticipantByName('bob')?.id === bobId &&
      bob.messaging.getParticipantByName('alice')?.id === aliceId,
    5000,
    'both to follow the new ids',
  );
}

/**
 * Sends numbered messages from `from` to `to` every few ms until stopped; `to` records what arrives.
 * Every send must resolve: a promise that rejects is kept as a failure. `byName` addresses and recognises
 * the participant object found by name, not the id: what an app holds, and what stays the same when a
 * participant re-joins the server under a new id.
 */
/**
 * Waits until every pair of `rooms` is on a data channel: it outlives the connection to the server, which a
 * relayed pair (every pair starts relayed) goes through.
 */
async function allDirect(rooms: Array<Room | undefined>): Promise<void> {
  await eventually(
    () => rooms.every((r) => r!.messaging.remoteParticipants.every((p) => p.linkState === 'direct')),
    10_000,
    'every pair on a data channel',
  );
}

/** The conversations' timers still running: a test that fails before stopping one must not keep the process alive. */
const running = new Set<ReturnType<typeof setInterval>>();

function conversation(
  from: Room,
  to: Room,
  byName = false,
): { stop(): Promise<void>; sent: () => number; received: number[]; failures: unknown[] } {
  const received: number[] = [];
  const failures: unknown[] = [];
  const pending: Array<Promise<void>> = [];
  const named = byName ? from.messaging.getParticipantByName(to.localParticipant.name)! : undefined;
  to.messaging.on('message', (m) => {
    const fromThem = byName
      ? m.from.name === from.localParticipant.name
      : m.fromParticipantId === from.localParticipant.id;
    if (m.type === 'n' && fromThem) received.push(m.message.n as number);
  });
  let n = 0;
  const timer = setInterval(() => {
    pending.push(
      from.messaging
        .sendMessage({ to: named ?? to.localParticipant.id, type: 'n', message: { n: n++ } })
        .catch((err: unknown) => void failures.push(err)),
    );
  }, 10);
  running.add(timer);
  return {
    received,
    failures,
    sent: () => n,
    async stop() {
      clearInterval(timer);
      running.delete(timer);
      await Promise.all(pending);
    },
  };
}

describe('reconnecting to signaling (real processes and channels)', function () {
  this.timeout(60_000);
  const h = new Harness();
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    for (const timer of running) clearInterval(timer);
    running.clear();
    await h.close();
    await proxy?.close();
    proxy = undefined;
    await stopAll();
  });

  for (const [how, signal] of [
    ['killed (SIGKILL)', 'SIGKILL'],
    ['stopped (SIGTERM, a restart by a service manager)', 'SIGTERM'],
  ] as const)
    it(`the server is ${how} mid-conversation and restarted: no message lost or doubled, nobody leaves, newcomers connect again`, async () => {
      const env = { ROOMMESH_RESUME_SECRET: SECRET };
      const flags = ['--drain-delay-ms', '0'];
      let server = await startSignal(flags, { env });
      const at = { url: server.url } as SignalingServer;
      const [alice, bob] = await h.mesh(at, 'k1', ['alice', 'bob']);
      await allDirect([alice, bob]);
      const seenByAlice = presenceLog(alice!);
      const seenByBob = presenceLog(bob!);
      const ab = conversation(alice!, bob!);
      const ba = conversation(bob!, alice!);
      await new Promise((r) => setTimeout(r, 300));

      const lost = Promise.all([
        nextEvent(alice!, 'signaling_disconnected'),
        nextEvent(bob!, 'signaling_disconnected'),
      ]);
      await stop(server, signal);
      await lost;
      expect(alice!.isSignalingConnected).to.equal(false);
      const sentBefore = ab.sent();
      await new Promise((r) => setTimeout(r, 1500)); // the mesh carries on without the server
      expect(ab.received.length).to.be.above(sentBefore);

      const back = Promise.all([
        nextEvent(alice!, 'signaling_reconnected', 20_000),
        nextEvent(bob!, 'signaling_reconnected', 20_000),
      ]);
      server = await startSignal(flags, { env, port: server.port });
      await back;
      expect(alice!.isSignalingConnected).to.equal(true);
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all([ab.stop(), ba.stop()]);

      for (const c of [ab, ba]) {
        expect(c.failures).to.deep.equal([]);
        expect(c.received).to.deep.equal(Array.from({ length: c.sent() }, (_, i) => i));
      }
      // The server's new life knows them under their old ids: a newcomer finds and reaches both.
      const carol = await h.join(at, 'k1', 'carol');
      await carol.messaging.enable();
      expect(carol.messaging.remoteParticipants.map((p) => p.id).sort()).to.deep.equal(
        [alice!.localParticipant.id, bob!.localParticipant.id].sort(),
      );
      await eventually(
        () => alice!.messaging.remoteParticipants.length === 2 && bob!.messaging.remoteParticipants.length === 2,
        10_000,
        'both see carol',
      );
      expect(seenByAlice).to.deep.equal(['added carol']);
      expect(seenByBob).to.deep.equal(['added carol']);
    });

  it("a participant's connection to the server is cut and restored: it resumes under its id, and nobody sees it leave", async () => {
    const server = await h.server();
    proxy = await startTcpProxy(server.port);
    const alice = await h.join({ url: proxy.url } as SignalingServer, 'k2', 'alice');
    await alice.messaging.enable();
    const bob = await h.join(server, 'k2', 'bob');
    await bob.messaging.enable();
    await eventually(() => alice.messaging.remoteParticipants.length === 1, 10_000, 'alice sees bob');
    await allDirect([alice, bob]);
    const seenByBob = presenceLog(bob);
    const ab = conversation(alice, bob);
    const lost = nextEvent(alice, 'signaling_disconnected');
    proxy.down();
    await lost;
    // bob is told alice's connection dropped, asks her channel, and finds it alive: she stays.
    await new Promise((r) => setTimeout(r, 3500));
    expect(bob.messaging.getParticipant(alice.localParticipant.id)).to.not.equal(undefined);
    const back = nextEvent(alice, 'signaling_reconnected', 20_000);
    proxy.up();
    await back;
    await ab.stop();
    expect(ab.failures).to.deep.equal([]);
    expect(ab.received).to.deep.equal(Array.from({ length: ab.sent() }, (_, i) => i));
    // Signaling works for her again: a newcomer's offer reaches her.
    const carol = await h.join(server, 'k2', 'carol');
    await carol.messaging.enable();
    // Each side's participant_added comes with its own half of the channel: not necessarily before carol's enable() resolves.
    await eventually(
      () => alice.messaging.remoteParticipants.length === 2 && bob.messaging.remoteParticipants.length === 2,
      10_000,
      'alice and bob see carol',
    );
    expect(seenByBob).to.deep.equal(['added carol']);
    expect(alice.localParticipant.id).to.equal(carol.messaging.getParticipantByName('alice')!.id);
  });

  it('a relay-only pair whose dialing side is off the server until the other ended their session: when it is back, it learns so, both see a leave and a return, and messages flow again', async () => {
    const server = await h.server();
    proxy = await startTcpProxy(server.port);
    const options = { paths: 'relay' as const, timeouts: { heartbeatIntervalMs: 500, reconnectMaxDelayMs: 500 } };
    const bob = await h.join(server, 'k5', 'bob', options);
    await bob.messaging.enable();
    // alice enables second, so she dials: she opens every relayed link of the pair, with the session's cid.
    const alice = await h.join({ url: proxy.url } as SignalingServer, 'k5', 'alice', options);
    await alice.messaging.enable();
    await eventually(
      () => [alice, bob].every((r) => r.messaging.remoteParticipants[0]?.linkState === 'relayed'),
      10_000,
      'alice and bob relayed',
    );
    const seenByAlice = presenceLog(alice);
    const seenByBob = presenceLog(bob);
    let bobErrors = 0;
    bob.messaging.on('error', () => bobErrors++);
    // Messages alice sends while she is away wait in her held session, unacknowledged.
    const waiting = [0, 1, 2].map((n) =>
      alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'n', message: { n } }).then(
        () => 'delivered',
        (err: unknown) => (err as { reason?: string }).reason ?? String(err),
      ),
    );
    const removed = nextEvent(bob.messaging, 'participant_removed', 15_000);
    proxy.down();
    // The server tells bob alice's connection dropped; her relayed link cannot answer his probe: he ends
    // their session. Alice, off the server, holds hers: she cannot tell her relay from him.
    expect((await removed)[0].name).to.equal('alice');
    const back = nextEvent(alice, 'signaling_reconnected', 20_000);
    proxy.up();
    await back;
    await eventually(
      () =>
        alice.messaging.getParticipantByName('bob')?.linkState === 'relayed' &&
        bob.messaging.getParticipantByName('alice')?.linkState === 'relayed',
      10_000,
      'a new session, relayed, both ways',
    );
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'after', message: {} });
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'after', message: {} });
    expect(seenByBob).to.deep.equal(['removed alice', 'added alice']);
    expect(seenByAlice).to.deep.equal(['removed bob', 'added bob']);
    // What alice sent into the session bob ended is settled: delivered before it ended, or failed.
    for (const outcome of await Promise.all(waiting)) expect(outcome).to.be.oneOf(['delivered', 'ParticipantLeft']);
    // One round of refusals at most (her frames that reached his new session before it knew), not a storm.
    await new Promise((r) => setTimeout(r, 1000));
    expect(bobErrors).to.be.below(40);
  });

  it('a default-settings server is killed (SIGKILL) mid-conversation and restarted: everyone re-joins by itself under a new id, nobody leaves, no message lost, a newcomer finds them', async () => {
    let server = await startSignal([]); // no resume secret: the restarted server cannot read any token
    const at = { url: server.url } as SignalingServer;
    // Every line the participants log, with the id of the participant it says it is from.
    const logged: Array<{ self: unknown; msg: string | undefined }> = [];
    const keep = (obj: object, msg?: string): void => {
      logged.push({ self: (obj as { self?: unknown }).self, msg });
    };
    const logger = { debug: keep, info: keep, warn: keep, error: keep };
    const [alice, bob] = await h.mesh(at, 'k3', ['alice', 'bob'], { logger });
    await allDirect([alice, bob]);
    const seenByAlice = presenceLog(alice!);
    const seenByBob = presenceLog(bob!);
    const failed: unknown[] = [];
    for (const r of [alice!, bob!]) r.on('signaling_failed', (e) => failed.push(e));
    const changedAtBob = idChangeLog(bob!);
    const ab = conversation(alice!, bob!, true);
    const ba = conversation(bob!, alice!, true);
    await new Promise((r) => setTimeout(r, 300));
    const before = { alice: alice!.localParticipant.id, bob: bob!.localParticipant.id };

    await stop(server, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1000)); // the mesh carries on without the server
    const rejoined = Promise.all([
      nextEvent(alice!, 'signaling_rejoined', 20_000),
      nextEvent(bob!, 'signaling_rejoined', 20_000),
    ]);
    server = await startSignal([], { port: server.port });
    const backAtMs = Date.now();
    const [[aliceId, alicePrev], [bobId, bobPrev]] = await rejoined;
    expect([alicePrev, bobPrev]).to.deep.equal([before.alice, before.bob]);
    expect(alice!.localParticipant.id).to.equal(aliceId).and.not.equal(before.alice);
    expect(bob!.localParticipant.id).to.equal(bobId).and.not.equal(before.bob);
    // Each follows the other's new id over the channel that stayed open.
    await followedEachOther(alice!, bob!, aliceId, bobId);
    expect(changedAtBob).to.deep.equal([`${before.alice}>${aliceId}`]);

    // Within a few seconds of the server's return, a newcomer finds both, under their new ids, and reaches them.
    const carol = await h.join(at, 'k3', 'carol');
    await carol.messaging.enable();
    expect(Date.now() - backAtMs).to.be.below(10_000);
    expect(carol.messaging.remoteParticipants.map((p) => p.id).sort()).to.deep.equal([aliceId, bobId].sort());
    // bob's conversation keeps messaging alice meanwhile: wait for carol's message, not the next one.
    const got = nextEvent(alice!.messaging, 'message', 10_000, (m) => m.type === 'hi');
    await carol.messaging.sendMessage({ to: aliceId, type: 'hi', message: { from: 'carol' } });
    expect((await got)[0].message).to.deep.equal({ from: 'carol' });
    await eventually(
      () => alice!.messaging.remoteParticipants.length === 2 && bob!.messaging.remoteParticipants.length === 2,
      10_000,
      'both see carol',
    );
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all([ab.stop(), ba.stop()]);
    for (const c of [ab, ba]) {
      expect(c.failures).to.deep.equal([]);
      expect(c.received).to.deep.equal(Array.from({ length: c.sent() }, (_, i) => i));
    }
    expect(seenByAlice).to.deep.equal(['added carol']);
    expect(seenByBob).to.deep.equal(['added carol']);
    expect(failed).to.deep.equal([]);
    // From its re-join on, alice logs under her new id (her lines about carol, for one).
    const rejoinedAt = logged.findIndex(
      (l) => l.self === before.alice && l.msg?.startsWith('the signaling server forgot'),
    );
    const hers = logged.slice(rejoinedAt + 1).filter((l) => l.self === before.alice || l.self === aliceId);
    expect(rejoinedAt).to.be.at.least(0);
    expect(hers.length).to.be.above(0);
    expect(hers.every((l) => l.self === aliceId)).to.equal(true);
  });

  it('a default-settings server is killed and restarted under a relayed pair: both follow the new ids over a new relayed link, nobody leaves, no message lost', async () => {
    let server = await startSignal([]); // no resume secret: the restarted server cannot read any token
    const at = { url: server.url } as SignalingServer;
    // paths 'relay': the pair's only path goes through the server, so no channel outlives it.
    const [alice, bob] = await h.mesh(at, 'k4', ['alice', 'bob'], { paths: 'relay' });
    expect(alice!.messaging.getParticipantByName('bob')?.linkState).to.equal('relayed');
    const seenByAlice = presenceLog(alice!);
    const seenByBob = presenceLog(bob!);
    const changedAtAlice = idChangeLog(alice!);
    const changedAtBob = idChangeLog(bob!);
    const ab = conversation(alice!, bob!, true);
    const ba = conversation(bob!, alice!, true);
    await new Promise((r) => setTimeout(r, 300));
    const before = { alice: alice!.localParticipant.id, bob: bob!.localParticipant.id };

    await stop(server, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500)); // sends wait meanwhile: the pair has no path
    const rejoined = Promise.all([
      nextEvent(alice!, 'signaling_rejoined', 20_000),
      nextEvent(bob!, 'signaling_rejoined', 20_000),
    ]);
    server = await startSignal([], { port: server.port });
    const [[aliceId], [bobId]] = await rejoined;
    expect([aliceId, bobId]).to.not.include.members([before.alice, before.bob]);
    await followedEachOther(alice!, bob!, aliceId, bobId);
    expect(changedAtAlice).to.deep.equal([`${before.bob}>${bobId}`]);
    expect(changedAtBob).to.deep.equal([`${before.alice}>${aliceId}`]);
    expect(alice!.messaging.getParticipantByName('bob')?.linkState).to.equal('relayed');
    // Longer than the relink grace (5 s): a session that did not move would have gone by now.
    await new Promise((r) => setTimeout(r, 6000));
    await Promise.all([ab.stop(), ba.stop()]);
    for (const c of [ab, ba]) {
      expect(c.failures).to.deep.equal([]);
      expect(c.received).to.deep.equal(Array.from({ length: c.sent() }, (_, i) => i));
    }
    expect(seenByAlice).to.deep.equal([]);
    expect(seenByBob).to.deep.equal([]);
    expect(alice!.messaging.remoteParticipants.map((p) => p.id)).to.deep.equal([bobId]);
    expect(bob!.messaging.remoteParticipants.map((p) => p.id)).to.deep.equal([aliceId]);
  });

  // Each side comes back on its own reconnect backoff, up to reconnectMaxDelayMs apart. Waiting only the relink
  // grace after its own return, a side removed a peer that came back later, then announced it again (seen in
  // the demo around a server restart, 1 run in 3).
  it('the same, with one side back on the server 6.5 s after the other: the first waits for it, nobody leaves', async () => {
    let server = await startSignal([]);
    proxy = await startTcpProxy(server.port);
    const relayOnly = { paths: 'relay' as const };
    const alice = await h.join({ url: server.url } as SignalingServer, 'k6', 'alice', {
      ...relayOnly,
      timeouts: { reconnectMaxDelayMs: 8000 },
    });
    const bob = await h.join({ url: proxy.url } as SignalingServer, 'k6', 'bob', {
      ...relayOnly,
      timeouts: { reconnectMaxDelayMs: 500 },
    });
    await alice.messaging.enable();
    await bob.messaging.enable();
    await eventually(() => alice.messaging.getParticipantByName('bob')?.linkState === 'relayed', 10_000, 'relayed');
    const seenByAlice = presenceLog(alice);
    const seenByBob = presenceLog(bob);
    const ab = conversation(alice, bob, true);
    await new Promise((r) => setTimeout(r, 300));

    await stop(server, 'SIGKILL');
    proxy.down(); // bob stays off the server until let back
    const aliceBack = nextEvent(alice, 'signaling_rejoined', 20_000);
    server = await startSignal([], { port: server.port });
    proxy.retarget(server.port);
    const [aliceId] = await aliceBack;
    // Longer than the relink grace (5 s): alice, back first, must not give up on bob meanwhile.
    await new Promise((r) => setTimeout(r, 6500));
    const bobBack = nextEvent(bob, 'signaling_rejoined', 20_000);
    proxy.up();
    const [bobId] = await bobBack;
    await followedEachOther(alice, bob, aliceId, bobId);
    await ab.stop();
    expect(ab.failures).to.deep.equal([]);
    expect(ab.received).to.deep.equal(Array.from({ length: ab.sent() }, (_, i) => i));
    expect(seenByAlice).to.deep.equal([]);
    expect(seenByBob).to.deep.equal([]);
  });

  it("after such a restart, a client that joined with the relayed peer's public key cannot take its session; the peer itself still can", async () => {
    let server = await startSignal([]);
    proxy = await startTcpProxy(server.port);
    // bob reaches the server through the proxy, so the test can keep him away while mallory steps in.
    const fast = { paths: 'relay' as const, timeouts: { reconnectMaxDelayMs: 400 } };
    const bob = await h.join({ url: proxy.url } as SignalingServer, 'k5', 'bob', fast);
    await bob.messaging.enable();
    const alice = await h.join({ url: server.url } as SignalingServer, 'k5', 'alice', fast);
    await alice.messaging.enable(); // alice dialed: she opens the session's relayed links
    await eventually(() => bob.messaging.remoteParticipants.length === 1, 5000, 'bob sees alice');
    const bobKey = await (async () => {
      const spy = await connect(server.url);
      const j = await ack(spy, 'join', { v: SIGNALING_VERSION, room: 'k5', name: 'spy' });
      expect(j.ok).to.equal(true);
      const enabled = await ack(spy, 'enable_messaging');
      const listed = (enabled.data as { participants: Array<{ name: string; relayKey?: string }> }).participants;
      spy.close();
      return listed.find((p) => p.name === 'bob')!.relayKey!;
    })();
    const seenByAlice = presenceLog(alice);
    const errorsAtAlice: string[] = [];
    alice.messaging.on('error', (e) => errorsAtAlice.push(e.message));
    const changedAtAlice = idChangeLog(alice);
    const ab = conversation(alice, bob, true);
    await new Promise((r) => setTimeout(r, 200));
    const bobBefore = bob.localParticipant.id;

    proxy.down();
    await stop(server, 'SIGKILL');
    server = await startSignal([], { port: server.port });
    await nextEvent(alice, 'signaling_rejoined', 20_000);
    // mallory joins with bob's public key (the server cannot tell), and answers alice's relayed link with a forged frame.
    const mallory = await connect(server.url);
    const opened = next(mallory, 'relay', 5000);
    expect(
      (await ack(mallory, 'join', { v: SIGNALING_VERSION, room: 'k5', name: 'bob', relayKey: bobKey })).ok,
    ).to.equal(true);
    expect((await ack(mallory, 'enable_messaging')).ok).to.equal(true);
    const open = decodeRelayFrame(new Uint8Array((await opened).data as ArrayBuffer));
    if (typeof open === 'string' || open.kind !== 'open') throw new Error(`not an open frame: ${JSON.stringify(open)}`);
    const forged = encodeRelaySealed(relaySealedHeader(open.linkId, 0), new Uint8Array(64).fill(7));
    mallory.emit('relay', {
      to: alice.localParticipant.id,
      data: encodeRelayAccept(open.linkId, new Uint8Array(16), forged),
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(changedAtAlice, 'no move to mallory').to.deep.equal([]);

    // bob is back: he re-joins, and alice's session follows him, not mallory.
    const bobBack = nextEvent(bob, 'signaling_rejoined', 20_000);
    proxy.up();
    const [bobId] = await bobBack;
    await eventually(() => alice.messaging.getParticipantByName('bob')?.id === bobId, 5000, 'alice to follow bob');
    await new Promise((r) => setTimeout(r, 300));
    expect(changedAtAlice).to.deep.equal([`${bobBefore}>${bobId}`]);
    await ab.stop();
    expect(ab.failures).to.deep.equal([]);
    expect(ab.received).to.deep.equal(Array.from({ length: ab.sent() }, (_, i) => i));
    expect(seenByAlice).to.deep.equal([]);
    expect(errorsAtAlice, 'nothing counted against bob').to.deep.equal([]);
    mallory.close();
  });

  it('a server restarted while the join token expired: signaling_failed (TokenExpired), and open channels keep working', async () => {
    const jwtSecret = 'the jwt secret of this test, long enough for HS256';
    const token = (name: string, expS: number): Promise<string> =>
      new SignJWT({ room: 'k4', name })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime(expS)
        .setAudience('roommesh')
        .sign(new TextEncoder().encode(jwtSecret));
    // No clock tolerance: the token is expired when it says.
    const flags = ['--auth', 'jwt', '--jwt-secret', jwtSecret, '--jwt-clock-tolerance-ms', '0'];
    let server = await startSignal(flags);
    const at = { url: server.url } as SignalingServer;
    const expS = Math.floor(Date.now() / 1000) + 3;
    const alice = await h.join(at, 'k4', 'alice', { token: await token('alice', expS) });
    const bob = await h.join(at, 'k4', 'bob', { token: await token('bob', expS + 3600) });
    await alice.messaging.enable();
    await bob.messaging.enable();
    await eventually(() => alice.messaging.remoteParticipants.length === 1, 10_000, 'alice and bob to connect');
    // The channel that must keep working is the data channel: a relayed pair goes through the dying server.
    await allDirect([alice, bob]);
    const failed = nextEvent(alice, 'signaling_failed', 30_000);
    // With auth on, resume tokens are signed with the JWT secret: bob resumes; alice's expired with her JWT.
    const bobBack = nextEvent(bob, 'signaling_reconnected', 30_000);
    await stop(server, 'SIGKILL');
    await new Promise((r) => setTimeout(r, Math.max(0, expS * 1000 - Date.now()) + 1000)); // alice's token expires
    server = await startSignal(flags, { port: server.port });
    const [error] = await failed;
    expect(error.serverReason).to.equal('TokenExpired');
    // bob is back; alice is not, but her channel to bob still carries messages.
    await bobBack;
    const got = nextEvent(bob.messaging, 'message', 10_000, (m) => m.type === 'still-here');
    await alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'still-here', message: {} });
    expect((await got)[0].from.name).to.equal('alice');
    await stop(server);
  });
});
