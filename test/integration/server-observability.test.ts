/**
 * What an operator watches and drives: /metrics (scraped and checked), /readyz through a drain, SIGTERM
 * on a real process, logs that never hold SDP, candidates or tokens, the ICE servers handed out, and
 * the command line's flags and environment variables.
 */
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import pino from 'pino';
import type { Socket } from 'socket.io-client';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { FLAGS } from '../../signaling/cli-flag-table.js';
import type { SignalingServer, SignalingServerOptions } from '../../signaling/server.js';
import { Harness } from '../support/harness.js';
import { httpGet, startSignal, stop, stopAll, until } from '../support/processes.js';
import { ack, closeRawClients, rawConnect as connect, type WireReply } from '../support/raw-client.js';

const h = new Harness();
const start = (o: SignalingServerOptions = {}): Promise<SignalingServer> => h.server(o);
async function member(
  url: string,
  room: string,
  name: string,
  token?: string,
): Promise<{ s: Socket; id: string; reply: WireReply }> {
  const s = await connect(url);
  const reply = await ack(s, 'join', { v: SIGNALING_VERSION, room, name, ...(token ? { token } : {}) });
  expect(reply.ok, JSON.stringify(reply)).to.equal(true);
  expect((await ack(s, 'enable_messaging')).ok).to.equal(true);
  return { s, id: reply.data.self.id as string, reply };
}
/** Metric lines as a map from `name{labels}` to value. */
async function scrape(s: { port: number }): Promise<Map<string, number>> {
  const r = await httpGet(s.port, '/metrics');
  expect(r.status).to.equal(200);
  const out = new Map<string, number>();
  for (const line of r.body.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

afterEach(async () => {
  closeRawClients();
  await h.close();
});
after(async () => {
  await stopAll();
});

describe('signaling server /metrics', function () {
  this.timeout(20_000);

  it('counts connections, rooms, participants, joins by result, signals by kind, rejections by reason, payload sizes, and event-loop lag', async () => {
    const s = await start({ maxParticipantsPerRoom: 2 });
    const other = await start(); // its own registry: nothing of s shows there
    const a = await member(s.url, 'm', 'a');
    const b = await member(s.url, 'm', 'b');
    const c = await connect(s.url);
    expect((await ack(c, 'join', { v: SIGNALING_VERSION, room: 'm', name: 'c' })).error?.reason).to.equal('RoomFull');
    expect((await ack(c, 'join', { v: 99, room: 'm', name: 'c' })).error?.reason).to.equal('UnsupportedVersion');
    for (const data of [
      { type: 'offer', sdp: 'v=0' },
      { type: 'answer', sdp: 'v=0' },
      { type: 'candidate', candidate: { candidate: 'candidate:1' } },
      { type: 'candidate', candidate: { candidate: 'candidate:2' } },
    ]) {
      expect((await ack(a.s, 'signal', { to: b.id, cid: 'x', data })).ok).to.equal(true);
    }
    expect(
      (await ack(a.s, 'signal', { to: 'nobody', cid: 'x', data: { type: 'offer', sdp: 'v=0' } })).error?.reason,
    ).to.equal('UnknownParticipant');

    const m = await scrape(s);
    expect(m.get('roommesh_connections')).to.equal(3);
    expect(m.get('roommesh_rooms')).to.equal(1);
    expect(m.get('roommesh_participants')).to.equal(2);
    expect(m.get('roommesh_ready')).to.equal(1);
    expect(m.get('roommesh_joins_total{result="ok"}')).to.equal(2);
    expect(m.get('roommesh_joins_total{result="RoomFull"}')).to.equal(1);
    expect(m.get('roommesh_joins_total{result="UnsupportedVersion"}')).to.equal(1);
    expect(m.get('roommesh_signals_relayed_total{kind="offer"}')).to.equal(1);
    expect(m.get('roommesh_signals_relayed_total{kind="answer"}')).to.equal(1);
    expect(m.get('roommesh_signals_relayed_total{kind="candidate"}')).to.equal(2);
    expect(m.get('roommesh_rejections_total{reason="RoomFull"}')).to.equal(1);
    expect(m.get('roommesh_rejections_total{reason="UnknownParticipant"}')).to.equal(1);
    // join, enable, join, enable, 2 refused joins, 5 signals: 11 events.
    expect(m.get('roommesh_event_payload_bytes_count')).to.equal(11);
    expect(m.get('roommesh_event_payload_bytes_sum')).to.be.greaterThan(11 * 10);
    expect(m.get('nodejs_eventloop_lag_seconds')).to.be.a('number');
    expect(m.has('nodejs_eventloop_lag_p99_seconds')).to.equal(true);
    expect((await httpGet(s.port, '/metrics')).headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);

    const o = await scrape(other);
    expect(o.get('roommesh_connections')).to.equal(0);
    expect(o.has('roommesh_joins_total{result="ok"}')).to.equal(false);

    // Leaving shows in the gauges.
    a.s.disconnect();
    b.s.disconnect();
    await until(async () => (await scrape(s)).get('roommesh_participants') === 0, 5000, 'participants to drop to 0');
    expect((await scrape(s)).get('roommesh_rooms')).to.equal(0);
  });

  it('metrics: false serves no /metrics', async () => {
    const s = await start({ metrics: false });
    expect((await httpGet(s.port, '/metrics')).status).to.equal(404);
  });
});

describe('signaling server readiness and drain', function () {
  this.timeout(20_000);

  it('/readyz is 200 when serving; drain() turns it 503 at once, keeps serving the connected, refuses newcomers with Draining, then closes', async () => {
    const s = await start({ drainDelayMs: 3000 }); // long enough for the checks below on a loaded machine
    expect((await httpGet(s.port, '/readyz')).status).to.equal(200);
    const a = await member(s.url, 'd', 'a');
    const b = await member(s.url, 'd', 'b');
    const idle = await connect(s.url); // connected, not joined yet
    const aGone = new Promise((r) => a.s.once('disconnect', r));

    const drained = s.drain();
    const r = await httpGet(s.port, '/readyz');
    expect(r.status).to.equal(503);
    expect(r.body).to.match(/draining/);
    expect(s.isReady()).to.equal(false);
    expect((await httpGet(s.port, '/healthz')).status).to.equal(200); // alive all the same
    const got = new Promise((resolve) => b.s.once('signal', resolve));
    expect((await ack(a.s, 'signal', { to: b.id, cid: 'x', data: { type: 'offer', sdp: 'v=0' } })).ok).to.equal(true);
    await got;
    expect((await ack(idle, 'join', { v: SIGNALING_VERSION, room: 'd', name: 'late' })).error?.reason).to.equal(
      'Draining',
    );
    const err = (await connect(s.url).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { data?: { reason: string } };
    expect(err?.data?.reason).to.equal('Draining');

    await drained;
    await aGone;
    expect((await httpGet(s.port, '/healthz')).status).to.equal(0); // closed
  });

  it('SIGTERM on a real process drains: /readyz 503 while connected clients still work, then it exits 0', async () => {
    const proc = await startSignal(['--drain-delay-ms', '4000', '--log-level', 'info']);
    const a = await member(proc.url, 'd', 'a');
    const b = await member(proc.url, 'd', 'b');
    const aGone = new Promise((r) => a.s.once('disconnect', r));
    proc.child.kill('SIGTERM');
    await until(async () => (await httpGet(proc.port, '/readyz')).status === 503, 3000, '/readyz to turn 503');
    const got = new Promise((resolve) => b.s.once('signal', resolve));
    expect((await ack(a.s, 'signal', { to: b.id, cid: 'x', data: { type: 'offer', sdp: 'v=0' } })).ok).to.equal(true);
    await got;
    expect(await proc.exited).to.equal(0);
    await aGone;
    // Logs are JSON lines; the drain is in them.
    const lines = proc
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).to.include.members(['draining', 'signaling server closed']);
  });

  it('a second SIGTERM during the drain closes at once', async () => {
    const proc = await startSignal(['--drain-delay-ms', '60000', '--log-level', 'silent']);
    proc.child.kill('SIGTERM');
    await until(async () => (await httpGet(proc.port, '/readyz')).status === 503, 2000, '/readyz to turn 503');
    const t0 = Date.now();
    proc.child.kill('SIGTERM');
    expect(await proc.exited).to.equal(0);
    expect(Date.now() - t0).to.be.below(10_000);
    await stop(proc);
  });
});

describe('signaling server logs', function () {
  this.timeout(20_000);

  it('hold no SDP, no ICE candidate and no token, even at trace level and for refused input', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(
          ...chunk
            .toString()
            .split('\n')
            .filter((l) => l.length > 0),
        );
        done();
      },
    });
    const secret = 'log-test-secret-long-enough-for-hs256-keys';
    const s = await start({ auth: 'jwt', jwtSecret: secret, logger: pino({ level: 'trace' }, sink) });
    const token = (room: string, name: string, exp: string | number = '1h'): Promise<string> =>
      new SignJWT({ room, name })
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience('roommesh')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const tokens = [await token('l', 'alice'), await token('l', 'bob')];
    const a = await member(s.url, 'l', 'alice', tokens[0]);
    const b = await member(s.url, 'l', 'bob', tokens[1]);
    const SDP = 'v=0\r\no=SECRET-SDP-MARKER 1 1 IN IP4 198.51.100.7\r\n';
    const CANDIDATE = 'candidate:SECRET-CANDIDATE-MARKER 1 udp 2122260223 198.51.100.7 54321 typ host';
    await ack(a.s, 'signal', { to: b.id, cid: 'c', data: { type: 'offer', sdp: SDP } });
    await ack(b.s, 'signal', { to: a.id, cid: 'c', data: { type: 'answer', sdp: SDP } });
    await ack(a.s, 'signal', { to: b.id, cid: 'c', data: { type: 'candidate', candidate: { candidate: CANDIDATE } } });
    // Refused input carrying the same secrets.
    await ack(a.s, 'signal', { to: 'nobody', cid: 'c', data: { type: 'offer', sdp: SDP } });
    await ack(a.s, 'signal', { to: b.id, cid: 'c', data: { type: 'pranswer', sdp: SDP, candidate: CANDIDATE } });
    const expired = await token('l', 'carol', Math.floor(Date.now() / 1000) - 3600);
    const c = await connect(s.url);
    expect(
      (await ack(c, 'join', { v: SIGNALING_VERSION, room: 'l', name: 'carol', token: expired })).error?.reason,
    ).to.equal('TokenExpired');
    expect(
      (await ack(c, 'join', { v: SIGNALING_VERSION, room: 'other', name: 'carol', token: tokens[0] })).error?.reason,
    ).to.equal('RoomNotAllowed');
    await ack(c, 'join', { v: SIGNALING_VERSION, room: 'l', name: 'carol', token: `${tokens[0]!.slice(0, -4)}AAAA` });
    a.s.disconnect();
    await until(() => lines.some((l) => l.includes('"left"')), 5000, 'the leave to be logged');

    expect(lines.length).to.be.greaterThan(5);
    for (const l of lines) JSON.parse(l); // JSON lines
    expect(lines.some((l) => l.includes('"signal relayed"'))).to.equal(true); // debug lines were written…
    const text = lines.join('\n');
    for (const secretText of [
      'SECRET-SDP-MARKER',
      'SECRET-CANDIDATE-MARKER',
      '198.51.100.7',
      secret,
      ...tokens,
      expired,
      tokens[0]!.split('.')[1]!,
      tokens[0]!.split('.')[2]!,
    ]) {
      expect(text, `logs hold ${secretText.slice(0, 20)}…`).to.not.include(secretText); // …but none of these
    }
  });
});

describe('signaling server ICE servers', function () {
  this.timeout(10_000);

  it('hands out the static list, STUN URLs, and TURN URLs with TURN REST credentials that expire after turnCredentialTtlMs', async () => {
    const turnSecret = 'coturn-static-auth-secret';
    // Loopback addresses: only the join reply is read here, nothing dials them, and if anything did, every
    // packet would stay on this machine.
    const s = await start({
      iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
      stunUrls: ['stun:127.0.0.1:3479'],
      turnUrls: ['turn:127.0.0.1:3480?transport=udp', 'turns:127.0.0.1:5349'],
      turnSecret,
      turnCredentialTtlMs: 600_000,
    });
    const before = Date.now();
    const { reply, id } = await member(s.url, 'ice', 'alice');
    const ice = reply.data.iceServers as Array<{ urls: string | string[]; username?: string; credential?: string }>;
    expect(ice).to.have.length(3);
    expect(ice[0]).to.deep.equal({ urls: 'stun:127.0.0.1:3478' });
    expect(ice[1]).to.deep.equal({ urls: ['stun:127.0.0.1:3479'] });
    const turn = ice[2]!;
    expect(turn.urls).to.deep.equal(['turn:127.0.0.1:3480?transport=udp', 'turns:127.0.0.1:5349']);
    const [expiry, user] = turn.username!.split(':');
    expect(user).to.equal(id);
    expect(Number(expiry) * 1000).to.be.within(before + 600_000 - 1000, Date.now() + 600_000);
    // What coturn computes with use-auth-secret / static-auth-secret:
    expect(turn.credential).to.equal(createHmac('sha1', turnSecret).update(turn.username!).digest('base64'));
    expect(reply.data.iceServersExpireAtMs).to.be.within(before + 600_000 - 1000, Date.now() + 600_000);
  });
});

describe('roommesh-signal flags and environment', function () {
  this.timeout(30_000);

  it('--help lists every flag with its environment variable', async () => {
    const proc = await startSignal(['--help'], { waitReady: false }).catch((e: Error) => e);
    // --help exits at once: startSignal reports the exit with the output.
    const out = proc instanceof Error ? proc.message : '';
    for (const f of FLAGS) {
      expect(out).to.include(`--${f.flag}`);
      expect(out).to.include(f.env);
    }
  });

  it('reads options from ROOMMESH_* variables; a flag wins over its variable', async () => {
    const proc = await startSignal(['--max-participants-per-room', '2'], {
      env: { ROOMMESH_MAX_PARTICIPANTS_PER_ROOM: '1', ROOMMESH_MAX_CONNECTIONS: '2' },
    });
    await member(proc.url, 'e', 'a');
    await member(proc.url, 'e', 'b'); // the flag's 2, not the variable's 1
    const err = (await connect(proc.url).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { data?: { reason: string } };
    expect(err?.data?.reason).to.equal('ServerFull'); // the variable's 2 connections
    await stop(proc);
  });

  for (const [args, env, pattern] of [
    [['--auth', 'jwt'], {}, /--jwt-secret|--jwks-url/],
    [['--auth', 'jwt', '--jwt-secret', 'short'], {}, /--jwt-secret.*32 bytes/],
    [['--auth', 'jwt', '--jwt-secret', 'x'.repeat(40), '--jwks-url', 'http://127.0.0.1/j'], {}, /exactly one/],
    [['--auth', 'jwt', '--jwt-secret', 'x'.repeat(40), '--jwt-algorithms', 'RS256'], {}, /--jwt-algorithms/],
    [['--auth', 'maybe'], {}, /--auth.*none or jwt/],
    // A JWT setting without auth jwt: the server would run open to anyone, with no word of it.
    [[], { ROOMMESH_JWT_SECRET: 'x'.repeat(40) }, /--jwt-secret.*is for auth jwt, and auth is none/],
    [['--jwks-url', 'http://127.0.0.1/j'], {}, /--jwks-url.*is for auth jwt/],
    [['--jwt-audience', 'x'], {}, /--jwt-audience.*is for auth jwt/],
    [[], { ROOMMESH_JWT_CLOCK_TOLERANCE_MS: '1000' }, /--jwt-clock-tolerance-ms.*is for auth jwt/],
    [['--adapter', 'redis'], {}, /--redis-url/],
    [['--turn-urls', 'turn:127.0.0.1:3480'], {}, /--turn-secret/],
    [['--stun-urls', 'http://x'], {}, /--stun-urls/],
    [['--allowed-origins', 'https://app.example/path'], {}, /--allowed-origins/],
    [['--fleet-heartbeat-ms', '5000', '--fleet-timeout-ms', '6000'], {}, /--fleet-timeout-ms/],
    [['--max-payload-bytes', '10'], {}, /--max-payload-bytes.*3072/],
    // The smallest event must hold the smallest relayed frame and its envelope: below that it could not start
    // at all, with an error naming --max-relay-frame-bytes, which the operator had not set.
    [['--max-payload-bytes', '3071'], {}, /--max-payload-bytes.*3072/],
    [['--max-relay-frame-bytes', '2047'], {}, /--max-relay-frame-bytes.*2048/],
    [[], { ROOMMESH_SIGNALS_PER_SECOND: 'fast' }, /ROOMMESH_SIGNALS_PER_SECOND.*whole number/],
    [[], { ROOMMESH_TRUST_PROXY: 'perhaps' }, /ROOMMESH_TRUST_PROXY/],
  ] as Array<[string[], Record<string, string>, RegExp]>) {
    it(`refuses to start: ${[...args, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')}`, async () => {
      const err = await startSignal(args, { env, waitReady: false }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(pattern);
    });
  }
});
