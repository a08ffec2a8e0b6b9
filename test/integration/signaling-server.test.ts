/**
 * Integration tests of the signaling server, driven by raw socket.io clients (no WebRTC): the join /
 * enable / disable / signal protocol, refusal of malformed input, payload limits, cleanup under churn,
 * the HTTP side (health check, static files) and the command-line entry point.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { MAX_NAME_LENGTH, MAX_SDP_LENGTH, SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { createSignalingServer, type SignalingServer } from '../../signaling/server.js';
import { eventually } from '../support/harness.js';
import { record, type Info, type WireReply } from '../support/raw-client.js';

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/** Every client a test opens, so afterEach can close them all. */
const clients: Socket[] = [];

/** Opens a client and resolves once it is connected. */
function connect(url: string): Promise<Socket> {
  const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  clients.push(s);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('timed out connecting'));
    }, 5000);
    const onConnect = (): void => {
      cleanup();
      resolve(s);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      s.off('connect', onConnect);
      s.off('connect_error', onError);
    };
    s.on('connect', onConnect);
    s.on('connect_error', onError);
  });
}

/** Emits with an acknowledgement and resolves with the server's reply (rejects after 10 s: generous, as suites run side by side). */
function ack(s: Socket, event: string, ...args: unknown[]): Promise<WireReply> {
  return (s.timeout(10_000) as any).emitWithAck(event, ...args) as Promise<WireReply>;
}

/** Expects a refusal with this reason and a non-empty message. */
function expectRefused(reply: WireReply, reason: string): void {
  expect(reply.ok, JSON.stringify(reply)).to.equal(false);
  expect(reply.error?.reason).to.equal(reason);
  expect(reply.error?.message).to.be.a('string').that.is.not.empty;
  expect(reply).to.not.have.property('data');
}

/** Joins a room on `s` and returns the server's description of self. */
async function join(s: Socket, room: string, name: string): Promise<Info> {
  const r = await ack(s, 'join', { v: SIGNALING_VERSION, room, name });
  expect(r.ok, JSON.stringify(r)).to.equal(true);
  return r.data.self as Info;
}

/** Connects, joins and (optionally) enables messaging. */
async function participant(url: string, room: string, name: string, enable = true): Promise<{ s: Socket; info: Info }> {
  const s = await connect(url);
  const info = await join(s, room, name);
  if (enable) {
    const r = await ack(s, 'enable_messaging');
    expect(r.ok, JSON.stringify(r)).to.equal(true);
  }
  return { s, info };
}

/** The first argument of the next `event` on `s` (rejects after `timeoutMs`). */
function next(s: Socket, event: string, timeoutMs = 2000): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
    }, timeoutMs);
    const listener = (arg: unknown): void => {
      clearTimeout(timer);
      s.off(event, listener);
      resolve(arg);
    };
    s.on(event, listener);
  });
}

/**
 * A bounded wait, used only where a test checks that something does NOT arrive: there is no event
 * to wait on, so we give the server this long to (wrongly) send it.
 */
const QUIET_MS = 200;
function quiet(ms = QUIET_MS): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Disconnects every open client. */
function closeClients(): void {
  for (const s of clients.splice(0)) {
    s.removeAllListeners();
    s.disconnect();
  }
}

/** After a test: close its clients and wait until the server has forgotten all of them. */
async function settle(server: SignalingServer): Promise<void> {
  closeClients();
  await eventually(() => {
    const st = server.stats();
    return st.rooms === 0 && st.participants === 0 && st.connections === 0;
  }, 5000, `server to drop every client (stats ${JSON.stringify(server.stats())})`);
}

const offer = (sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n'): { type: 'offer'; sdp: string } => ({ type: 'offer', sdp });

/** Raw HTTP request with the path sent exactly as given (no normalisation), no keep-alive. */
function httpGet(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// The socket.io protocol
// ---------------------------------------------------------------------------------------------

describe('signaling server (raw socket.io clients)', function () {
  this.timeout(20_000);
  let server: SignalingServer;

  before(async () => {
    // The flood test below joins 2,000 times from one address: no per-IP join limit here (server-limits tests it).
    // No grace for dropped connections here: these tests watch removals; resuming has its own tests.
    server = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: false, joinsPerSecondPerIp: 0, resumeGraceMs: 0 });
  });
  afterEach(async () => {
    await settle(server);
  });
  after(async () => {
    closeClients();
    await server?.close();
  });

  describe('join', () => {
    it('assigns a server id and replies { ok, data: { self: { id, name, joinedAtMs } } }', async () => {
      const s = await connect(server.url);
      const before = Date.now();
      const r = await ack(s, 'join', { v: SIGNALING_VERSION, room: 'r1', name: 'alice' });
      expect(r.ok).to.equal(true);
      expect(Object.keys(r.data)).to.deep.equal(['self', 'resumeToken']); // no iceServers configured: none sent
      expect(r.data.resumeToken).to.be.a('string').that.is.not.empty;
      expect(Object.keys(r.data.self).sort()).to.deep.equal(['id', 'joinedAtMs', 'name']);
      expect(r.data.self.id).to.be.a('string').that.is.not.empty;
      expect(r.data.self.name).to.equal('alice');
      expect(r.data.self.joinedAtMs).to.be.a('number').within(before - 1, Date.now() + 1);
      expect(server.stats()).to.include({ rooms: 1, participants: 1 });
    });

    it('gives two participants different ids, even with the same name', async () => {
      const a = await participant(server.url, 'r1', 'same', false);
      const b = await participant(server.url, 'r1', 'same', false);
      expect(a.info.id).to.not.equal(b.info.id);
      expect(server.stats()).to.include({ rooms: 1, participants: 2 });
    });

    it('ignores a client-chosen id', async () => {
      const s = await connect(server.url);
      const r = await ack(s, 'join', { v: SIGNALING_VERSION, room: 'r1', name: 'alice', id: 'mine' });
      expect(r.ok).to.equal(true);
      expect(r.data.self.id).to.not.equal('mine');
    });

    it('refuses a second join on one connection with AlreadyJoined', async () => {
      const s = await connect(server.url);
      const first = await join(s, 'r1', 'alice');
      expectRefused(await ack(s, 'join', { v: SIGNALING_VERSION, room: 'r2', name: 'bob' }), 'AlreadyJoined');
      expectRefused(await ack(s, 'join', { v: SIGNALING_VERSION, room: 'r1', name: 'alice' }), 'AlreadyJoined');
      expect(server.stats()).to.include({ rooms: 1, participants: 1 });
      // Still the first identity: another participant sees it after enabling.
      await ack(s, 'enable_messaging');
      const other = await participant(server.url, 'r1', 'carol', false);
      const r = await ack(other.s, 'enable_messaging');
      expect(r.data.participants).to.deep.equal([first]);
    });

    it('refuses another protocol version with UnsupportedVersion, and then accepts the right one', async () => {
      const s = await connect(server.url);
      expectRefused(await ack(s, 'join', { v: 99, room: 'r1', name: 'alice' }), 'UnsupportedVersion');
      expectRefused(await ack(s, 'join', { v: 0, room: 'r1', name: 'alice' }), 'UnsupportedVersion');
      expect(server.stats().participants).to.equal(0);
      await join(s, 'r1', 'alice');
      expect(server.stats().participants).to.equal(1);
    });

    it('refuses malformed joins with BadRequest and a message, leaving the connection usable', async () => {
      const s = await connect(server.url);
      const v = SIGNALING_VERSION;
      const bad: unknown[][] = [
        [{ v, room: 'r1' }], // missing name
        [{ v, room: '', name: 'alice' }], // empty room
        [{ v, room: '   ', name: 'alice' }], // blank room
        [{ v, name: 'alice' }], // missing room
        [{ v, room: 'r1', name: 'x'.repeat(MAX_NAME_LENGTH + 1) }], // name of 129 characters
        [{ v, room: 'x'.repeat(MAX_NAME_LENGTH + 1), name: 'alice' }], // room too long
        [{ v, room: 'r1', name: 42 }], // name not a string
        [{ room: 'r1', name: 'alice' }], // missing version
        [{ v: '1', room: 'r1', name: 'alice' }], // version not a number
        [{ v, room: 'r1', name: 'alice', token: 7 }], // token not a string
        ['join me'], // not an object
        [42],
        [[v, 'r1', 'alice']], // an array
        [null],
        [], // no argument at all
      ];
      for (const args of bad) {
        const r = await ack(s, 'join', ...args);
        expectRefused(r, 'BadRequest');
        expect(r.error?.message, JSON.stringify(args)).to.match(/^join: /);
      }
      expect(server.stats().participants).to.equal(0);
      // Exactly 128 characters is allowed, and the connection can still join after all that.
      const self = await join(s, 'r1', 'y'.repeat(MAX_NAME_LENGTH));
      expect(self.name).to.have.length(MAX_NAME_LENGTH);
    });

    it('refuses every other event before join with NotJoined', async () => {
      const s = await connect(server.url);
      expectRefused(await ack(s, 'enable_messaging'), 'NotJoined');
      expectRefused(await ack(s, 'disable_messaging'), 'NotJoined');
      expectRefused(await ack(s, 'signal', { to: 'someone', cid: 'c1', data: offer() }), 'NotJoined');
      expect(server.stats().participants).to.equal(0);
    });
  });

  describe('enable_messaging / disable_messaging', () => {
    it('returns the other enabled participants of the room only, and tells them about the newcomer', async () => {
      const a = await participant(server.url, 'room', 'alice'); // enabled
      const b = await participant(server.url, 'room', 'bob', false); // joined, not enabled
      const d = await participant(server.url, 'elsewhere', 'dave'); // enabled, other room
      const aGot = record(a.s, 'peer_enabled');
      const bGot = record(b.s, 'peer_enabled');
      const dGot = record(d.s, 'peer_enabled');

      const c = await participant(server.url, 'room', 'carol', false);
      const heard = next(a.s, 'peer_enabled');
      const r = await ack(c.s, 'enable_messaging');
      expect(r).to.deep.equal({ ok: true, data: { participants: [a.info] } });
      expect(await heard).to.deep.equal(c.info);

      // Enabling again is idempotent: same list, and nobody hears of carol twice.
      const again = await ack(c.s, 'enable_messaging');
      expect(again).to.deep.equal({ ok: true, data: { participants: [a.info] } });
      // Bounded wait: checking that nothing more arrives.
      await quiet();
      expect(aGot).to.deep.equal([c.info]);
      expect(bGot).to.deep.equal([]); // not enabled: not told
      expect(dGot).to.deep.equal([]); // other room: not told
    });

    it('the first participant to enable gets an empty list', async () => {
      const a = await participant(server.url, 'room', 'alice', false);
      await participant(server.url, 'room', 'bob', false);
      expect(await ack(a.s, 'enable_messaging')).to.deep.equal({ ok: true, data: { participants: [] } });
    });

    it('disable_messaging tells the enabled others peer_disabled { id }', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob');
      const c = await participant(server.url, 'room', 'carol', false);
      const cGot = record(c.s, 'peer_disabled');
      const heard = next(a.s, 'peer_disabled');
      expect(await ack(b.s, 'disable_messaging')).to.deep.equal({ ok: true, data: {} });
      expect(await heard).to.deep.equal({ id: b.info.id });

      // bob no longer appears in the lists, and is refused as a signal target.
      const e = await participant(server.url, 'room', 'erin', false);
      expect((await ack(e.s, 'enable_messaging')).data.participants).to.deep.equal([a.info]);
      expectRefused(await ack(a.s, 'signal', { to: b.info.id, cid: 'c', data: offer() }), 'PeerNotEnabled');
      expectRefused(await ack(b.s, 'signal', { to: a.info.id, cid: 'c', data: offer() }), 'NotEnabled');

      // Disabling twice is harmless and tells nobody again.
      const aGot = record(a.s, 'peer_disabled');
      expect((await ack(b.s, 'disable_messaging')).ok).to.equal(true);
      // Bounded wait: checking that nothing arrives.
      await quiet();
      expect(aGot).to.deep.equal([]);
      expect(cGot).to.deep.equal([]);
    });

    it('a participant can enable again after disabling', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob');
      await ack(b.s, 'disable_messaging');
      const heard = next(a.s, 'peer_enabled');
      expect((await ack(b.s, 'enable_messaging')).data.participants).to.deep.equal([a.info]);
      expect(await heard).to.deep.equal(b.info);
    });

    it('a disconnect of an enabled participant tells the enabled others peer_disabled; of a non-enabled one, nobody', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob');
      const c = await participant(server.url, 'room', 'carol', false);
      const aGot = record(a.s, 'peer_disabled');
      const cGot = record(c.s, 'peer_disabled');

      const heard = next(a.s, 'peer_disabled');
      b.s.disconnect();
      expect(await heard).to.deep.equal({ id: b.info.id });
      await eventually(() => server.stats().participants === 2, 2000, 'bob to be removed');

      c.s.disconnect(); // never enabled
      await eventually(() => server.stats().participants === 1, 2000, 'carol to be removed');
      // Bounded wait: checking that nothing more arrives.
      await quiet();
      expect(aGot).to.deep.equal([{ id: b.info.id }]);
      expect(cGot).to.deep.equal([]);
      expect(server.stats()).to.include({ rooms: 1, participants: 1 });
    });
  });

  describe('signal', () => {
    it('relays { from, cid, data } with from stamped by the server and unknown fields stripped', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob');

      const got = next(b.s, 'signal');
      const r = await ack(a.s, 'signal', {
        to: b.info.id,
        from: b.info.id, // a lie: must not be relayed
        cid: 'c1',
        extra: 'dropped',
        data: { type: 'offer', sdp: 'v=0 offer', extra: { nested: true }, from: 'fake' },
      });
      expect(r).to.deep.equal({ ok: true, data: {} });
      expect(await got).to.deep.equal({ from: a.info.id, cid: 'c1', data: { type: 'offer', sdp: 'v=0 offer' } });

      const got2 = next(a.s, 'signal');
      await ack(b.s, 'signal', { to: a.info.id, cid: 'c1', data: { type: 'answer', sdp: 'v=0 answer', junk: 1 } });
      expect(await got2).to.deep.equal({ from: b.info.id, cid: 'c1', data: { type: 'answer', sdp: 'v=0 answer' } });

      const got3 = next(b.s, 'signal');
      await ack(a.s, 'signal', {
        to: b.info.id,
        cid: 'c1',
        data: {
          type: 'candidate',
          junk: 2,
          candidate: { candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'uf', junk: 'x' },
        },
      });
      expect(await got3).to.deep.equal({
        from: a.info.id,
        cid: 'c1',
        data: { type: 'candidate', candidate: { candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'uf' } },
      });

      // Optional candidate fields of the wrong type are dropped, not relayed.
      const got4 = next(b.s, 'signal');
      await ack(a.s, 'signal', {
        to: b.info.id,
        cid: 'c2',
        data: { type: 'candidate', candidate: { candidate: '', sdpMid: 5, sdpMLineIndex: -1, usernameFragment: {} } },
      });
      expect(await got4).to.deep.equal({ from: a.info.id, cid: 'c2', data: { type: 'candidate', candidate: { candidate: '' } } });
    });

    it('refuses a target in another room with UnknownParticipant, and that participant receives nothing', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const d = await participant(server.url, 'elsewhere', 'dave');
      const dGot = record(d.s, 'signal');
      expectRefused(await ack(a.s, 'signal', { to: d.info.id, cid: 'c1', data: offer() }), 'UnknownParticipant');
      // Bounded wait: checking that nothing arrives.
      await quiet();
      expect(dGot).to.deep.equal([]);
    });

    it('refuses a nonexistent target, and self, with UnknownParticipant', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const aGot = record(a.s, 'signal');
      expectRefused(await ack(a.s, 'signal', { to: 'no-such-id', cid: 'c1', data: offer() }), 'UnknownParticipant');
      expectRefused(await ack(a.s, 'signal', { to: a.info.id, cid: 'c1', data: offer() }), 'UnknownParticipant');
      // Bounded wait: checking that nothing arrives.
      await quiet();
      expect(aGot).to.deep.equal([]);
    });

    it('refuses a sender that has not enabled messaging with NotEnabled', async () => {
      const a = await participant(server.url, 'room', 'alice', false);
      const b = await participant(server.url, 'room', 'bob');
      const bGot = record(b.s, 'signal');
      expectRefused(await ack(a.s, 'signal', { to: b.info.id, cid: 'c1', data: offer() }), 'NotEnabled');
      // Bounded wait: checking that nothing arrives.
      await quiet();
      expect(bGot).to.deep.equal([]);
    });

    it('refuses a target that has not enabled messaging with PeerNotEnabled', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob', false);
      const bGot = record(b.s, 'signal');
      expectRefused(await ack(a.s, 'signal', { to: b.info.id, cid: 'c1', data: offer() }), 'PeerNotEnabled');
      // Bounded wait: checking that nothing arrives.
      await quiet();
      expect(bGot).to.deep.equal([]);
    });

    it('refuses malformed signals with BadRequest and relays none of them', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob');
      const bGot = record(b.s, 'signal');
      const to = b.info.id;
      const bad: unknown[][] = [
        [{ to, cid: 'c', data: { type: 'pranswer', sdp: 'x' } }], // bad type
        [{ to, cid: 'c', data: { sdp: 'x' } }], // no type
        [{ to, cid: 'c', data: { type: 'offer', sdp: 42 } }], // sdp not a string
        [{ to, cid: 'c', data: { type: 'offer', sdp: '' } }], // empty sdp
        [{ to, cid: 'c', data: { type: 'offer' } }], // sdp missing
        [{ to, cid: 'c', data: { type: 'answer', sdp: 'x'.repeat(MAX_SDP_LENGTH + 1) } }], // sdp too long
        [{ to, cid: 'c', data: { type: 'candidate' } }], // candidate missing
        [{ to, cid: 'c', data: { type: 'candidate', candidate: 'candidate:1' } }], // candidate not an object
        [{ to, cid: 'c', data: { type: 'candidate', candidate: { sdpMid: '0' } } }], // candidate string missing
        [{ to, cid: 'c', data: { type: 'candidate', candidate: { candidate: 'x'.repeat(1025) } } }], // candidate too long
        [{ to, cid: 'c', data: 'offer' }], // data not an object
        [{ to, cid: 'c' }], // data missing
        [{ to, data: offer() }], // cid missing
        [{ to, cid: '', data: offer() }], // empty cid
        [{ to, cid: 'x'.repeat(65), data: offer() }], // cid too long
        [{ to, cid: 7, data: offer() }], // cid not a string
        [{ cid: 'c', data: offer() }], // to missing
        [{ to: 123, cid: 'c', data: offer() }], // to not a string
        [{ to: '', cid: 'c', data: offer() }], // empty to
        ['signal'], // not an object
        [null],
        [[to, 'c', offer()]],
        [],
      ];
      for (const args of bad) {
        const r = await ack(a.s, 'signal', ...args);
        expectRefused(r, 'BadRequest');
        expect(r.error?.message, JSON.stringify(args).slice(0, 200)).to.match(/^signal: /);
      }
      // Bounded wait: checking that nothing was relayed.
      await quiet();
      expect(bGot).to.deep.equal([]);
      // The sdp length limit is inclusive.
      const got = next(b.s, 'signal');
      expect((await ack(a.s, 'signal', { to, cid: 'c', data: offer('x'.repeat(MAX_SDP_LENGTH)) })).ok).to.equal(true);
      expect((await got).data.sdp).to.have.length(MAX_SDP_LENGTH);
    });
  });

  describe('errors without acknowledgement', () => {
    it('a refused event sent without an ack callback gets request_error { event, reason, message }', async () => {
      const s = await connect(server.url);
      let e = next(s, 'request_error');
      s.emit('enable_messaging');
      expect(await e).to.deep.include({ event: 'enable_messaging', reason: 'NotJoined' });
      expect(Object.keys(await e).sort()).to.deep.equal(['event', 'message', 'reason']);
      expect((await e).message).to.be.a('string').that.is.not.empty;

      e = next(s, 'request_error');
      s.emit('join', { v: 99, room: 'r', name: 'n' });
      expect(await e).to.deep.include({ event: 'join', reason: 'UnsupportedVersion' });

      e = next(s, 'request_error');
      s.emit('join', { v: SIGNALING_VERSION, room: '', name: 'n' });
      expect(await e).to.deep.include({ event: 'join', reason: 'BadRequest' });

      // A successful event without an ack callback gets no request_error (and does take effect).
      const errors = record(s, 'request_error');
      s.emit('join', { v: SIGNALING_VERSION, room: 'r', name: 'n' });
      await eventually(() => server.stats().participants === 1, 2000, 'the join to take effect');
      s.emit('enable_messaging');

      e = next(s, 'request_error');
      s.emit('signal', { to: 'x', cid: 'c', data: { type: 'nope' } });
      expect(await e).to.deep.include({ event: 'signal', reason: 'BadRequest' });
      expect(errors).to.have.length(1); // only the signal's
    });

    it('an unknown event gets request_error with reason BadRequest', async () => {
      const s = await connect(server.url);
      for (const name of ['bogus', 'toString', '__proto__', 'constructor', 'request_error', 'peer_enabled']) {
        const e = next(s, 'request_error');
        s.emit(name, { anything: 1 });
        const got = await e;
        expect(got).to.deep.include({ event: name, reason: 'BadRequest' });
        expect(got.message).to.be.a('string').that.is.not.empty;
      }
      // A very long event name is cut short in the reply.
      const e = next(s, 'request_error');
      s.emit('z'.repeat(1000));
      expect((await e).event).to.equal('z'.repeat(64));
      // And the connection still works.
      await join(s, 'r', 'n');
    });
  });

  describe('limits and robustness', () => {
    it('an event larger than maxPayloadBytes is refused with PayloadTooLarge; the connection and the room keep working', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob');
      const bGot = record(b.s, 'signal');
      // 100 KB sdp: over the default 64 KiB event limit (and the sdp limit, but it never gets that far).
      const r = await ack(a.s, 'signal', { to: b.info.id, cid: 'c1', data: offer('x'.repeat(100_000)) });
      expectRefused(r, 'PayloadTooLarge');
      expect(r.error?.message).to.include('65536');
      // Without an acknowledgement: request_error.
      const e = next(a.s, 'request_error');
      a.s.emit('signal', { to: b.info.id, cid: 'c1', data: offer('x'.repeat(100_000)) });
      expect(await e).to.deep.include({ event: 'signal', reason: 'PayloadTooLarge' });
      // Bounded wait: checking that nothing was relayed.
      await quiet();
      expect(bGot).to.deep.equal([]);
      expect(a.s.connected).to.equal(true);
      const got = next(b.s, 'signal');
      expect((await ack(a.s, 'signal', { to: b.info.id, cid: 'c2', data: offer() })).ok).to.equal(true);
      expect(await got).to.deep.equal({ from: a.info.id, cid: 'c2', data: offer() });
    });

    it('an event larger than 4 × maxPayloadBytes closes only that connection; the room keeps working', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob');
      const c = await participant(server.url, 'room', 'carol');
      const gone = next(a.s, 'disconnect', 5000);
      const bHeard = next(b.s, 'peer_disabled', 5000);
      // 300 KB: more than 4 × 64 KiB, so the server does not even read it.
      a.s.emit('signal', { to: b.info.id, cid: 'c1', data: offer('x'.repeat(300_000)) });
      expect(await gone).to.be.a('string'); // the disconnect reason, e.g. "transport close"
      expect(await bHeard).to.deep.equal({ id: a.info.id });
      await eventually(() => server.stats().participants === 2, 2000, 'alice to be removed');

      expect(b.s.connected).to.equal(true);
      const got = next(c.s, 'signal');
      expect((await ack(b.s, 'signal', { to: c.info.id, cid: 'c2', data: offer() })).ok).to.equal(true);
      expect(await got).to.deep.equal({ from: b.info.id, cid: 'c2', data: offer() });
    });

    it('a malformed socket.io packet closes only that connection', async () => {
      const a = await participant(server.url, 'room', 'alice');
      const b = await participant(server.url, 'room', 'bob');
      const bHeard = next(b.s, 'peer_disabled');
      const gone = next(a.s, 'disconnect');
      // Written under socket.io: an event packet naming a reserved event, which the parser rejects.
      a.s.io.engine.write('2["disconnect","x"]');
      await gone;
      expect(await bHeard).to.deep.equal({ id: a.info.id });
      const c = await participant(server.url, 'room', 'carol');
      const got = next(c.s, 'signal');
      expect((await ack(b.s, 'signal', { to: c.info.id, cid: 'c', data: offer() })).ok).to.equal(true);
      await got;
    });

    it('keeps serving after all the garbage above: a fresh pair joins and relays a signal', async () => {
      expect(server.stats()).to.deep.equal({ rooms: 0, participants: 0, connections: 0 });
      const a = await participant(server.url, 'fresh', 'alice');
      const heard = next(a.s, 'peer_enabled');
      const b = await participant(server.url, 'fresh', 'bob');
      expect(await heard).to.deep.equal(b.info);
      const got = next(a.s, 'signal');
      expect((await ack(b.s, 'signal', { to: a.info.id, cid: 'x', data: offer() })).ok).to.equal(true);
      expect(await got).to.deep.equal({ from: b.info.id, cid: 'x', data: offer() });
    });

    it('2,000 join/leave cycles leave no rooms or participants behind, and the server still works', async function () {
      this.timeout(90_000); // no wall-clock assertion: speed is the benchmarks' business, and this machine is shared
      const TOTAL = 2000;
      const CONCURRENCY = 50;
      let started = 0;
      // Cycles vary: wait for the join reply or not; some enable messaging; some leave right after
      // sending join, so the server may process the join and the disconnect back to back.
      const cycle = async (i: number): Promise<void> => {
        const s = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
        try {
          await new Promise<void>((resolve, reject) => {
            s.once('connect', () => resolve());
            s.once('connect_error', reject);
          });
          const room = `flood-${i % 17}`;
          if (i % 4 === 0) {
            s.emit('join', { v: SIGNALING_VERSION, room, name: `p${i}` });
            if (i % 8 === 0) s.emit('enable_messaging');
          } else {
            const r = await ack(s, 'join', { v: SIGNALING_VERSION, room, name: `p${i}` });
            if (!r.ok) throw new Error(`join ${i} refused: ${JSON.stringify(r)}`);
            if (i % 3 === 0) {
              const e = await ack(s, 'enable_messaging');
              if (!e.ok) throw new Error(`enable ${i} refused: ${JSON.stringify(e)}`);
            }
          }
        } finally {
          s.removeAllListeners();
          s.disconnect();
        }
      };
      const worker = async (): Promise<void> => {
        while (started < TOTAL) await cycle(started++);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      expect(started).to.equal(TOTAL);
      await eventually(() => {
        const st = server.stats();
        return st.rooms === 0 && st.participants === 0 && st.connections === 0;
      }, 10_000, 'the server to forget every flood client');

      // Still works.
      const a = await participant(server.url, 'after-flood', 'alice');
      const b = await participant(server.url, 'after-flood', 'bob');
      const got = next(b.s, 'signal');
      expect((await ack(a.s, 'signal', { to: b.info.id, cid: 'z', data: offer() })).ok).to.equal(true);
      expect(await got).to.deep.equal({ from: a.info.id, cid: 'z', data: offer() });
    });
  });
});

describe('signaling server close()', () => {
  after(() => closeClients());

  it('disconnects connected clients, stops listening, and can be called twice', async () => {
    const server = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: false });
    const a = await participant(server.url, 'room', 'alice');
    const dropped = next(a.s, 'disconnect');
    const first = server.close();
    expect(server.close()).to.equal(first);
    await first;
    await dropped;
    const refused = await httpGet(server.port, '/healthz').then(() => false, () => true);
    expect(refused, 'the port should no longer answer').to.equal(true);
  });
});

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

describe('signaling server over HTTP', function () {
  this.timeout(10_000);
  let plain: SignalingServer | undefined;
  let withStatic: SignalingServer | undefined;
  let dir: string;
  const INDEX = '<!doctype html><title>roommesh test</title>\n';

  before(async () => {
    // parent/www is served; parent/secret.txt and parent/www2/secret.txt sit next to it.
    dir = mkdtempSync(joinPath(tmpdir(), 'roommesh-static-'));
    mkdirSync(joinPath(dir, 'www', 'sub'), { recursive: true });
    mkdirSync(joinPath(dir, 'www2'));
    writeFileSync(joinPath(dir, 'www', 'index.html'), INDEX);
    writeFileSync(joinPath(dir, 'www', 'sub', 'app.js'), 'export {};\n');
    writeFileSync(joinPath(dir, 'secret.txt'), 'SECRET\n');
    writeFileSync(joinPath(dir, 'www2', 'secret.txt'), 'SECRET2\n');
    plain = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: false });
    withStatic = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: joinPath(dir, 'www') });
  });
  after(async () => {
    await plain?.close();
    await withStatic?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /healthz returns 200 "ok"', async () => {
    for (const s of [plain!, withStatic!]) {
      const r = await httpGet(s.port, '/healthz');
      expect(r.status).to.equal(200);
      expect(r.body.trim()).to.equal('ok');
    }
  });

  it('with staticDir false, / is 404', async () => {
    expect((await httpGet(plain!.port, '/')).status).to.equal(404);
    expect((await httpGet(plain!.port, '/index.html')).status).to.equal(404);
  });

  it('with a staticDir, GET / serves its index.html', async () => {
    const r = await httpGet(withStatic!.port, '/');
    expect(r.status).to.equal(200);
    expect(r.body).to.equal(INDEX);
    expect(r.headers['content-type']).to.match(/^text\/html/);
    const js = await httpGet(withStatic!.port, '/sub/app.js');
    expect(js.status).to.equal(200);
    expect(js.headers['content-type']).to.match(/^text\/javascript/);
    expect((await httpGet(withStatic!.port, '/missing.html')).status).to.equal(404);
    expect((await httpGet(withStatic!.port, '/', 'POST')).status).to.equal(405);
  });

  it('does not serve files outside staticDir, however the path is written', async () => {
    const paths = [
      '/../../etc/passwd',
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/sub/..%2f..%2fsecret.txt',
      '/..%2fwww2%2fsecret.txt', // a sibling whose name starts with the root's
      '/..%5csecret.txt',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '//etc/passwd',
      '/index.html%00.txt',
      '/%E0%A4%A', // undecodable
    ];
    for (const p of paths) {
      const r = await httpGet(withStatic!.port, p);
      expect(r.status, p).to.be.oneOf([400, 404]);
      expect(r.body, p).to.not.match(/SECRET|root:/);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

describe('roommesh-signal command line', function () {
  this.timeout(15_000);
  const cli = fileURLToPath(new URL('../../signaling/cli.js', import.meta.url));
  const children: ChildProcess[] = [];

  /** Runs the CLI; resolves with its exit code, signal and output once it has exited. */
  function run(args: string[], onStart?: (child: ChildProcess) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ROOMMESH_') || k === 'ROOMMESH_IN_NETNS')),
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    onStart?.(child);
    return done;
  }

  after(() => {
    // Only if a test failed half-way: stop the children this suite started.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('--help prints the options and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).to.equal(0);
    for (const opt of ['--host', '--port', '--max-payload-bytes', '--log-level', '--no-static', '--help']) expect(r.stdout).to.include(opt);
    expect(r.stderr).to.equal('');
  });

  it('--port abc exits 2 with a message on stderr', async () => {
    const r = await run(['--port', 'abc']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/port/);
    expect(r.stderr).to.include('abc');
    expect(r.stdout).to.equal('');
  });

  it('an unknown option or bad log level exits 2 with a message on stderr', async () => {
    const unknown = await run(['--bogus']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('bogus');
    const level = await run(['--log-level', 'loud']);
    expect(level.code).to.equal(2);
    expect(level.stderr).to.match(/log-level/);
    const range = await run(['--port', '70000']);
    expect(range.code).to.equal(2);
  });

  it('starts, answers /healthz, and exits 0 on SIGTERM', async () => {
    // Pick a free port ourselves, since with --port 0 we could not tell which one it took (logs are silent).
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createNetServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    let child!: ChildProcess;
    let exited = false;
    const done = run(['--port', String(port), '--host', '127.0.0.1', '--log-level', 'silent', '--no-static', '--drain-delay-ms', '0'], (c) => (child = c));
    void done.then(() => (exited = true));

    // Poll /healthz until it answers (connection refused until the server listens).
    const until = Date.now() + 10_000;
    let status = 0;
    while (status !== 200) {
      if (exited) throw new Error(`CLI exited early: ${JSON.stringify(await done)}`);
      if (Date.now() > until) throw new Error('CLI did not answer /healthz within 10 s');
      status = await httpGet(port, '/healthz').then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }

    // A client connected at shutdown must not keep the process alive.
    const s = await connect(`http://127.0.0.1:${port}`);
    await join(s, 'r', 'n');
    const dropped = next(s, 'disconnect', 5000);

    child.kill('SIGTERM');
    const r = await done;
    expect(r.signal).to.equal(null);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal(''); // silent
    await dropped;
    closeClients();
  });
});
