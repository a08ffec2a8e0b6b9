/**
 * Relaying signals on the signaling server, with raw socket.io clients: the sender stamped by the
 * server, unknown fields stripped, and every signal it must not relay refused with a reason.
 */
import { expect } from 'chai';
import { MAX_SDP_LENGTH } from '../../lib/protocol/signaling.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness } from '../support/harness.js';
import { ack, expectRefused, next, offer, participant, quiet, record, rawClientSuite } from '../support/raw-client.js';

describe('signaling server (raw socket.io clients)', function () {
  this.timeout(20_000);
  const h = new Harness();
  let server: SignalingServer;

  rawClientSuite(h, (s) => (server = s));

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
          candidate: {
            candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host',
            sdpMid: '0',
            sdpMLineIndex: 0,
            usernameFragment: 'uf',
            junk: 'x',
          },
        },
      });
      expect(await got3).to.deep.equal({
        from: a.info.id,
        cid: 'c1',
        data: {
          type: 'candidate',
          candidate: {
            candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host',
            sdpMid: '0',
            sdpMLineIndex: 0,
            usernameFragment: 'uf',
          },
        },
      });

      // Optional candidate fields of the wrong type are dropped, not relayed.
      const got4 = next(b.s, 'signal');
      await ack(a.s, 'signal', {
        to: b.info.id,
        cid: 'c2',
        data: { type: 'candidate', candidate: { candidate: '', sdpMid: 5, sdpMLineIndex: -1, usernameFragment: {} } },
      });
      expect(await got4).to.deep.equal({
        from: a.info.id,
        cid: 'c2',
        data: { type: 'candidate', candidate: { candidate: '' } },
      });
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
});
