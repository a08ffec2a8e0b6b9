/**
 * Enabling and disabling messaging on the signaling server, with raw socket.io clients: who hears of
 * whom, and when a participant that leaves is announced.
 */
import { expect } from 'chai';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness, eventually } from '../support/harness.js';
import { ack, expectRefused, next, offer, participant, quiet, record, rawClientSuite } from '../support/raw-client.js';

describe('signaling server (raw socket.io clients)', function () {
  this.timeout(20_000);
  const h = new Harness();
  let server: SignalingServer;

  rawClientSuite(h, (s) => (server = s));

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
});
