/**
 * The signaling server's `join`, with raw socket.io clients: ids the server assigns, one room per
 * connection, the protocol version, and malformed joins refused with a reason.
 */
import { expect } from 'chai';
import { MAX_NAME_LENGTH, SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness } from '../support/harness.js';
import { ack, connect, expectRefused, join, offer, participant, rawClientSuite } from '../support/raw-client.js';

describe('signaling server (raw socket.io clients)', function () {
  this.timeout(20_000);
  const h = new Harness();
  let server: SignalingServer;

  rawClientSuite(h, (s) => (server = s));

  describe('join', () => {
    it('assigns a server id and replies { ok, data: { self: { id, name, joinedAtMs } } }', async () => {
      const s = await connect(server.url);
      const before = Date.now();
      const r = await ack(s, 'join', { v: SIGNALING_VERSION, room: 'r1', name: 'alice' });
      expect(r.ok).to.equal(true);
      // No iceServers configured: none sent; the relay terms, relaying being on by default; the queue limit
      // the client keeps its events in flight below.
      expect(Object.keys(r.data)).to.deep.equal(['self', 'resumeToken', 'relay', 'maxPendingEvents']);
      expect(r.data.maxPendingEvents).to.equal(64);
      expect(r.data.resumeToken).to.be.a('string').that.is.not.empty;
      expect(Object.keys(r.data.self).sort()).to.deep.equal(['id', 'joinedAtMs', 'name']);
      expect(r.data.self.id).to.be.a('string').that.is.not.empty;
      expect(r.data.self.name).to.equal('alice');
      expect(r.data.self.joinedAtMs)
        .to.be.a('number')
        .within(before - 1, Date.now() + 1);
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
        [{ v, room: 'r1', name: '\u{1F600}'.repeat(MAX_NAME_LENGTH / 2 + 1) }], // 65 emoji: 130 UTF-16 units
        [{ v, room: 'r\uD800', name: 'alice' }], // an unpaired surrogate: not one room with 'r\uD801' in Redis
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
      // Exactly 128 UTF-16 code units is allowed, and the connection can still join after all that.
      const self = await join(s, 'r1', 'y'.repeat(MAX_NAME_LENGTH));
      expect(self.name).to.have.length(MAX_NAME_LENGTH);
      // Counted in UTF-16 code units: 64 emoji (128 units) are a name.
      const emoji = await join(await connect(server.url), 'r1', '\u{1F600}'.repeat(MAX_NAME_LENGTH / 2));
      expect(emoji.name).to.equal('\u{1F600}'.repeat(MAX_NAME_LENGTH / 2));
    });

    it('refuses every other event before join with NotJoined', async () => {
      const s = await connect(server.url);
      expectRefused(await ack(s, 'enable_messaging'), 'NotJoined');
      expectRefused(await ack(s, 'disable_messaging'), 'NotJoined');
      expectRefused(await ack(s, 'signal', { to: 'someone', cid: 'c1', data: offer() }), 'NotJoined');
      expect(server.stats().participants).to.equal(0);
    });
  });
});
