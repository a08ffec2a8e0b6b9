/**
 * Several signaling processes as one, through a real redis-server: participants on different processes
 * see, signal and message each other (real node-datachannel peers through the library), the room cap
 * holds across the fleet, a process killed with SIGKILL leaves the others serving with its participants
 * removed from everyone's room state, a process drained with SIGTERM leaves its participants to the others
 * (they resume there, no peer sees a leave), a resume token works once across the fleet, and a server whose
 * Redis is down is not ready.
 */
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { ConnectionError, Room, silentLogger, type RoomOptions } from '../../lib/node.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { FLEET_DEFAULTS as FLEET_DEFAULTS_OF_SERVER } from '../../signaling/options-fleet.js';
import { connectRedis } from '../../signaling/redis-client.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness, eventually, nextEvent } from '../support/harness.js';
import { httpGet, startRedis, startSignal, stop, stopAll, until, type Proc } from '../support/processes.js';
import { ack, ackWithin, closeRawClients, connect, next, rawConnect, type WireReply } from '../support/raw-client.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let prefixes = 0;
/** A key prefix of its own per fleet, so tests sharing the redis-server never see each other's rooms. */
const freshPrefix = (): string => `t${process.pid}-${++prefixes}:`;

function fleetFlags(redisUrl: string, prefix: string, extra: string[] = []): string[] {
  return [
    '--adapter',
    'redis',
    '--redis-url',
    redisUrl,
    '--redis-key-prefix',
    prefix,
    '--fleet-heartbeat-ms',
    '200',
    '--fleet-timeout-ms',
    '1000',
    '--log-level',
    'warn',
    ...extra,
  ];
}

describe('signaling fleet over Redis (real redis-server, two processes)', function () {
  this.timeout(60_000);
  let redis: Proc & { url: string };
  const rooms: Room[] = [];
  const joinRoom = async (url: string, room: string, name: string, extra: Partial<RoomOptions> = {}): Promise<Room> => {
    const r = await Room.connect({ url, room, name, logger: silentLogger, ...extra });
    rooms.push(r);
    return r;
  };
  const raw = (url: string): Promise<Socket> => rawConnect(url);
  const rawMember = async (url: string, room: string, name: string): Promise<{ s: Socket; id: string }> => {
    const s = await raw(url);
    const j = await ack(s, 'join', { v: SIGNALING_VERSION, room, name });
    expect(j.ok, JSON.stringify(j)).to.equal(true);
    const e = await ack(s, 'enable_messaging');
    expect(e.ok, JSON.stringify(e)).to.equal(true);
    return { s, id: j.data.self.id as string };
  };

  /** A newcomer joins `room` on each process and enables messaging: the participants each was given, by url. */
  const newcomersOnBoth = async (
    url1: string,
    url2: string,
    room: string,
  ): Promise<Array<[string, Array<{ id: string; relayKey?: string }>]>> => {
    const lists: Array<[string, Array<{ id: string; relayKey?: string }>]> = [];
    for (const [url, name] of [
      [url1, 'c'],
      [url2, 'd'],
    ] as const) {
      const other = await raw(url);
      expect((await ack(other, 'join', { v: SIGNALING_VERSION, room, name })).ok).to.equal(true);
      const listed = await ack(other, 'enable_messaging');
      lists.push([url, listed.data.participants as Array<{ id: string; relayKey?: string }>]);
    }
    return lists;
  };

  before(async () => {
    redis = await startRedis();
  });
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await Promise.all(rooms.splice(0).map((r) => r.disconnect().catch(() => {})));
    closeRawClients();
    await proxy?.close();
    proxy = undefined;
    // Signaling processes only: redis-server stays for the next test.
    await Promise.all(fleet.splice(0).map((p) => stop(p)));
  });
  after(async () => {
    await stopAll();
  });
  const fleet: Proc[] = [];
  /** The key prefix of the fleet started last. */
  let fleetPrefix = '';
  const startFleet = async (n: number, extra: string[] = []): Promise<Array<Proc & { url: string }>> => {
    const prefix = (fleetPrefix = freshPrefix());
    const procs = await Promise.all(Array.from({ length: n }, () => startSignal(fleetFlags(redis.url, prefix, extra))));
    fleet.push(...procs);
    return procs;
  };

  it('participants on different processes see, signal and message each other', async () => {
    const [s1, s2] = await startFleet(2);
    const alice = await joinRoom(s1!.url, 'fleet', 'alice');
    const bob = await joinRoom(s2!.url, 'fleet', 'bob');
    const carol = await joinRoom(s1!.url, 'fleet', 'carol');
    await alice.messaging.enable();
    await bob.messaging.enable(); // bob (s2) dials alice (s1): signals cross the fleet
    await carol.messaging.enable(); // carol (s1) dials alice (s1) and bob (s2)
    await eventually(
      () => [alice, bob, carol].every((r) => r.messaging.remoteParticipants.length === 2),
      15_000,
      'a full mesh across processes',
    );
    expect(bob.messaging.getParticipantByName('alice')?.id).to.equal(alice.localParticipant.id);

    const got = nextEvent(bob.messaging, 'message');
    await alice.messaging.sendMessage({
      to: alice.messaging.getParticipantByName('bob')!,
      type: 'chat',
      message: { text: 'hi from s1' },
    });
    const [m] = await got;
    expect(m).to.deep.include({
      fromParticipantId: alice.localParticipant.id,
      type: 'chat',
      message: { text: 'hi from s1' },
    });
    const result = await bob.messaging.broadcastMessage({ type: 'all', message: { n: 1 } });
    expect([...result.delivered].sort()).to.deep.equal([alice.localParticipant.id, carol.localParticipant.id].sort());

    // Leaving on one process is seen on the other.
    const removed = nextEvent(bob.messaging, 'participant_removed', 10_000);
    await carol.disconnect();
    expect((await removed)[0].name).to.equal('carol');
  });

  it('an enable on one process lists the enabled participants but those held for a resume on another', async () => {
    const [s1, s2] = await startFleet(2);
    const a = await rawMember(s1!.url, 'held', 'a');
    const b = await rawMember(s1!.url, 'held', 'b');
    const dropped = next(a.s, 'peer_disconnected', 5000);
    b.s.io.engine.close(); // the connection drops without a goodbye: s1 holds b for its resume grace
    expect((await dropped).id).to.equal(b.id);
    const c = await raw(s2!.url);
    expect((await ack(c, 'join', { v: SIGNALING_VERSION, room: 'held', name: 'c' })).ok).to.equal(true);
    const enabled = await ack(c, 'enable_messaging');
    expect(enabled.ok, JSON.stringify(enabled)).to.equal(true);
    expect((enabled.data.participants as Array<{ id: string }>).map((p) => p.id)).to.deep.equal([a.id]);
  });

  it('an old connection closing after its participant resumed on another process: no hold, no leave, the spent token stays spent', async () => {
    const [s1, s2] = await startFleet(2);
    const participantsOnS1 = async (): Promise<number> =>
      Number(/^roommesh_participants (\d+)$/m.exec((await httpGet(s1!.port, '/metrics')).body)?.[1]);
    const a = await raw(s1!.url);
    const j = await ack(a, 'join', { v: SIGNALING_VERSION, room: 'moved', name: 'a' });
    expect((await ack(a, 'enable_messaging')).ok).to.equal(true);
    const b = await rawMember(s1!.url, 'moved', 'b');
    const toldB: string[] = [];
    b.s.on('peer_disconnected', (p: { id: string }) => toldB.push(`disconnected ${p.id}`));
    b.s.on('peer_disabled', (p: { id: string }) => toldB.push(`disabled ${p.id}`));
    // a's network changed: it resumed on s2 while s1 still had its old connection (half-open there).
    const a2 = await raw(s2!.url);
    const r = await ack(a2, 'resume', {
      v: SIGNALING_VERSION,
      token: j.data.resumeToken as string,
      messagingEnabled: true,
    });
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    expect(await participantsOnS1()).to.equal(2);
    // s1 learns late that the old connection is gone (no goodbye).
    a.io.engine.close();
    await until(async () => (await participantsOnS1()) === 1, 10_000, 's1 to let go of the old connection');
    // Not held: a newcomer on either process is given a, and b was told nothing.
    for (const [url, listed] of await newcomersOnBoth(s1!.url, s2!.url, 'moved'))
      expect(
        listed.map((p) => p.id),
        url,
      ).to.include(j.data.self.id);
    expect(toldB).to.deep.equal([]);
    // The token a spent on s2 does not work again.
    const replay = await ack(await raw(s2!.url), 'resume', {
      v: SIGNALING_VERSION,
      token: j.data.resumeToken as string,
      messagingEnabled: true,
    });
    expect(replay.error?.reason, JSON.stringify(replay)).to.equal('ResumeInvalid');
  });

  it('relays bytes between participants on different processes, stamped, and refuses into another room', async () => {
    const [s1, s2] = await startFleet(2);
    const key = 'B'.repeat(87);
    const member = async (url: string, room: string, name: string): Promise<{ s: Socket; id: string }> => {
      const s = await raw(url);
      const j = await ack(s, 'join', { v: SIGNALING_VERSION, room, name, relayKey: key });
      expect(j.ok, JSON.stringify(j)).to.equal(true);
      expect((await ack(s, 'enable_messaging')).ok).to.equal(true);
      return { s, id: j.data.self.id as string };
    };
    const a = await member(s1!.url, 'relay', 'a');
    const b = await member(s2!.url, 'relay', 'b');
    const elsewhere = await member(s2!.url, 'other', 'x');
    const frames: Array<{ from: string; data: Uint8Array }> = [];
    b.s.on('relay', (f: { from: string; data: Uint8Array }) => frames.push(f));
    for (let i = 0; i < 50; i++) a.s.emit('relay', { to: b.id, from: 'forged', data: new Uint8Array(1000).fill(i) });
    await eventually(() => frames.length === 50, 10_000, 'every relayed frame across the fleet');
    expect(frames.every((f) => f.from === a.id)).to.equal(true);
    expect(frames.map((f) => new Uint8Array(f.data)[0])).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    const refused = new Promise<{ reason: string }>((resolve) => a.s.once('relay_refused', resolve));
    a.s.emit('relay', { to: elsewhere.id, data: new Uint8Array([1]) });
    expect((await refused).reason).to.equal('UnknownParticipant');

    // A receiver on the sender's process gets its frames there, not through the fleet's Redis stream (which
    // keeps a copy of everything it carries until its length cap trims it).
    const c = await member(s1!.url, 'relay', 'c');
    const atC: number[] = [];
    c.s.on('relay', (f: { from: string; data: Uint8Array }) => atC.push(new Uint8Array(f.data)[0]!));
    const redisClient = connectRedis(redis.url, silentLogger);
    try {
      await until(() => redisClient.isReady, 5000, 'redis');
      const stream = `${fleetPrefix}socket.io`;
      const before = await redisClient.xLen(stream);
      for (let i = 0; i < 50; i++) a.s.emit('relay', { to: c.id, data: new Uint8Array(1000).fill(i) });
      await eventually(() => atC.length === 50, 10_000, 'every relayed frame on one process');
      expect(atC).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
      expect((await redisClient.xLen(stream)) - before, 'stream entries added').to.be.below(5);
    } finally {
      redisClient.destroy();
    }
  });

  it('--redis-stream-max-len bounds the fleet stream that relayed frames between processes pass through', async () => {
    const [s1, s2] = await startFleet(2, ['--redis-stream-max-len', '100']);
    const key = 'B'.repeat(87);
    const member = async (url: string, name: string): Promise<{ s: Socket; id: string }> => {
      const s = await raw(url);
      const j = await ack(s, 'join', { v: SIGNALING_VERSION, room: 'capped', name, relayKey: key });
      expect((await ack(s, 'enable_messaging')).ok).to.equal(true);
      return { s, id: j.data.self.id as string };
    };
    const a = await member(s1!.url, 'a');
    const b = await member(s2!.url, 'b');
    let got = 0;
    b.s.on('relay', () => got++);
    for (let batch = 1; batch <= 20; batch++) {
      for (let i = 0; i < 50; i++) a.s.emit('relay', { to: b.id, data: new Uint8Array(100) });
      await eventually(() => got === batch * 50, 10_000, `batch ${batch} relayed`);
    }
    const redisClient = connectRedis(redis.url, silentLogger);
    try {
      await until(() => redisClient.isReady, 5000, 'redis');
      // Redis trims whole nodes of the stream (100 entries each by default): about the cap, never the 1,000.
      expect(await redisClient.xLen(`${fleetPrefix}socket.io`)).to.be.within(100, 300);
    } finally {
      redisClient.destroy();
    }
  });

  it('a resume token works once across the fleet: a replay on either process is refused, a goodbye revokes', async () => {
    const [s1, s2] = await startFleet(2);
    proxy = await startTcpProxy(s1!.port);
    const resume = async (url: string, token: string): Promise<{ s: Socket; r: WireReply }> => {
      const s = await raw(url);
      return { s, r: await ack(s, 'resume', { v: SIGNALING_VERSION, token, messagingEnabled: true }) };
    };
    const alice = await raw(proxy.url);
    const joined = await ack(alice, 'join', { v: SIGNALING_VERSION, room: 'once', name: 'alice' });
    expect((await ack(alice, 'enable_messaging')).ok).to.equal(true);
    const aliceId = joined.data.self.id as string;
    const first = joined.data.resumeToken as string;
    const bob = await rawMember(s2!.url, 'once', 'bob');
    const disconnected = new Promise((r) => bob.s.once('peer_disconnected', r));
    proxy.cut(); // s1 holds alice
    await disconnected;
    const heard: string[] = [];
    for (const e of ['peer_disabled', 'peer_disconnected', 'peer_enabled']) bob.s.on(e, () => heard.push(e));
    const back = await resume(s2!.url, first);
    expect(back.r.ok, JSON.stringify(back.r)).to.equal(true);
    for (const url of [s1!.url, s2!.url]) expect((await resume(url, first)).r.error?.reason).to.equal('ResumeInvalid');
    const got: Array<{ from: string }> = [];
    back.s.on('signal', (m: { from: string }) => got.push(m));
    expect((await ack(bob.s, 'signal', { to: aliceId, cid: 'c', data: { type: 'offer', sdp: 'v=0' } })).ok).to.equal(
      true,
    );
    await until(() => got.length === 1, 5000, 'the signal at alice');
    expect(back.s.connected).to.equal(true);
    // The resume is told (alice is back), the refused replays are not.
    expect(heard).to.deep.equal(['peer_enabled']);
    // The reply's token, raced on both processes: one Lua step decides, exactly one wins.
    const second = back.r.data.resumeToken as string;
    const racing = await Promise.all([resume(s1!.url, second), resume(s2!.url, second)]);
    expect(racing.map((x) => x.r.ok).sort(), JSON.stringify(racing.map((x) => x.r))).to.deep.equal([false, true]);
    const winner = racing.find((x) => x.r.ok)!;
    // A goodbye revokes: its latest token is refused on either process, and alice is not recreated.
    const left = new Promise((r) => bob.s.once('peer_disabled', r));
    winner.s.disconnect();
    back.s.disconnect();
    await left;
    for (const url of [s1!.url, s2!.url])
      expect((await resume(url, winner.r.data.resumeToken as string)).r.error?.reason).to.equal('ResumeInvalid');
    const d = await raw(s2!.url);
    expect((await ack(d, 'join', { v: SIGNALING_VERSION, room: 'once', name: 'dave' })).ok).to.equal(true);
    const list = await ack(d, 'enable_messaging');
    expect(list.data.participants.map((p: { id: string }) => p.id)).to.deep.equal([bob.id]);
  });

  it('a resume on another process with another relay key: whoever enables later, on either process, gets the new key', async () => {
    const [s1, s2] = await startFleet(2);
    const KEY = 'B'.repeat(87);
    const KEY2 = 'C'.repeat(87);
    const a = await raw(s1!.url);
    const j = await ack(a, 'join', { v: SIGNALING_VERSION, room: 'key', name: 'a', relayKey: KEY });
    expect((await ack(a, 'enable_messaging')).ok).to.equal(true);
    const r = await ack(await raw(s2!.url), 'resume', {
      v: SIGNALING_VERSION,
      token: j.data.resumeToken as string,
      messagingEnabled: true,
      relayKey: KEY2,
    });
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    for (const [url, listed] of await newcomersOnBoth(s1!.url, s2!.url, 'key'))
      expect(listed.find((p) => p.id === j.data.self.id)?.relayKey, url).to.equal(KEY2);
  });

  it('the room cap holds across the fleet, even for joins racing on both processes', async () => {
    const [s1, s2] = await startFleet(2, ['--max-participants-per-room', '3', '--joins-per-second-per-ip', '0']);
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => raw(i % 2 === 0 ? s1!.url : s2!.url)));
    const replies = await Promise.all(
      clients.map((s, i) => ack(s, 'join', { v: SIGNALING_VERSION, room: 'capped', name: `p${i}` })),
    );
    const ok = replies.filter((r) => r.ok);
    expect(ok, JSON.stringify(replies)).to.have.length(3);
    for (const r of replies.filter((x) => !x.ok)) expect(r.error?.reason).to.equal('RoomFull');
    // Through the library: a typed error.
    const err = await Room.connect({ url: s2!.url, room: 'capped', name: 'late', logger: silentLogger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConnectionError);
    expect((err as ConnectionError).serverReason).to.equal('RoomFull');
    // Another room is not affected, and a place freed on one process can be taken on the other.
    const other = await raw(s1!.url);
    expect((await ack(other, 'join', { v: SIGNALING_VERSION, room: 'elsewhere', name: 'x' })).ok).to.equal(true);
    const leaver = clients[replies.findIndex((r) => r.ok)]!;
    const onS1 = clients.indexOf(leaver) % 2 === 0;
    leaver.disconnect();
    const newcomer = await raw(onS1 ? s2!.url : s1!.url);
    await until(
      async () => (await ack(newcomer, 'join', { v: SIGNALING_VERSION, room: 'capped', name: 'newcomer' })).ok,
      5000,
      'a freed place',
    );
  });

  it("a process killed with SIGKILL leaves the others serving; its participants who do not resume leave everyone's room state", async () => {
    // The survivor holds a dead process's participants for the resume grace (short here), as it would its own.
    const [s1, s2] = await startFleet(2, ['--resume-grace-ms', '1500']);
    const a = await rawMember(s1!.url, 'crash', 'alice'); // on the process that dies
    const b = await rawMember(s1!.url, 'crash', 'bob'); // likewise
    const c = await rawMember(s2!.url, 'crash', 'carol'); // survives
    const disabledAtCarol: string[] = [];
    c.s.on('peer_disabled', (p: { id: string }) => disabledAtCarol.push(p.id));

    s1!.child.kill('SIGKILL');
    await s1!.exited;
    await until(() => disabledAtCarol.length === 2, 15_000, 'carol to be told that alice and bob left');
    expect(disabledAtCarol.sort()).to.deep.equal([a.id, b.id].sort());

    // The room state everyone gets from now on: carol only.
    const d = await raw(s2!.url);
    expect((await ack(d, 'join', { v: SIGNALING_VERSION, room: 'crash', name: 'dave' })).ok).to.equal(true);
    const list = await ack(d, 'enable_messaging');
    expect(list.data.participants.map((p: { id: string }) => p.id)).to.deep.equal([c.id]);
    const signalToDead = await ack(c.s, 'signal', { to: a.id, cid: 'x', data: { type: 'offer', sdp: 'v=0' } });
    expect(signalToDead.error?.reason).to.equal('UnknownParticipant');

    // And the survivor serves real participants end to end.
    const erin = await joinRoom(s2!.url, 'after-crash', 'erin');
    const frank = await joinRoom(s2!.url, 'after-crash', 'frank');
    await erin.messaging.enable();
    await frank.messaging.enable();
    await eventually(() => frank.messaging.remoteParticipants.length === 1, 10_000, 'erin and frank to connect');
    await frank.messaging.sendMessage({ to: frank.messaging.getParticipantByName('erin')!, type: 'ok', message: {} });
    const metrics = await httpGet(s2!.port, '/metrics');
    expect(metrics.body).to.match(/^roommesh_members_swept_total 2$/m);
  });

  it('a process killed with SIGKILL mid-conversation: its participant resumes on another process, and its peer sees no leave', async () => {
    const [s1, s2] = await startFleet(2);
    proxy = await startTcpProxy(s1!.port); // the load balancer in front of the fleet, for alice
    const alice = await joinRoom(proxy.url, 'failover', 'alice', { timeouts: { reconnectMaxDelayMs: 500 } });
    const bob = await joinRoom(s2!.url, 'failover', 'bob');
    await alice.messaging.enable();
    await bob.messaging.enable();
    await eventually(
      () => bob.messaging.remoteParticipants.length === 1 && alice.messaging.remoteParticipants.length === 1,
      10_000,
      'alice and bob to connect',
    );
    // A data channel outlives alice's connection to the dying process; a relayed pair goes through it.
    await eventually(
      () => alice.messaging.remoteParticipants[0]?.linkState === 'direct',
      10_000,
      'alice and bob on a data channel',
    );
    const aliceId = alice.localParticipant.id;
    const seenByBob: string[] = [];
    bob.messaging.on('participant_removed', (p) => seenByBob.push(`removed ${p.name}`));
    bob.messaging.on('participant_added', (p) => seenByBob.push(`added ${p.name}`));
    const received: number[] = [];
    bob.messaging.on('message', (m) => {
      if (m.type === 'n') received.push(m.message.n as number);
    });
    let n = 0;
    const sends: Array<Promise<void>> = [];
    const failures: string[] = [];
    const timer = setInterval(() => {
      const sent = alice.messaging.sendMessage({ to: bob.localParticipant.id, type: 'n', message: { n: n++ } });
      sends.push(sent.catch((err: unknown) => void failures.push(String(err))));
    }, 20);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const disconnected = nextEvent(alice, 'signaling_disconnected');
      proxy.down();
      s1!.child.kill('SIGKILL');
      await s1!.exited;
      await disconnected;
      // Alice comes back only once the survivor has taken the dead process for dead and swept it.
      await until(
        async () => /^roommesh_members_swept_total 1$/m.test((await httpGet(s2!.port, '/metrics')).body),
        10_000,
        'the survivor to sweep the dead process',
      );
      const resumed = nextEvent(alice, 'signaling_reconnected', 15_000);
      proxy.retarget(s2!.port);
      proxy.up();
      await resumed;
      expect(alice.localParticipant.id).to.equal(aliceId);
      await new Promise((r) => setTimeout(r, 1500)); // a leave would have been told by now
    } finally {
      clearInterval(timer);
    }
    await Promise.all(sends);
    expect(failures).to.deep.equal([]);
    expect(received).to.deep.equal(Array.from({ length: n }, (_, i) => i));
    expect(seenByBob).to.deep.equal([]);
    expect(bob.messaging.getParticipant(aliceId)?.name).to.equal('alice');
    // The fleet knows alice on the survivor: a newcomer finds both.
    const carol = await joinRoom(s2!.url, 'failover', 'carol');
    await carol.messaging.enable();
    expect(carol.messaging.remoteParticipants.map((p) => p.name).sort()).to.deep.equal(['alice', 'bob']);
  });

  // The fleet's default timings too (the tests' own are faster): it must learn of the death, and say so,
  // before the relayed path's silence (heartbeatTimeoutMs, 5 s) is taken for a leave.
  const DEFAULT_TIMINGS = [
    ...['--fleet-heartbeat-ms', String(FLEET_DEFAULTS_OF_SERVER.fleetHeartbeatMs)],
    ...['--fleet-timeout-ms', String(FLEET_DEFAULTS_OF_SERVER.fleetTimeoutMs)],
  ];
  for (const [dialer, fleetTimings] of [
    ['bob', 'fast'],
    ['alice', 'fast'],
    ['bob', 'default'],
  ] as const) {
    it(`a relay-only pair (${dialer} dials, the fleet's ${fleetTimings} timings): the process of one side is SIGKILLed mid-conversation and it is back later than relinkGraceMs: nobody leaves, every message arrives once in order, the link goes reconnecting then relayed`, async function () {
      this.timeout(90_000);
      const [s1, s2] = await startFleet(2, fleetTimings === 'default' ? DEFAULT_TIMINGS : []);
      proxy = await startTcpProxy(s1!.port); // alice's load balancer
      const options: Partial<RoomOptions> = { paths: 'relay', timeouts: { reconnectMaxDelayMs: 500 } };
      const alice = await joinRoom(proxy.url, 'relayed-failover', 'alice', options);
      const bob = await joinRoom(s2!.url, 'relayed-failover', 'bob', options);
      // The one that enables second dials (and opens every relayed link of the pair).
      const [first, second] = dialer === 'bob' ? [alice, bob] : [bob, alice];
      await first.messaging.enable();
      await second.messaging.enable();
      await eventually(
        () => [alice, bob].every((r) => r.messaging.remoteParticipants[0]?.linkState === 'relayed'),
        10_000,
        'alice and bob relayed',
      );
      const aliceId = alice.localParticipant.id;
      const seen: string[] = [];
      const states: Record<string, string[]> = { alice: [], bob: [] };
      const received: Record<string, number[]> = { alice: [], bob: [] };
      for (const [name, r] of [
        ['alice', alice],
        ['bob', bob],
      ] as const) {
        r.messaging.on('participant_removed', (p) => seen.push(`${name} saw ${p.name} leave`));
        r.messaging.on('participant_added', (p) => seen.push(`${name} saw ${p.name} come`));
        r.messaging.on('participant_link_changed', (_p, state) => states[name]!.push(state));
        r.messaging.on('message', (m) => {
          if (m.type === 'n') received[name]!.push(m.message.n as number);
        });
      }
      const sent = { alice: 0, bob: 0 };
      const sends: Array<Promise<void>> = [];
      const failures: string[] = [];
      const timer = setInterval(() => {
        for (const [from, to] of [
          [alice, bob],
          [bob, alice],
        ] as const) {
          const key = from === alice ? 'alice' : 'bob';
          const n = sent[key]++;
          const sending = from.messaging.sendMessage({ to: to.localParticipant.id, type: 'n', message: { n } });
          sends.push(sending.catch((err: unknown) => void failures.push(`${key} ${n}: ${String(err)}`)));
        }
      }, 25);
      try {
        await new Promise((r) => setTimeout(r, 300));
        const disconnected = nextEvent(alice, 'signaling_disconnected');
        proxy.down();
        s1!.child.kill('SIGKILL');
        const killedAt = Date.now();
        await s1!.exited;
        await disconnected;
        await until(
          async () => /^roommesh_members_swept_total 1$/m.test((await httpGet(s2!.port, '/metrics')).body),
          10_000,
          'the survivor to sweep the dead process',
        );
        // Off the fleet for longer than relinkGraceMs and heartbeatTimeoutMs (5 s each), as a participant
        // waiting for its process to restart can be.
        await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 7000 - Date.now())));
        expect(seen).to.deep.equal([]);
        for (const r of [alice, bob]) expect(r.messaging.remoteParticipants[0]?.linkState).to.equal('reconnecting');
        const resumed = nextEvent(alice, 'signaling_reconnected', 15_000);
        proxy.retarget(s2!.port);
        proxy.up();
        await resumed;
        expect(alice.localParticipant.id).to.equal(aliceId);
        await eventually(
          () => [alice, bob].every((r) => r.messaging.remoteParticipants[0]?.linkState === 'relayed'),
          10_000,
          'alice and bob relayed again',
        );
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        clearInterval(timer);
      }
      await Promise.all(sends);
      expect(failures).to.deep.equal([]);
      expect(received.bob).to.deep.equal(Array.from({ length: sent.alice }, (_, i) => i));
      expect(received.alice).to.deep.equal(Array.from({ length: sent.bob }, (_, i) => i));
      expect(seen).to.deep.equal([]);
      for (const name of ['alice', 'bob']) expect(states[name], name).to.deep.equal(['reconnecting', 'relayed']);
    });
  }

  it('a process drained with SIGTERM (a rolling deploy): its participants resume on another process; a relayed pair goes reconnecting then relayed, a direct pair is untouched; nobody leaves, every message arrives once in order', async function () {
    this.timeout(60_000);
    const [s1, s2] = await startFleet(2, ['--drain-delay-ms', '300']);
    proxy = await startTcpProxy(s1!.port); // the load balancer in front of the fleet, for alice
    const alice = await joinRoom(proxy.url, 'rolling', 'alice', { timeouts: { reconnectMaxDelayMs: 500 } });
    const bob = await joinRoom(s2!.url, 'rolling', 'bob'); // direct with alice
    const carol = await joinRoom(s2!.url, 'rolling', 'carol', { paths: 'relay' }); // relayed with alice
    for (const r of [alice, bob, carol]) await r.messaging.enable();
    const path = (r: Room, name: string): string | undefined => r.messaging.getParticipantByName(name)?.linkState;
    await eventually(
      () => path(alice, 'bob') === 'direct' && path(bob, 'alice') === 'direct' && path(carol, 'alice') === 'relayed',
      10_000,
      'alice direct with bob and relayed with carol',
    );
    const aliceId = alice.localParticipant.id;
    const seen: string[] = [];
    const states: string[] = [];
    const received: Record<string, number[]> = { 'alice>bob': [], 'alice>carol': [], 'carol>alice': [] };
    for (const [name, r] of [
      ['alice', alice],
      ['bob', bob],
      ['carol', carol],
    ] as const) {
      r.messaging.on('participant_removed', (p) => seen.push(`${name} saw ${p.name} leave`));
      r.messaging.on('participant_added', (p) => seen.push(`${name} saw ${p.name} come`));
      r.messaging.on('participant_link_changed', (p, state) => states.push(`${name}: ${p.name} ${state}`));
      r.messaging.on('message', (m) => {
        if (m.type === 'n') received[`${m.from.name}>${name}`]!.push(m.message.n as number);
      });
    }
    const routes = [
      [alice, bob, 'alice>bob'],
      [alice, carol, 'alice>carol'],
      [carol, alice, 'carol>alice'],
    ] as const;
    const sent: Record<string, number> = { 'alice>bob': 0, 'alice>carol': 0, 'carol>alice': 0 };
    const sends: Array<Promise<void>> = [];
    const failures: string[] = [];
    const timer = setInterval(() => {
      for (const [from, to, key] of routes) {
        const n = sent[key]!++;
        const sending = from.messaging.sendMessage({ to: to.localParticipant.id, type: 'n', message: { n } });
        sends.push(sending.catch((err: unknown) => void failures.push(`${key} ${n}: ${String(err)}`)));
      }
    }, 25);
    let backMs = 0;
    try {
      await new Promise((r) => setTimeout(r, 300));
      const disconnected = nextEvent(alice, 'signaling_disconnected', 10_000);
      const resumed = nextEvent(alice, 'signaling_reconnected', 15_000);
      s1!.child.kill('SIGTERM');
      proxy.retarget(s2!.port); // the load balancer sees /readyz go 503: new connections go to the survivor
      const code = await s1!.exited;
      expect(code, s1!.output()).to.equal(0);
      await disconnected;
      const closedAt = Date.now();
      await resumed;
      backMs = Date.now() - closedAt;
      expect(alice.localParticipant.id).to.equal(aliceId);
      await eventually(
        () => path(alice, 'carol') === 'relayed' && path(carol, 'alice') === 'relayed',
        10_000,
        'alice and carol relayed again',
      );
      await new Promise((r) => setTimeout(r, 1500)); // a leave would have been told by now
    } finally {
      clearInterval(timer);
    }
    await Promise.all(sends);
    expect(failures).to.deep.equal([]);
    for (const [, , key] of routes)
      expect(received[key], key).to.deep.equal(Array.from({ length: sent[key]! }, (_, i) => i));
    expect(seen).to.deep.equal([]);
    // Only the relayed pair noticed, and only as a reconnect: the data channel did not go through the process.
    expect(states.filter((s) => s.includes('bob'))).to.deep.equal([]);
    expect(
      states.every((s) => / (reconnecting|relayed)$/.test(s)),
      states.join(', '),
    ).to.equal(true);
    expect(path(alice, 'bob')).to.equal('direct');
    // The survivor holds alice now: a newcomer finds all three.
    const dave = await joinRoom(s2!.url, 'rolling', 'dave');
    await dave.messaging.enable();
    expect(dave.messaging.remoteParticipants.map((p) => p.name).sort()).to.deep.equal(['alice', 'bob', 'carol']);
    console.log(`      alice back on the survivor ${backMs} ms after the drained process closed her connection`);
  });

  it('a process drained with SIGTERM whose participant never comes back: the fleet removes it when the resume grace that began at its drop ends (adoption does not restart it), and tells its peers', async function () {
    this.timeout(60_000);
    const [s1, s2] = await startFleet(2, ['--drain-delay-ms', '0', '--resume-grace-ms', '3000']);
    proxy = await startTcpProxy(s1!.port);
    // Raw clients: a library client that cannot reach the server gives up by itself and tells its peers
    // over their data channel; this is about what the server does.
    const alice = await rawMember(proxy.url, 'rolling-gone', 'alice');
    const bob = await rawMember(s2!.url, 'rolling-gone', 'bob');
    const heard: string[] = [];
    bob.s.on('peer_disconnected', (e: { id: string }) => heard.push(`disconnected ${e.id === alice.id}`));
    const removed = new Promise<number>((resolve) =>
      bob.s.on('peer_disabled', (e: { id: string }) => {
        if (e.id === alice.id) resolve(Date.now());
      }),
    );
    // Alice's network goes and she never comes back: her process holds her for a resume, then drains
    // halfway through her grace.
    proxy.down();
    const droppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    s1!.child.kill('SIGTERM');
    const drainedAt = Date.now();
    expect(await s1!.exited).to.equal(0);
    const removedAt = await Promise.race([removed, new Promise<number>((r) => setTimeout(() => r(NaN), 20_000))]);
    const afterDropMs = removedAt - droppedAt;
    const afterDrainMs = removedAt - drainedAt;
    // Told she dropped, and told again when the survivor adopted her.
    expect(heard).to.deep.equal(['disconnected true', 'disconnected true']);
    // Her grace (3 s) counts from her drop: the survivor, adopting her at its next sweep (200 ms here),
    // keeps its end. A grace restarted at the adoption would end about 4.8 s after the drop.
    expect(afterDropMs).to.be.within(2900, 4200);
    expect(afterDrainMs).to.be.below(3000);
    console.log(
      `      bob told alice left ${afterDropMs} ms after her drop, ${afterDrainMs} ms after her process drained`,
    );
  });

  it('a relay-only pair: the process of one side is SIGKILLed and that side never comes back: the other removes it when the fleet ends its resume grace, not before', async function () {
    this.timeout(60_000);
    const [s1, s2] = await startFleet(2, ['--resume-grace-ms', '8000']);
    proxy = await startTcpProxy(s1!.port);
    const alice = await joinRoom(proxy.url, 'relayed-gone', 'alice', { paths: 'relay' });
    const bob = await joinRoom(s2!.url, 'relayed-gone', 'bob', { paths: 'relay' });
    await alice.messaging.enable();
    await bob.messaging.enable();
    await eventually(
      () => bob.messaging.remoteParticipants[0]?.linkState === 'relayed',
      10_000,
      'alice and bob relayed',
    );
    const removed = nextEvent(bob.messaging, 'participant_removed', 20_000);
    proxy.down(); // alice stays off the fleet
    s1!.child.kill('SIGKILL');
    const killedAt = Date.now();
    const [gone] = await removed;
    const afterMs = Date.now() - killedAt;
    expect(gone.name).to.equal('alice');
    // The sweep (about a second here), then the resume grace (8 s): not the 5 s of silence or relink grace.
    expect(afterMs).to.be.within(8000, 16_000);
    console.log(`      bob removed alice ${afterMs} ms after her process died`);
  });

  it('a participant adopted twice by the same process (its second home died too) gets a full grace, and its peers hear it dropped each time', async function () {
    this.timeout(60_000);
    // s2 adopts p when s1 dies; p resumes on s3; s3 dies and s2 adopts p again. s2 learns that p had resumed
    // elsewhere only when its first grace timer runs out: that timer must not end the second hold.
    const prefix = freshPrefix();
    const flags = fleetFlags(redis.url, prefix, ['--resume-grace-ms', '6000']);
    const s1 = await startSignal(flags);
    const s2 = await startSignal(flags);
    fleet.push(s1, s2);
    proxy = await startTcpProxy(s1.port);
    const p = await raw(proxy.url);
    const j = await ack(p, 'join', { v: SIGNALING_VERSION, room: 'twice', name: 'p' });
    expect(j.ok, JSON.stringify(j)).to.equal(true);
    expect((await ack(p, 'enable_messaging')).ok).to.equal(true);
    const id = j.data.self.id as string;
    let token = j.data.resumeToken as string;
    const bob = await rawMember(s2.url, 'twice', 'bob');
    const heard: string[] = [];
    bob.s.on('peer_disconnected', (e: { id: string; processDied?: boolean }) =>
      heard.push(`disconnected ${e.id === id ? 'p' : e.id} ${e.processDied === true}`),
    );
    bob.s.on('peer_disabled', (e: { id: string }) => heard.push(`disabled ${e.id === id ? 'p' : e.id}`));
    bob.s.on('peer_enabled', (e: { id: string }) => heard.push(`enabled ${e.id === id ? 'p' : e.id}`));
    const resumeOn = async (port: number): Promise<void> => {
      proxy!.retarget(port);
      proxy!.up();
      const again = await raw(proxy!.url);
      const r = await ack(again, 'resume', { v: SIGNALING_VERSION, token, messagingEnabled: true });
      expect(r.ok, JSON.stringify(r)).to.equal(true);
      expect(r.data.self.id).to.equal(id);
      token = r.data.resumeToken as string;
    };

    proxy.down();
    await stop(s1, 'SIGKILL');
    await eventually(() => heard.includes('disconnected p true'), 10_000, 'the first adoption');
    const s3 = await startSignal(flags);
    fleet.push(s3);
    await resumeOn(s3.port);
    await eventually(() => heard.includes('enabled p'), 10_000, 'p back on s3');
    proxy.down();
    await stop(s3, 'SIGKILL');
    const secondDeathAt = Date.now();
    await eventually(
      () => heard.filter((h) => h === 'disconnected p true').length === 2,
      10_000,
      'the second adoption',
    );
    // Past the first hold's grace (6 s from the first adoption), within the second's.
    await new Promise((r) => setTimeout(r, Math.max(0, secondDeathAt + 5000 - Date.now())));
    expect(heard).to.not.include('disabled p');
    await resumeOn(s2.port);
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).to.deep.equal(['disconnected p true', 'enabled p', 'disconnected p true', 'enabled p']);
  });

  it('a newcomer joining through a process just restarted reaches everyone, also the participant resuming onto it (both dial: they agree which link is current)', async function () {
    this.timeout(120_000);
    const flags = fleetFlags(redis.url, freshPrefix(), ['--fleet-heartbeat-ms', '500', '--fleet-timeout-ms', '2000']);
    const s1 = await startSignal(flags);
    let s2 = await startSignal(flags);
    fleet.push(s1, s2);
    const p0 = await joinRoom(s1.url, 'newcomers', 'p0', { paths: 'relay' });
    const p1 = await joinRoom(s1.url, 'newcomers', 'p1');
    const p2 = await joinRoom(s2.url, 'newcomers', 'p2'); // pinned to s2: resumes once s2 is back
    for (const r of [p0, p1, p2]) await r.messaging.enable();
    await eventually(() => [p0, p1, p2].every((r) => r.messaging.remoteParticipants.length === 2), 10_000, 'a mesh');
    const names = ['p0', 'p1', 'p2'];
    // Each round races p2's resume (it then dials the newcomer) against the newcomer's dial of p2; the
    // newcomer's direct attempt may be the first link of p2's session. Before the first link was ranked as
    // a direct link, p2 then read only the relay while the newcomer wrote on the data channel.
    for (let round = 0; round < 4; round++) {
      await stop(s2, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 2500));
      s2 = await startSignal(flags, { port: s2.port });
      fleet.push(s2);
      const newcomer = await joinRoom(s2.url, 'newcomers', `newcomer${round}`);
      const enabling = newcomer.messaging.enable().catch(() => {});
      await eventually(
        () => names.every((n) => newcomer.messaging.getParticipantByName(n) !== undefined),
        15_000,
        `newcomer${round} to find everyone`,
      );
      const acks = await Promise.allSettled(
        names.map((n) =>
          newcomer.messaging.sendMessage({ to: newcomer.messaging.getParticipantByName(n)!, type: 'hi', message: {} }),
        ),
      );
      const failed = acks.flatMap((a, k) => (a.status === 'rejected' ? [`${names[k]}: ${String(a.reason)}`] : []));
      expect(failed, `round ${round}`).to.deep.equal([]);
      await enabling;
      await newcomer.disconnect();
    }
  });
});

describe('signaling server with Redis down', function () {
  this.timeout(60_000);
  let redis: (Proc & { url: string }) | undefined;
  let server: SignalingServer | undefined;
  const h = new Harness();
  after(async () => {
    closeRawClients();
    await h.close();
    await stopAll();
  });

  it('redisKeyPrefix: two fleets on one Redis with different prefixes do not share rooms', async () => {
    redis = await startRedis();
    const common = {
      port: 0,
      staticDir: false as const,
      adapter: 'redis' as const,
      redisUrl: redis.url,
      maxParticipantsPerRoom: 1,
    };
    const x = await h.server({ ...common, redisKeyPrefix: freshPrefix() });
    const y = await h.server({ ...common, redisKeyPrefix: freshPrefix() });
    try {
      await until(() => x.isReady() && y.isReady(), 10_000, 'both ready');
      const join = async (s: SignalingServer): Promise<WireReply> => {
        return ackWithin(5000, await connect(s.url), 'join', { v: SIGNALING_VERSION, room: 'same', name: 'n' });
      };
      // Each fleet's room of one is its own: both joins succeed.
      expect((await join(x)).ok).to.equal(true);
      expect((await join(y)).ok).to.equal(true);
      expect((await join(x)).error?.reason).to.equal('RoomFull');
    } finally {
      await x.close();
      await y.close();
      await stop(redis);
    }
  });

  it('is not ready and refuses joins with Unavailable while Redis is down; when it is back empty, its joined clients are sent away to join again', async () => {
    redis = await startRedis();
    const port = redis.port;
    server = await h.server({
      adapter: 'redis',
      redisUrl: redis.url,
      redisKeyPrefix: freshPrefix(),
      fleetHeartbeatMs: 200,
      fleetTimeoutMs: 1000,
    });
    await until(async () => (await httpGet(server!.port, '/readyz')).status === 200, 10_000, 'ready');
    expect(server.isReady()).to.equal(true);
    const member = await connect(server.url);
    expect((await ackWithin(5000, member, 'join', { v: SIGNALING_VERSION, room: 'r', name: 'm' })).ok).to.equal(true);
    const memberGone = new Promise((r) => member.once('disconnect', r));

    await stop(redis);
    await until(async () => (await httpGet(server!.port, '/readyz')).status === 503, 10_000, '503 once Redis is gone');
    expect((await httpGet(server.port, '/readyz')).body).to.match(/redis/);
    expect((await httpGet(server.port, '/healthz')).status).to.equal(200); // alive all the same
    const s = await connect(server.url);
    const r = await ackWithin(5000, s, 'join', { v: SIGNALING_VERSION, room: 'r', name: 'n' });
    expect(r.error?.reason, JSON.stringify(r)).to.equal('Unavailable');

    // A Redis without persistence comes back empty: the member's record is gone, so it is sent away.
    redis = await startRedis(port);
    await until(
      async () => (await httpGet(server!.port, '/readyz')).status === 200,
      15_000,
      'ready again once Redis is back',
    );
    await memberGone;
    expect(s.connected).to.equal(true); // not joined: nothing to lose, not sent away
    const again = await ackWithin(5000, s, 'join', { v: SIGNALING_VERSION, room: 'r', name: 'n' });
    expect(again.ok, JSON.stringify(again)).to.equal(true);
  });

  // A frozen Redis (or one behind a network that drops its packets) keeps its connections: node-redis writes
  // the commands and waits for good, its own command timeout ending once a command is written. Found by an
  // operator's review: /readyz said 200 and a join waited the whole 12 s Redis was stopped.
  it('a Redis that stops answering (SIGSTOP) counts as unreachable once a command has waited 3 s: not ready, new joins refused at once; answering again, all is well', async () => {
    redis = await startRedis();
    const frozen = redis;
    server = await h.server({ adapter: 'redis', redisUrl: redis.url, redisKeyPrefix: freshPrefix() });
    await until(async () => (await httpGet(server!.port, '/readyz')).status === 200, 10_000, 'ready');
    const waiting = await connect(server.url);
    frozen.child.kill('SIGSTOP');
    try {
      const stoppedAt = Date.now();
      const firstJoin = ackWithin(30_000, waiting, 'join', { v: SIGNALING_VERSION, room: 'f', name: 'first' });
      await until(
        async () => (await httpGet(server!.port, '/readyz')).status === 503,
        15_000,
        '503 while Redis is silent',
      );
      expect(Date.now() - stoppedAt).to.be.at.least(2900); // not before a command has waited its 3 s
      expect((await httpGet(server.port, '/readyz')).body).to.match(/redis/);
      const late = await connect(server.url);
      const refused = await ackWithin(2000, late, 'join', { v: SIGNALING_VERSION, room: 'f', name: 'late' });
      expect(refused.error?.reason, JSON.stringify(refused)).to.equal('Unavailable');
      frozen.child.kill('SIGCONT');
      // The join that was waiting is carried out once Redis answers; the server is ready again.
      expect((await firstJoin).ok).to.equal(true);
      await until(async () => (await httpGet(server!.port, '/readyz')).status === 200, 10_000, 'ready again');
      const again = await ackWithin(5000, late, 'join', { v: SIGNALING_VERSION, room: 'f', name: 'late' });
      expect(again.ok, JSON.stringify(again)).to.equal(true);
    } finally {
      frozen.child.kill('SIGCONT');
      await server.close();
      await stop(frozen);
    }
  });

  // Found by an operator's review: a fleet process asked to close while its Redis was frozen waited for
  // the heartbeat in flight for good, and every later SIGTERM or SIGINT only logged "stopping".
  it('a fleet process closes in bounded time while its Redis is frozen, and a signal after the close began stops it at once', async () => {
    redis = await startRedis();
    const frozen = redis;
    const flags = ['--adapter', 'redis', '--redis-url', redis.url, '--redis-key-prefix', freshPrefix()];
    const first = await startSignal(flags);
    const second = await startSignal(flags);
    frozen.child.kill('SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 1500)); // a heartbeat is in flight, unanswered
      let startedAt = Date.now();
      first.child.kill('SIGINT');
      expect(await first.exited).to.equal(0);
      const tookMs = Date.now() - startedAt;
      expect(tookMs, first.output()).to.be.below(8000);
      startedAt = Date.now();
      second.child.kill('SIGINT'); // closes, and waits for Redis
      await new Promise((r) => setTimeout(r, 300));
      second.child.kill('SIGTERM');
      expect(await second.exited).to.equal(1);
      expect(Date.now() - startedAt).to.be.below(2000);
      expect(second.output()).to.match(/stopping now, without finishing the close/);
    } finally {
      frozen.child.kill('SIGCONT');
      await stop(first);
      await stop(second);
      await stop(frozen);
    }
  });
});
