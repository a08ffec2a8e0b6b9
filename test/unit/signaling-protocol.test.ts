import { expect } from 'chai';
import fc from 'fast-check';
import {
  MAX_CANDIDATE_LENGTH,
  MAX_CID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_RELAY_KEY_LENGTH,
  MAX_SDP_LENGTH,
} from '../../lib/protocol/signaling.js';
import {
  checkIncomingSignal,
  checkJoinRequest,
  checkOutgoingSignal,
  checkParticipantInfo,
  checkResumeRequest,
} from '../../lib/protocol/signaling-checks.js';
import type { Checked } from '../../lib/protocol/signaling-guards.js';
import {
  checkIncomingRelay,
  checkOutgoingRelay,
  checkRelayRefusal,
  checkRelayTerms,
} from '../../lib/protocol/signaling-relay-checks.js';

function okValue<T>(r: Checked<T>): T {
  if (!r.ok) expect.fail(`refused: ${r.message}`);
  return r.value;
}

function refusal<T>(r: Checked<T>, what: string): string {
  if (r.ok) expect.fail(`${what}: accepted ${JSON.stringify(r.value)}`);
  expect(r.message, what).to.be.a('string').that.is.not.empty;
  return r.message;
}

const NOT_OBJECTS: unknown[] = [null, undefined, [], ['x'], 'x', 0, true];
const name = (n: number): string => 'n'.repeat(n);
const OFFER = { type: 'offer', sdp: 'v=0\r\n' } as const;
const CANDIDATE = {
  type: 'candidate',
  candidate: { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 },
} as const;

describe('protocol/signaling validators', () => {
  describe('checkJoinRequest', () => {
    it('accepts a join request and returns only its known fields', () => {
      expect(okValue(checkJoinRequest({ v: 1, room: 'lobby', name: 'ann' }))).to.deep.equal({
        v: 1,
        room: 'lobby',
        name: 'ann',
      });
      expect(okValue(checkJoinRequest({ v: 1, room: 'lobby', name: 'ann', token: 'jwt' }))).to.deep.equal({
        v: 1,
        room: 'lobby',
        name: 'ann',
        token: 'jwt',
      });
      const value = okValue(
        checkJoinRequest({ v: 2, room: 'r', name: 'n', id: 'chosen-id', admin: true, joinedAtMs: 0 }),
      );
      expect(value).to.deep.equal({ v: 2, room: 'r', name: 'n' });
    });

    it('accepts names of exactly MAX_NAME_LENGTH and a token of 8192 characters', () => {
      expect(
        okValue(
          checkJoinRequest({ v: 1, room: name(MAX_NAME_LENGTH), name: name(MAX_NAME_LENGTH), token: 't'.repeat(8192) }),
        ).token,
      ).to.have.length(8192);
    });

    it('refuses anything that is not an object', () => {
      for (const v of NOT_OBJECTS) expect(refusal(checkJoinRequest(v), String(v))).to.equal('join: expected an object');
    });

    it('refuses a missing or non-number version', () => {
      for (const v of [undefined, '1', null, [1], { v: 1 }]) {
        expect(refusal(checkJoinRequest({ v, room: 'r', name: 'n' }), String(v))).to.include('v (protocol version)');
      }
    });

    it('counts UTF-16 code units, as every client and fleet process does: 64 emoji are a name, 65 are not', () => {
      const emoji = (n: number): string => '\u{1F600}'.repeat(n); // two UTF-16 units each
      const half = MAX_NAME_LENGTH / 2;
      expect(okValue(checkJoinRequest({ v: 1, room: emoji(half), name: emoji(half) })).name).to.equal(emoji(half));
      expect(refusal(checkJoinRequest({ v: 1, room: 'r', name: emoji(half + 1) }), 'emoji')).to.match(
        /^join: name must be a non-empty string of at most 128 UTF-16 code units, well-formed Unicode/,
      );
    });

    it('refuses rooms and names that are missing, blank, too long, not well-formed or not strings', () => {
      // An unpaired surrogate: as UTF-8 (a Redis key, CBOR) it becomes U+FFFD, and two rooms would be one.
      const unpaired = ['r\uD800', '\uDC00', 'a\uDBFFb'];
      for (const bad of [
        undefined,
        null,
        '',
        '   ',
        '\t\n',
        name(MAX_NAME_LENGTH + 1),
        1,
        ['r'],
        { r: 1 },
        ...unpaired,
      ]) {
        expect(refusal(checkJoinRequest({ v: 1, room: bad, name: 'n' }), `room ${String(bad)}`)).to.match(
          /^join: room must be/,
        );
        expect(refusal(checkJoinRequest({ v: 1, room: 'r', name: bad }), `name ${String(bad)}`)).to.match(
          /^join: name must be/,
        );
      }
    });

    it('refuses a token that is not a string of at most 8192 characters', () => {
      for (const token of [null, 1, ['t'], {}, 't'.repeat(8193)]) {
        expect(refusal(checkJoinRequest({ v: 1, room: 'r', name: 'n', token }), String(token))).to.match(
          /^join: token/,
        );
      }
    });
  });

  describe('checkOutgoingSignal', () => {
    it('accepts offers, answers and candidates, returning only known fields (no client-chosen from)', () => {
      const offer = okValue(
        checkOutgoingSignal({ to: 'p1', cid: 'c1', data: { ...OFFER, extra: 1 }, from: 'spoofed', room: 'x' }),
      );
      expect(offer).to.deep.equal({ to: 'p1', cid: 'c1', data: OFFER });
      expect(offer).to.not.have.property('from');

      const answer = okValue(
        checkOutgoingSignal({ to: 'p1', cid: 'c1', data: { type: 'answer', sdp: 'a', candidate: {} } }),
      );
      expect(answer).to.deep.equal({ to: 'p1', cid: 'c1', data: { type: 'answer', sdp: 'a' } });

      const candidate = okValue(
        checkOutgoingSignal({
          to: 'p1',
          cid: 'c1',
          data: { ...CANDIDATE, sdp: 'x', candidate: { ...CANDIDATE.candidate, usernameFragment: 'uf', foo: 'bar' } },
        }),
      );
      expect(candidate).to.deep.equal({
        to: 'p1',
        cid: 'c1',
        data: { type: 'candidate', candidate: { ...CANDIDATE.candidate, usernameFragment: 'uf' } },
      });
    });

    it('accepts the boundaries: MAX_CID_LENGTH, MAX_SDP_LENGTH, MAX_CANDIDATE_LENGTH, an empty end-of-candidates line', () => {
      expect(
        okValue(
          checkOutgoingSignal({
            to: name(MAX_NAME_LENGTH),
            cid: 'c'.repeat(MAX_CID_LENGTH),
            data: { type: 'offer', sdp: 's'.repeat(MAX_SDP_LENGTH) },
          }),
        ).cid,
      ).to.have.length(MAX_CID_LENGTH);
      const long = okValue(
        checkOutgoingSignal({
          to: 'p',
          cid: 'c',
          data: { type: 'candidate', candidate: { candidate: 'c'.repeat(MAX_CANDIDATE_LENGTH) } },
        }),
      );
      expect(long.data).to.deep.equal({
        type: 'candidate',
        candidate: { candidate: 'c'.repeat(MAX_CANDIDATE_LENGTH) },
      });
      const end = okValue(
        checkOutgoingSignal({ to: 'p', cid: 'c', data: { type: 'candidate', candidate: { candidate: '' } } }),
      );
      expect(end.data).to.deep.equal({ type: 'candidate', candidate: { candidate: '' } });
    });

    it('drops optional candidate fields that are null or out of range instead of relaying them', () => {
      const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
        [{ sdpMid: null, sdpMLineIndex: null, usernameFragment: null }, {}],
        [{ sdpMid: 0, sdpMLineIndex: '0', usernameFragment: 5 }, {}],
        [{ sdpMid: name(MAX_NAME_LENGTH + 1), sdpMLineIndex: -1, usernameFragment: 'u'.repeat(257) }, {}],
        [{ sdpMLineIndex: 1.5 }, {}],
        [{ sdpMLineIndex: 1024 }, {}],
        [{ sdpMLineIndex: NaN }, {}],
        [
          { sdpMid: '', sdpMLineIndex: 1023, usernameFragment: 'u'.repeat(256) },
          { sdpMid: '', sdpMLineIndex: 1023, usernameFragment: 'u'.repeat(256) },
        ],
      ];
      for (const [fields, kept] of cases) {
        const r = okValue(
          checkOutgoingSignal({
            to: 'p',
            cid: 'c',
            data: { type: 'candidate', candidate: { candidate: 'x', ...fields } },
          }),
        );
        expect(r.data, JSON.stringify(fields)).to.deep.equal({
          type: 'candidate',
          candidate: { candidate: 'x', ...kept },
        });
      }
    });

    it('refuses anything that is not an object', () => {
      for (const v of NOT_OBJECTS)
        expect(refusal(checkOutgoingSignal(v), String(v))).to.equal('signal: expected an object');
    });

    it('refuses a bad to or cid', () => {
      for (const to of [undefined, null, '', ' ', name(MAX_NAME_LENGTH + 1), 1, ['p']]) {
        expect(refusal(checkOutgoingSignal({ to, cid: 'c', data: OFFER }), `to ${String(to)}`)).to.equal(
          'signal: to must be a participant id',
        );
      }
      for (const cid of [undefined, null, '', 'c'.repeat(MAX_CID_LENGTH + 1), 1, ['c']]) {
        expect(refusal(checkOutgoingSignal({ to: 'p', cid, data: OFFER }), `cid ${String(cid)}`)).to.match(
          /^signal: cid must be/,
        );
      }
    });

    it('refuses data that is not a valid offer, answer or candidate', () => {
      const cases: Array<[unknown, RegExp]> = [
        [undefined, /data must be an object/],
        [null, /data must be an object/],
        [[OFFER], /data must be an object/],
        ['offer', /data must be an object/],
        [{}, /data\.type must be/],
        [{ type: 'pranswer', sdp: 'x' }, /data\.type must be/],
        [{ type: 'rollback' }, /data\.type must be/],
        [{ type: 'OFFER', sdp: 'x' }, /data\.type must be/],
        [{ type: 'offer' }, /sdp must be/],
        [{ type: 'offer', sdp: '' }, /sdp must be/],
        [{ type: 'answer', sdp: 's'.repeat(MAX_SDP_LENGTH + 1) }, /sdp must be/],
        [{ type: 'answer', sdp: 1 }, /sdp must be/],
        [{ type: 'answer', sdp: ['v=0'] }, /sdp must be/],
        [{ type: 'candidate' }, /candidate must be/],
        [{ type: 'candidate', candidate: 'candidate:1' }, /candidate must be/],
        [{ type: 'candidate', candidate: null }, /candidate must be/],
        [{ type: 'candidate', candidate: [] }, /candidate must be/],
        [{ type: 'candidate', candidate: {} }, /candidate must be/],
        [{ type: 'candidate', candidate: { candidate: 1 } }, /candidate must be/],
        [{ type: 'candidate', candidate: { candidate: 'c'.repeat(MAX_CANDIDATE_LENGTH + 1) } }, /candidate must be/],
      ];
      for (const [data, message] of cases) {
        expect(refusal(checkOutgoingSignal({ to: 'p', cid: 'c', data }), JSON.stringify(data) ?? 'undefined')).to.match(
          message,
        );
      }
    });
  });

  describe('checkIncomingSignal', () => {
    it('accepts a relayed signal and returns from, cid and data only', () => {
      const r = okValue(checkIncomingSignal({ from: 'p2', cid: 'c9', data: { ...OFFER, x: 1 }, to: 'me' }));
      expect(r).to.deep.equal({ from: 'p2', cid: 'c9', data: OFFER });
      expect(r).to.not.have.property('to');
      expect(okValue(checkIncomingSignal({ from: 'p2', cid: 'c9', data: CANDIDATE }))).to.deep.equal({
        from: 'p2',
        cid: 'c9',
        data: CANDIDATE,
      });
    });

    it('refuses a missing or bad from', () => {
      for (const v of [
        ...NOT_OBJECTS,
        { cid: 'c', data: OFFER },
        { from: '', cid: 'c', data: OFFER },
        { from: 7, cid: 'c', data: OFFER },
        { from: name(MAX_NAME_LENGTH + 1), cid: 'c', data: OFFER },
      ]) {
        expect(refusal(checkIncomingSignal(v), JSON.stringify(v) ?? 'undefined')).to.equal(
          'signal: from must be a participant id',
        );
      }
    });

    it('refuses a bad cid or data', () => {
      expect(refusal(checkIncomingSignal({ from: 'p', cid: '', data: OFFER }), 'cid')).to.match(/cid must be/);
      expect(refusal(checkIncomingSignal({ from: 'p', data: OFFER }), 'no cid')).to.match(/cid must be/);
      expect(refusal(checkIncomingSignal({ from: 'p', cid: 'c', data: { type: 'offer', sdp: '' } }), 'sdp')).to.match(
        /sdp must be/,
      );
      expect(refusal(checkIncomingSignal({ from: 'p', cid: 'c' }), 'no data')).to.match(/data must be an object/);
    });
  });

  describe('checkParticipantInfo', () => {
    it('accepts a participant and returns only id, name and joinedAtMs', () => {
      expect(
        okValue(
          checkParticipantInfo({
            id: 'p1',
            name: 'ann',
            joinedAtMs: 1700000000000,
            attributes: { a: 1 },
            token: 'secret',
          }),
        ),
      ).to.deep.equal({
        id: 'p1',
        name: 'ann',
        joinedAtMs: 1700000000000,
      });
      expect(
        okValue(checkParticipantInfo({ id: name(MAX_NAME_LENGTH), name: name(MAX_NAME_LENGTH), joinedAtMs: 0 })).id,
      ).to.have.length(MAX_NAME_LENGTH);
    });

    it('refuses anything else', () => {
      const bad: unknown[] = [
        ...NOT_OBJECTS,
        {},
        { name: 'a', joinedAtMs: 0 },
        { id: 'p', joinedAtMs: 0 },
        { id: 'p', name: 'a' },
        { id: 'p', name: 'a', joinedAtMs: '0' },
        { id: 'p', name: 'a', joinedAtMs: null },
        { id: '', name: 'a', joinedAtMs: 0 },
        { id: 'p', name: ' ', joinedAtMs: 0 },
        { id: 'p', name: name(MAX_NAME_LENGTH + 1), joinedAtMs: 0 },
        { id: 1, name: 'a', joinedAtMs: 0 },
      ];
      for (const v of bad)
        expect(refusal(checkParticipantInfo(v), JSON.stringify(v) ?? 'undefined')).to.equal(
          'participant: expected { id, name, joinedAtMs }',
        );
    });
  });

  describe('fuzz', () => {
    const anything = fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withSet: true,
      withTypedArray: true,
    });
    // Mostly-plausible shapes reach the inner checks far more often than fc.anything alone.
    const nameish = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.constant(' '),
      fc.constant(name(MAX_NAME_LENGTH + 1)),
      anything,
    );
    const candidate = fc.record(
      {
        candidate: fc.oneof(fc.string(), anything),
        sdpMid: fc.oneof(fc.string(), anything),
        sdpMLineIndex: fc.oneof(fc.integer({ min: -2, max: 1025 }), fc.double(), anything),
        usernameFragment: fc.oneof(fc.string(), anything),
      },
      { requiredKeys: [] },
    );
    const data = fc.oneof(
      fc.record(
        {
          type: fc.constantFrom('offer', 'answer', 'candidate', 'pranswer'),
          sdp: fc.oneof(fc.string(), anything),
          candidate: fc.oneof(candidate, anything),
          extra: anything,
        },
        { requiredKeys: [] },
      ),
      anything,
    );
    const signal = fc.oneof(
      fc.record({ to: nameish, from: nameish, cid: nameish, data, extra: anything }, { requiredKeys: [] }),
      anything,
    );
    const join = fc.oneof(
      fc.record(
        {
          v: fc.oneof(fc.integer(), anything),
          room: nameish,
          name: nameish,
          token: fc.oneof(fc.string(), anything),
          extra: anything,
        },
        { requiredKeys: [] },
      ),
      anything,
    );
    const participant = fc.oneof(
      fc.record(
        { id: nameish, name: nameish, joinedAtMs: fc.oneof(fc.integer(), anything), extra: anything },
        { requiredKeys: [] },
      ),
      anything,
    );

    const allowedKeys = (value: object, keys: string[]): void => {
      expect(keys).to.include.members(Object.keys(value));
    };

    /** A validator's result is a refusal with a message, or a value that validates again to itself. */
    function expectStable<T extends object>(check: (v: unknown) => Checked<T>, v: unknown, keys: string[]): void {
      const r = check(v);
      if (!r.ok)
        return void expect(r.message)
          .to.be.a('string')
          .and.match(/^(join|signal|participant): /);
      allowedKeys(r.value, keys);
      expect(check(r.value)).to.deep.equal(r);
    }

    function expectStableData(d: { type: string; candidate?: object }): void {
      if (d.type === 'candidate') {
        allowedKeys(d, ['type', 'candidate']);
        allowedKeys(d.candidate ?? {}, ['candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment']);
      } else allowedKeys(d, ['type', 'sdp']);
    }

    it('checkJoinRequest never throws and returns only known fields', () => {
      fc.assert(
        fc.property(join, (v) => expectStable(checkJoinRequest, v, ['v', 'room', 'name', 'token'])),
        { numRuns: 1500 },
      );
    });

    it('checkOutgoingSignal never throws and returns only known fields', () => {
      fc.assert(
        fc.property(signal, (v) => {
          expectStable(checkOutgoingSignal, v, ['to', 'cid', 'data']);
          const r = checkOutgoingSignal(v);
          if (r.ok) expectStableData(r.value.data);
        }),
        { numRuns: 1500 },
      );
    });

    it('checkIncomingSignal never throws and returns only known fields', () => {
      fc.assert(
        fc.property(signal, (v) => {
          expectStable(checkIncomingSignal, v, ['from', 'cid', 'data']);
          const r = checkIncomingSignal(v);
          if (r.ok) expectStableData(r.value.data);
        }),
        { numRuns: 1500 },
      );
    });

    it('checkParticipantInfo never throws and returns only known fields', () => {
      fc.assert(
        fc.property(participant, (v) => expectStable(checkParticipantInfo, v, ['id', 'name', 'joinedAtMs'])),
        { numRuns: 1500 },
      );
    });
  });
  describe('relay checks', () => {
    const key = 'A'.repeat(87);
    it('join, resume and participant descriptions carry a base64url relayKey of bounded length, or refuse', () => {
      expect(okValue(checkJoinRequest({ v: 1, room: 'r', name: 'n', relayKey: key })).relayKey).to.equal(key);
      for (const bad of ['', 'a+b', 'a/b', 'a=', 'x'.repeat(MAX_RELAY_KEY_LENGTH + 1), 5, {}]) {
        expect(checkJoinRequest({ v: 1, room: 'r', name: 'n', relayKey: bad }).ok, String(bad)).to.equal(false);
        expect(checkResumeRequest({ v: 1, token: 't', messagingEnabled: true, relayKey: bad }).ok).to.equal(false);
        expect(checkParticipantInfo({ id: 'p', name: 'n', joinedAtMs: 1, relayKey: bad }).ok).to.equal(false);
      }
      expect(
        okValue(checkResumeRequest({ v: 1, token: 't', messagingEnabled: true, relayKey: key })).relayKey,
      ).to.equal(key);
      expect(okValue(checkParticipantInfo({ id: 'p', name: 'n', joinedAtMs: 1, relayKey: key }))).to.deep.equal({
        id: 'p',
        name: 'n',
        joinedAtMs: 1,
        relayKey: key,
      });
      expect(okValue(checkJoinRequest({ v: 1, room: 'r', name: 'n' }))).to.not.have.property('relayKey');
    });

    it('a relay from a client: bytes, non-empty, at most the frame limit, and only to and data kept', () => {
      expect(okValue(checkOutgoingRelay({ to: 'p', data: new Uint8Array(10), from: 'x' }, 10))).to.deep.equal({
        to: 'p',
        data: new Uint8Array(10),
      });
      for (const bad of [
        { to: 'p', data: new Uint8Array(11) },
        { to: 'p', data: new Uint8Array(0) },
        { to: 'p', data: 'bytes' },
        { to: 'p', data: [1, 2] },
        { to: '', data: new Uint8Array(1) },
        { data: new Uint8Array(1) },
        ...NOT_OBJECTS,
      ]) {
        expect(checkOutgoingRelay(bad, 10).ok, JSON.stringify(bad)).to.equal(false);
      }
    });

    it('a relay from the server: an ArrayBuffer (browsers) or bytes, from a participant id', () => {
      const v = okValue(checkIncomingRelay({ from: 'p', data: new Uint8Array([1, 2]).buffer }));
      expect([...v.data]).to.deep.equal([1, 2]);
      expect(checkIncomingRelay({ from: 'p', data: 'x' }).ok).to.equal(false);
      expect(checkIncomingRelay({ data: new Uint8Array(1) }).ok).to.equal(false);
      expect(checkIncomingRelay({ from: 'p', data: new Uint8Array(256 * 1024 + 1) }).ok).to.equal(false);
      expect(okValue(checkRelayRefusal({ to: 'p', reason: 'RelayRateLimited', message: 'm' })).reason).to.equal(
        'RelayRateLimited',
      );
      expect(checkRelayRefusal({ to: 'p' }).ok).to.equal(false);
      expect(okValue(checkRelayTerms({ maxFrameBytes: 32768, bytesPerSecond: 0, burstBytes: 1 }))).to.deep.equal({
        maxFrameBytes: 32768,
        bytesPerSecond: 0,
        burstBytes: 1,
      });
      expect(checkRelayTerms({ maxFrameBytes: 10, bytesPerSecond: 0, burstBytes: 1 }).ok).to.equal(false);
      // Below MIN_RELAY_FRAME_BYTES a relayed link could not be built (it threw, 1024 to 1064 bytes): refused.
      expect(checkRelayTerms({ maxFrameBytes: 2047, bytesPerSecond: 0, burstBytes: 1 }).ok).to.equal(false);
      expect(checkRelayTerms({ maxFrameBytes: 2048, bytesPerSecond: 0, burstBytes: 1 }).ok).to.equal(true);
      expect(checkRelayTerms({ maxFrameBytes: 1.5e3, bytesPerSecond: -1, burstBytes: 1 }).ok).to.equal(false);
      // A frame's cost beyond its data: optional (older servers), a whole number of bytes up to a frame's.
      const terms = { maxFrameBytes: 4096, bytesPerSecond: 1, burstBytes: 1 };
      expect(okValue(checkRelayTerms({ ...terms, frameCostBytes: 512 })).frameCostBytes).to.equal(512);
      for (const frameCostBytes of [-1, 0.5, 'x', 256 * 1024 + 1])
        expect(checkRelayTerms({ ...terms, frameCostBytes }).ok, String(frameCostBytes)).to.equal(false);
    });
  });
});
