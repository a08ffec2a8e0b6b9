import { expect } from 'chai';
import { Encoder, Tag } from 'cbor-x';
import fc from 'fast-check';
import type { Frame, FrameDecodeError, FrameErrorReason } from '../../lib/protocol/frames.js';
import {
  FRAME_VERSION,
  FrameKind,
  MAX_FRAME_BYTES,
  MAX_MOVED_ID_LENGTH,
  MOVED_PROOF_BYTES,
  MAX_SEQ,
  MAX_TYPE_LENGTH,
  MAX_CONCURRENT_TRANSFERS,
  decodeFrame,
  decodeFrames,
  encodeChunk,
  encodeMessageBody,
  encodeMessageFrame,
  encodeStartFrame,
  messageFrameBytes,
  startFrameBytes,
  encodeFrame,
  isFrameError,
} from '../../lib/protocol/frames.js';
import type { JsonObject } from '../../lib/protocol/json.js';
import { MAX_JSON_DEPTH, checkJsonObject } from '../../lib/protocol/json.js';

// The library's own encoder settings, so a crafted frame differs from a real one only where a test says so.
const cbor = new Encoder({ useRecords: false, structuredClone: false, tagUint8Array: false, pack: false });
const craft = (item: unknown): Uint8Array => cbor.encode(item);
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

const REASONS: FrameErrorReason[] = [
  'NotCbor',
  'NotAFrame',
  'UnsupportedVersion',
  'UnknownKind',
  'BadField',
  'TooLarge',
];

function decodeOk(data: ArrayBuffer | ArrayBufferView | string): Frame {
  const r = decodeFrame(data);
  if (isFrameError(r)) expect.fail(`refused: ${r.error}: ${r.detail}`);
  return r;
}

function decodeErr(data: ArrayBuffer | ArrayBufferView | string): FrameDecodeError {
  const r = decodeFrame(data);
  if (!isFrameError(r)) expect.fail(`accepted: ${JSON.stringify(r).slice(0, 200)}`);
  return r;
}

/** n nested objects: nest(1) is {}, nest(2) is { a: {} }. */
function nest(n: number): JsonObject {
  let v: JsonObject = {};
  for (let i = 1; i < n; i++) v = { a: v };
  return v;
}

/** Whether a cbor-x Tag occurs anywhere in `v`. */
function containsTag(v: unknown): boolean {
  if (v instanceof Tag) return true;
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return false;
  return (Array.isArray(v) ? v : Object.values(v)).some(containsTag);
}

/** The items, string code units and bytes a decoded value holds. */
function decodedSize(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (v instanceof Uint8Array) return v.byteLength;
  if (typeof v !== 'object' || v === null) return 1;
  if (Array.isArray(v)) return 1 + v.reduce((n: number, x) => n + decodedSize(x), 0);
  return 1 + Object.entries(v).reduce((n, [k, x]) => n + k.length + decodedSize(x), 0);
}

/** What decodeFrame returns must be a refusal with a known reason, or a frame whose every field is valid. */
function expectValidResult(r: Frame | FrameDecodeError): void {
  if (isFrameError(r)) {
    expect(REASONS).to.include(r.error);
    expect(r.detail).to.be.a('string');
    return;
  }
  switch (r.kind) {
    case FrameKind.Hello:
      expect(Object.keys(r).filter((k) => k !== 'session' && k !== 'peer' && k !== 'maxHeldBytes')).to.have.members([
        'kind',
        'attributes',
        'maxAttachmentBytes',
        'maxFrameBytes',
      ]);
      if (r.session !== undefined) expect(Number.isSafeInteger(r.session) && r.session >= 0).to.equal(true);
      if (r.peer !== undefined) expect(Number.isSafeInteger(r.peer) && r.peer >= 0).to.equal(true);
      if (r.maxHeldBytes !== undefined)
        expect(Number.isSafeInteger(r.maxHeldBytes) && r.maxHeldBytes >= 0).to.equal(true);
      expect(checkJsonObject(r.attributes)).to.equal(undefined);
      expect(Number.isSafeInteger(r.maxAttachmentBytes) && r.maxAttachmentBytes >= 0).to.equal(true);
      expect(Number.isSafeInteger(r.maxFrameBytes) && r.maxFrameBytes >= 16 * 1024).to.equal(true);
      return;
    case FrameKind.Attributes:
      expect(Object.keys(r)).to.have.members(['kind', 'attributes']);
      expect(checkJsonObject(r.attributes)).to.equal(undefined);
      return;
    case FrameKind.Message:
      expect(Object.keys(r)).to.have.members(
        r.attachment === undefined
          ? ['kind', 'seq', 'type', 'payload']
          : ['kind', 'seq', 'type', 'payload', 'attachment'],
      );
      expect(Number.isSafeInteger(r.seq) && r.seq >= 0).to.equal(true);
      expect(r.type).to.be.a('string');
      expect(r.type.length).to.be.within(1, MAX_TYPE_LENGTH);
      expect(checkJsonObject(r.payload)).to.equal(undefined);
      if (r.attachment !== undefined) expect(r.attachment).to.be.instanceOf(Uint8Array);
      return;
    case FrameKind.Ack:
      expect(Object.keys(r)).to.have.members(['kind', 'seq', 'incomplete']);
      expect(Number.isSafeInteger(r.seq) && r.seq >= 0).to.equal(true);
      expect(r.incomplete.length).to.be.at.most(MAX_CONCURRENT_TRANSFERS);
      expect(r.incomplete.every((s) => Number.isSafeInteger(s) && s >= 0 && s <= r.seq)).to.equal(true);
      return;
    case FrameKind.Start:
      expect(Object.keys(r)).to.have.members(['kind', 'seq', 'type', 'payload', 'totalBytes']);
      expect(r.type.length).to.be.within(1, MAX_TYPE_LENGTH);
      expect(checkJsonObject(r.payload)).to.equal(undefined);
      expect(Number.isSafeInteger(r.totalBytes) && r.totalBytes >= 0).to.equal(true);
      return;
    case FrameKind.Chunk:
      expect(Object.keys(r)).to.have.members(['kind', 'seq', 'offset', 'bytes']);
      expect(Number.isSafeInteger(r.offset) && r.offset >= 0).to.equal(true);
      expect(r.bytes).to.be.instanceOf(Uint8Array);
      return;
    case FrameKind.Cancel:
      expect(Object.keys(r)).to.have.members(['kind', 'seq']);
      return;
    case FrameKind.Refuse:
      expect(Object.keys(r)).to.have.members(['kind', 'seq', 'reason']);
      expect(r.reason).to.be.a('string');
      return;
    case FrameKind.Moved:
      expect(Object.keys(r)).to.have.members(r.proof === undefined ? ['kind', 'id'] : ['kind', 'id', 'proof']);
      if (r.proof !== undefined) expect(r.proof.byteLength).to.equal(MOVED_PROOF_BYTES);
      expect(r.id.trim().length > 0 && r.id.length <= MAX_MOVED_ID_LENGTH).to.equal(true);
      return;
    case FrameKind.Bye:
    case FrameKind.Ping:
      expect(Object.keys(r)).to.deep.equal(['kind']);
      return;
    default:
      expect.fail(`unexpected frame ${JSON.stringify(r)}`);
  }
}

// fc.jsonValue is "anything JSON.parse could return", which includes -0. CBOR encoders (cbor-x included)
// write -0 as the integer 0, exactly as JSON.stringify writes "0", so passing the generated value through
// JSON text keeps only what a JSON document can carry. Own "__proto__" keys survive that on purpose.
const jsonObjectArb = (stringUnit: 'grapheme-ascii' | 'grapheme' = 'grapheme-ascii'): fc.Arbitrary<JsonObject> =>
  fc
    .dictionary(fc.string({ unit: stringUnit }), fc.jsonValue({ maxDepth: 4, stringUnit }), {
      maxKeys: 6,
      noNullPrototype: true,
    })
    .map((o) => JSON.parse(JSON.stringify(o)) as JsonObject);

const seqArb = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const typeArb = fc.string({ minLength: 1, maxLength: MAX_TYPE_LENGTH });

const frameArb = (stringUnit: 'grapheme-ascii' | 'grapheme' = 'grapheme-ascii'): fc.Arbitrary<Frame> =>
  fc.oneof(
    fc
      .tuple(
        jsonObjectArb(stringUnit),
        fc.maxSafeNat(),
        fc.integer({ min: 16 * 1024, max: 2 ** 32 }),
        fc.option(fc.maxSafeNat(), { nil: undefined }),
        fc.option(fc.maxSafeNat(), { nil: undefined }),
        fc.option(fc.maxSafeNat(), { nil: undefined }),
      )
      .map(([attributes, maxAttachmentBytes, maxFrameBytes, session, peer, maxHeldBytes]): Frame => ({
        kind: FrameKind.Hello,
        attributes,
        maxAttachmentBytes,
        maxFrameBytes,
        ...(session === undefined ? {} : { session }),
        ...(peer === undefined ? {} : { peer }),
        ...(maxHeldBytes === undefined ? {} : { maxHeldBytes }),
      })),
    jsonObjectArb(stringUnit).map((attributes): Frame => ({ kind: FrameKind.Attributes, attributes })),
    fc
      .tuple(seqArb, typeArb, jsonObjectArb(stringUnit))
      .map(([seq, type, payload]): Frame => ({ kind: FrameKind.Message, seq, type, payload })),
    fc
      .tuple(seqArb, typeArb, jsonObjectArb(stringUnit), fc.uint8Array({ maxLength: 64 }))
      .map(([seq, type, payload, attachment]): Frame => ({ kind: FrameKind.Message, seq, type, payload, attachment })),
    seqArb.map((seq): Frame => ({ kind: FrameKind.Ack, seq, incomplete: [] })),
    fc
      .tuple(
        fc.integer({ min: 1000, max: MAX_SEQ }),
        fc.uniqueArray(fc.nat(1000), { minLength: 1, maxLength: MAX_CONCURRENT_TRANSFERS }),
      )
      .map(([seq, incomplete]): Frame => ({ kind: FrameKind.Ack, seq, incomplete })),
    fc.constant<Frame>({ kind: FrameKind.Bye }),
    fc.constant<Frame>({ kind: FrameKind.Ping }),
    fc
      .tuple(seqArb, typeArb, jsonObjectArb(stringUnit), fc.maxSafeNat())
      .map(([seq, type, payload, totalBytes]): Frame => ({ kind: FrameKind.Start, seq, type, payload, totalBytes })),
    fc
      .tuple(seqArb, fc.maxSafeNat(), fc.uint8Array({ maxLength: 64 }))
      .map(([seq, offset, bytes]): Frame => ({ kind: FrameKind.Chunk, seq, offset, bytes })),
    seqArb.map((seq): Frame => ({ kind: FrameKind.Cancel, seq })),
    fc
      .tuple(seqArb, fc.string({ maxLength: 64 }))
      .map(([seq, reason]): Frame => ({ kind: FrameKind.Refuse, seq, reason })),
    fc
      .tuple(
        fc.string({ minLength: 1, maxLength: MAX_MOVED_ID_LENGTH }).filter((id) => id.trim().length > 0),
        fc.option(fc.uint8Array({ minLength: MOVED_PROOF_BYTES, maxLength: MOVED_PROOF_BYTES }), { nil: undefined }),
      )
      .map(([id, proof]): Frame =>
        proof === undefined ? { kind: FrameKind.Moved, id } : { kind: FrameKind.Moved, id, proof },
      ),
  );

function jsonProblem(frame: Frame): string | undefined {
  if (frame.kind === FrameKind.Hello || frame.kind === FrameKind.Attributes) return checkJsonObject(frame.attributes);
  if (frame.kind === FrameKind.Message || frame.kind === FrameKind.Start) return checkJsonObject(frame.payload);
  return undefined;
}

const EXAMPLES: Array<[string, Frame]> = [
  [
    'hello',
    {
      kind: FrameKind.Hello,
      attributes: { role: 'host', seat: 3, tags: ['a', 'b'], muted: false, avatar: null },
      maxAttachmentBytes: 256 * 2 ** 20,
      maxFrameBytes: MAX_FRAME_BYTES,
    },
  ],
  [
    'hello with a session tag',
    { kind: FrameKind.Hello, attributes: {}, maxAttachmentBytes: 0, maxFrameBytes: 16 * 1024, session: 2 ** 48 - 1 },
  ],
  [
    'hello with what it holds of the receiver',
    {
      kind: FrameKind.Hello,
      attributes: {},
      maxAttachmentBytes: 256 * 2 ** 20,
      maxFrameBytes: MAX_FRAME_BYTES,
      session: 5,
      peer: 6,
      maxHeldBytes: 512 * 2 ** 20,
    },
  ],
  [
    'hello with no attributes',
    { kind: FrameKind.Hello, attributes: {}, maxAttachmentBytes: 0, maxFrameBytes: 16 * 1024 },
  ],
  [
    'message',
    {
      kind: FrameKind.Message,
      seq: 1,
      type: 'chat',
      payload: { text: 'hi', at: 1700000000000, nested: { x: [1, 2.5, -3] } },
    },
  ],
  [
    'message with attachment',
    {
      kind: FrameKind.Message,
      seq: 2,
      type: 'file',
      payload: { name: 'a.bin' },
      attachment: new Uint8Array([0, 1, 254, 255]),
    },
  ],
  [
    'message with a 0-byte attachment',
    { kind: FrameKind.Message, seq: 3, type: 'file', payload: {}, attachment: new Uint8Array(0) },
  ],
  [
    'message at MAX_SEQ',
    { kind: FrameKind.Message, seq: MAX_SEQ, type: 'x'.repeat(MAX_TYPE_LENGTH), payload: { s: 'é😀\u0000' } },
  ],
  ['ack', { kind: FrameKind.Ack, seq: 0, incomplete: [] }],
  ['ack at MAX_SEQ', { kind: FrameKind.Ack, seq: MAX_SEQ, incomplete: [] }],
  ['ack with incomplete messages', { kind: FrameKind.Ack, seq: 90, incomplete: [3, 90, 7, 12] }],
  ['start', { kind: FrameKind.Start, seq: 4, type: 'file', payload: { name: 'a.png' }, totalBytes: 10 * 2 ** 20 }],
  ['chunk', { kind: FrameKind.Chunk, seq: 4, offset: 65504, bytes: new Uint8Array([9, 8, 7]) }],
  ['chunk at MAX_SEQ', { kind: FrameKind.Chunk, seq: MAX_SEQ, offset: MAX_SEQ, bytes: new Uint8Array(0) }],
  ['cancel', { kind: FrameKind.Cancel, seq: 4 }],
  ['refuse', { kind: FrameKind.Refuse, seq: 4, reason: 'TooLarge' }],
  ['moved', { kind: FrameKind.Moved, id: '~0b9f6c1e-6f1c-4b39-9d1a-0c6a0e4d8f11' }],
  ['moved with proof', { kind: FrameKind.Moved, id: '~0b9f', proof: new Uint8Array(MOVED_PROOF_BYTES).fill(0xa5) }],
  ['attributes', { kind: FrameKind.Attributes, attributes: { status: 'away' } }],
  ['bye', { kind: FrameKind.Bye }],
  ['ping', { kind: FrameKind.Ping }],
];

describe('protocol/frames', () => {
  describe('round trip', () => {
    for (const [name, frame] of EXAMPLES) {
      it(`decodes an encoded ${name} frame to the same frame`, () => {
        const decoded = decodeOk(encodeFrame(frame));
        expect(decoded).to.deep.equal(frame);
        expect('attachment' in decoded).to.equal('attachment' in frame);
      });
    }

    it('keeps a 0-byte attachment present, distinct from no attachment', () => {
      const decoded = decodeOk(
        encodeFrame({ kind: FrameKind.Message, seq: 0, type: 't', payload: {}, attachment: new Uint8Array(0) }),
      );
      if (decoded.kind !== FrameKind.Message) expect.fail('not a message');
      expect(decoded.attachment).to.be.instanceOf(Uint8Array);
      expect(decoded.attachment?.byteLength).to.equal(0);
    });

    it('accepts an ArrayBuffer, a DataView, and a view at an offset into a larger buffer', () => {
      const bytes = encodeFrame({ kind: FrameKind.Ack, seq: 42, incomplete: [] });
      const padded = new Uint8Array(bytes.byteLength + 7).fill(0xff);
      padded.set(bytes, 3);
      const view = padded.subarray(3, 3 + bytes.byteLength);
      const arrayBuffer = view.slice().buffer;
      const ack = { kind: FrameKind.Ack, seq: 42, incomplete: [] };
      expect(decodeOk(arrayBuffer)).to.deep.equal(ack);
      expect(decodeOk(new DataView(padded.buffer, 3, bytes.byteLength))).to.deep.equal(ack);
      expect(decodeOk(view)).to.deep.equal(ack);
      expect(decodeOk(Buffer.from(view))).to.deep.equal(ack);
    });

    it('fuzz: every frame whose JSON passes checkJsonObject decodes to itself', () => {
      fc.assert(
        fc.property(frameArb(), (frame) => {
          const problem = jsonProblem(frame);
          // The only JSON.parse output checkJsonObject refuses is an own "__proto__" key (see json.test.ts).
          if (problem !== undefined) return void expect(problem).to.include('__proto__');
          expect(decodeFrame(encodeFrame(frame))).to.deep.equal(frame);
        }),
        { numRuns: 1000 },
      );
    });

    it('fuzz: non-ASCII strings (any grapheme) in type, keys and values survive the UTF-8 round trip', () => {
      fc.assert(
        fc.property(
          frameArb('grapheme'),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
          (frame, type) => {
            if (jsonProblem(frame) !== undefined) return;
            const f = frame.kind === FrameKind.Message ? { ...frame, type } : frame;
            expect(decodeFrame(encodeFrame(f))).to.deep.equal(f);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('fuzz: any double accepted as a payload value decodes to the same number', () => {
      fc.assert(
        fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
          const x = Object.is(n, -0) ? 0 : n; // -0 goes out as the integer 0, as in JSON text
          const decoded = decodeOk(
            encodeFrame({ kind: FrameKind.Message, seq: 0, type: 't', payload: { n: x, a: [x] } }),
          );
          expect(decoded).to.deep.equal({ kind: FrameKind.Message, seq: 0, type: 't', payload: { n: x, a: [x] } });
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('byte layout (pinned: peers depend on it)', () => {
    it('ping is the CBOR array [1, 5]', () => {
      expect(hex(encodeFrame({ kind: FrameKind.Ping }))).to.equal('820105');
      expect(decodeOk(fromHex('820105'))).to.deep.equal({ kind: FrameKind.Ping });
    });

    it('bye is the CBOR array [1, 4]', () => {
      expect(hex(encodeFrame({ kind: FrameKind.Bye }))).to.equal('820104');
    });

    it('ack is [1, 2, seq] with seq a CBOR unsigned integer', () => {
      expect(hex(encodeFrame({ kind: FrameKind.Ack, seq: 7, incomplete: [] }))).to.equal('83010207');
      expect(hex(encodeFrame({ kind: FrameKind.Ack, seq: 500, incomplete: [] }))).to.equal('8301021901f4');
      expect(decodeOk(fromHex('8301021a00010000'))).to.deep.equal({ kind: FrameKind.Ack, seq: 65536, incomplete: [] });
    });

    it('an ack with incomplete messages is [1, 2, seq, [seq, ...]]', () => {
      expect(hex(encodeFrame({ kind: FrameKind.Ack, seq: 9, incomplete: [3, 5] }))).to.equal('840102098203' + '05');
    });

    it('start is [1, 6, seq, type, payload, totalBytes]', () => {
      const bytes = encodeFrame({ kind: FrameKind.Start, seq: 2, type: 't', payload: {}, totalBytes: 100000 });
      expect(hex(bytes.subarray(0, 6))).to.equal('860106026174');
      expect(hex(bytes.subarray(bytes.byteLength - 5))).to.equal('1a000186a0');
      expect(decodeOk(fromHex('860106026174a01a000186a0'))).to.deep.equal({
        kind: FrameKind.Start,
        seq: 2,
        type: 't',
        payload: {},
        totalBytes: 100000,
      });
    });

    it('chunk is [1, 7, seq, offset, bytes], written by hand exactly as the CBOR encoder writes it', () => {
      expect(hex(encodeFrame({ kind: FrameKind.Chunk, seq: 2, offset: 3, bytes: new Uint8Array([0xaa]) }))).to.equal(
        '85010702' + '0341aa',
      );
      const source = new Uint8Array(70000).map((_, i) => i & 0xff);
      for (const seq of [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, MAX_SEQ]) {
        for (const [start, end] of [
          [0, 0],
          [0, 1],
          [5, 28],
          [0, 24],
          [100, 356],
          [0, 65535],
          [1, 65537],
          [0, 70000],
        ] as const) {
          const offset = seq === 0 ? start : seq;
          const mine = encodeChunk(seq, offset, source, start, end);
          const chunk = { kind: FrameKind.Chunk, seq, offset, bytes: source.slice(start, end) };
          // From 2^32 cbor-x writes float64, this encoder 64-bit integers; both decode to the same frame.
          if (seq < 2 ** 32)
            expect(hex(mine), `seq ${seq}, bytes ${start}..${end}`).to.equal(
              hex(cbor.encode([1, FrameKind.Chunk, seq, offset, chunk.bytes])),
            );
          else expect(hex(mine.subarray(0, 4))).to.equal('8501071b');
          expect(decodeOk(mine)).to.deep.equal(chunk);
          expect(decodeOk(cbor.encode([1, FrameKind.Chunk, seq, offset, chunk.bytes]))).to.deep.equal(chunk);
        }
      }
    });

    it('message and start frames are a body encoded once behind a per-frame head, byte for byte what cbor-x writes', () => {
      const payload = { text: 'hi', n: [1, 2.5, null, true], nested: { a: 'é' } };
      const body = encodeMessageBody('chat', payload);
      for (const seq of [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, MAX_SEQ]) {
        for (const attachment of [
          undefined,
          new Uint8Array(0),
          new Uint8Array(30).fill(7),
          new Uint8Array(300).fill(9),
        ]) {
          const frame = encodeMessageFrame(seq, body, attachment);
          expect(frame.byteLength, `seq ${seq}`).to.equal(messageFrameBytes(seq, body, attachment?.byteLength));
          const item =
            attachment === undefined ? [1, 1, seq, 'chat', payload] : [1, 1, seq, 'chat', payload, attachment];
          // From 2^32 cbor-x writes float64, this encoder 64-bit integers; both decode to the same frame.
          if (seq < 2 ** 32) expect(hex(frame), `seq ${seq}`).to.equal(hex(cbor.encode(item)));
          const whole = { kind: FrameKind.Message, seq, type: 'chat', payload };
          expect(decodeOk(frame)).to.deep.equal(attachment === undefined ? whole : { ...whole, attachment });
        }
        for (const totalBytes of [0, 70_000, 2 ** 32 + 5]) {
          const start = encodeStartFrame(seq, body, totalBytes);
          expect(start.byteLength).to.equal(startFrameBytes(seq, body, totalBytes));
          if (seq < 2 ** 32 && totalBytes < 2 ** 32)
            expect(hex(start)).to.equal(hex(cbor.encode([1, 6, seq, 'chat', payload, totalBytes])));
          expect(decodeOk(start)).to.deep.equal({ kind: FrameKind.Start, seq, type: 'chat', payload, totalBytes });
        }
      }
    });

    it('cancel is [1, 8, seq] and refuse is [1, 9, seq, reason]', () => {
      expect(hex(encodeFrame({ kind: FrameKind.Cancel, seq: 4 }))).to.equal('83010804');
      expect(hex(encodeFrame({ kind: FrameKind.Refuse, seq: 4, reason: 'Invalid' }))).to.equal(
        '84010904' + '67496e76616c6964',
      );
    });

    it('moved is [1, 10, id] or [1, 10, id, proof]; a bad id, or a proof not of 16 bytes, is refused', () => {
      expect(hex(encodeFrame({ kind: FrameKind.Moved, id: '~ab' }))).to.equal('83010a' + '637e6162');
      const proof = new Uint8Array(MOVED_PROOF_BYTES).fill(0xa5);
      expect(hex(encodeFrame({ kind: FrameKind.Moved, id: '~ab', proof }))).to.equal(
        '84010a' + '637e6162' + '50' + 'a5'.repeat(16),
      );
      for (const bad of [
        [1, 10, ''],
        [1, 10, '  '],
        [1, 10, 'x'.repeat(MAX_MOVED_ID_LENGTH + 1)],
        [1, 10, 7],
        [1, 10],
        [1, 10, 'x', new Uint8Array(15)],
        [1, 10, 'x', new Uint8Array(17)],
        [1, 10, 'x', 'a'.repeat(16)],
        [1, 10, 'x', proof, 1],
      ]) {
        const r = decodeFrame(cbor.encode(bad));
        expect(isFrameError(r), JSON.stringify(bad)).to.equal(true);
      }
      expect(decodeFrame(cbor.encode([1, 10, 'x'.repeat(MAX_MOVED_ID_LENGTH)]))).to.deep.equal({
        kind: FrameKind.Moved,
        id: 'x'.repeat(MAX_MOVED_ID_LENGTH),
      });
    });

    it('hello is [1, 0, { "attributes": map, "maxAttachmentBytes": uint, "maxFrameBytes": uint }]', () => {
      const bytes = encodeFrame({
        kind: FrameKind.Hello,
        attributes: {},
        maxAttachmentBytes: 1,
        maxFrameBytes: 16 * 1024,
      });
      // 0x83 array(3), version, kind, then a map holding the three text keys
      expect(hex(bytes.subarray(0, 3))).to.equal('830100');
      expect(bytes[3]! >> 5).to.equal(5);
      for (const key of ['attributes', 'maxAttachmentBytes', 'maxFrameBytes'])
        expect(hex(bytes)).to.include(hex(new TextEncoder().encode(key)));
      // A frame built by hand with shortest-form map headers (keys in another order, one unknown key) decodes the same.
      const keys = (k: string): string => hex(craft(k));
      const handmade = `830100a4${keys('maxFrameBytes')}194000${keys('future')}f5${keys('attributes')}a0${keys('maxAttachmentBytes')}01`;
      expect(decodeOk(fromHex(handmade))).to.deep.equal({
        kind: FrameKind.Hello,
        attributes: {},
        maxAttachmentBytes: 1,
        maxFrameBytes: 16 * 1024,
      });
      // Limits and session tags from 2^32 up written as 64-bit CBOR integers (major type 0, 0x1b), as another
      // implementation may: accepted like seqs (cbor-x writes float64 there). A session tag is 48 bits.
      const u64 = (n: number): string => `1b${n.toString(16).padStart(16, '0')}`;
      const tag = 2 ** 47 + 12345;
      const wide = `830100a4${keys('attributes')}a0${keys('maxAttachmentBytes')}${u64(2 ** 32)}${keys('maxFrameBytes')}194000${keys('session')}${u64(tag)}`;
      expect(decodeOk(fromHex(wide))).to.deep.equal({
        kind: FrameKind.Hello,
        attributes: {},
        maxAttachmentBytes: 2 ** 32,
        maxFrameBytes: 16 * 1024,
        session: tag,
      });
    });

    it('message is [1, 1, seq, type, payload, attachment] and ends with the attachment as an untagged byte string', () => {
      const bytes = encodeFrame({
        kind: FrameKind.Message,
        seq: 3,
        type: 't',
        payload: {},
        attachment: new Uint8Array([1, 2, 3]),
      });
      expect(hex(bytes.subarray(0, 6))).to.equal('860101036174');
      // major type 2 (byte string), length 3, then the bytes; no tag (major type 6) anywhere before them
      expect(hex(bytes.subarray(bytes.byteLength - 4))).to.equal('43010203');
      expect([...bytes].some((b) => b >> 5 === 6)).to.equal(false);
      expect(decodeOk(fromHex('860101036174a043010203'))).to.deep.equal({
        kind: FrameKind.Message,
        seq: 3,
        type: 't',
        payload: {},
        attachment: new Uint8Array([1, 2, 3]),
      });
    });

    it('a message without attachment is the 5-item array', () => {
      expect(hex(encodeFrame({ kind: FrameKind.Message, seq: 0, type: 'ab', payload: {} }).subarray(0, 6))).to.equal(
        '850101006261',
      );
    });

    it('encodes Uint8Array and Buffer attachments of every size as plain byte strings (major type 2)', () => {
      const without = encodeFrame({ kind: FrameKind.Message, seq: 0, type: 't', payload: { k: 'v' } });
      expect(without[0]).to.equal(0x85);
      for (const [size, header] of [
        [0, '40'],
        [23, '57'],
        [24, '5818'],
        [300, '59012c'],
        [70000, '5a00011170'],
      ] as const) {
        for (const attachment of [new Uint8Array(size).fill(0xab), Buffer.alloc(size, 0xab)]) {
          const bytes = encodeFrame({ kind: FrameKind.Message, seq: 0, type: 't', payload: { k: 'v' }, attachment });
          // the same items as without an attachment, in a 6-item array, then the byte string header and bytes
          expect(bytes[0]).to.equal(0x86);
          expect(hex(bytes.subarray(1, without.byteLength)), `size ${size}`).to.equal(hex(without.subarray(1)));
          expect(
            hex(bytes.subarray(without.byteLength, without.byteLength + header.length / 2)),
            `size ${size}`,
          ).to.equal(header);
          expect(bytes.byteLength).to.equal(without.byteLength + header.length / 2 + size);
          expect(bytes.subarray(bytes.byteLength - size).every((b) => b === 0xab)).to.equal(true);
        }
      }
    });

    it('uses FRAME_VERSION 1 and the documented kind numbers', () => {
      expect(FRAME_VERSION).to.equal(1);
      expect(FrameKind).to.deep.equal({
        Hello: 0,
        Message: 1,
        Ack: 2,
        Attributes: 3,
        Bye: 4,
        Ping: 5,
        Start: 6,
        Chunk: 7,
        Cancel: 8,
        Refuse: 9,
        Moved: 10,
      });
      expect(MAX_FRAME_BYTES).to.equal(262144);
    });
  });

  describe('refusing input a peer could send', () => {
    it('fuzz: random bytes never throw and give a refusal or a valid frame', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => expectValidResult(decodeFrame(bytes))),
        { numRuns: 2000 },
      );
    });

    it('fuzz: valid frames with bytes flipped, inserted or deleted never throw', () => {
      const edit = fc.tuple(fc.constantFrom('flip', 'insert', 'delete'), fc.nat(), fc.integer({ min: 0, max: 255 }));
      fc.assert(
        fc.property(frameArb(), fc.array(edit, { minLength: 1, maxLength: 4 }), (frame, edits) => {
          const bytes = [...encodeFrame(frame)];
          for (const [op, at, value] of edits) {
            const i = at % (bytes.length + 1);
            if (op === 'insert') bytes.splice(i, 0, value);
            else if (op === 'delete') bytes.splice(i, 1);
            else if (i < bytes.length) bytes[i] = bytes[i]! ^ (value | 1);
          }
          expectValidResult(decodeFrame(new Uint8Array(bytes)));
        }),
        { numRuns: 1000 },
      );
    });

    it('fuzz: arrays of arbitrary CBOR-encodable values after the version never throw', () => {
      const value = fc.anything({
        maxDepth: 3,
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withNullPrototype: true,
      });
      fc.assert(
        fc.property(fc.integer({ min: -1, max: 12 }), fc.array(value, { maxLength: 5 }), (kind, rest) => {
          expectValidResult(decodeFrame(craft([FRAME_VERSION, kind, ...rest])));
        }),
        { numRuns: 1000 },
      );
    });

    it('fuzz: tagged values anywhere in a frame are refused, and what is accepted is no larger than its bytes', () => {
      // Tags cbor-x gives meaning to (bignums, dates, sharing, packing, records, sets, typed arrays), and others.
      const tagNumber = fc.constantFrom(0, 1, 2, 3, 6, 25, 27, 28, 29, 51, 64, 105, 256, 258, 259, 55799, 40009);
      const tagged = fc.letrec<{ value: unknown }>((tie) => ({
        value: fc.oneof(
          { depthSize: 'small' },
          fc.jsonValue({ maxDepth: 1 }),
          fc.uint8Array({ maxLength: 16 }),
          fc.tuple(tagNumber, tie('value')).map(([n, v]) => new Tag(v, n)),
          fc.array(tie('value'), { maxLength: 4 }),
          fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4, noNullPrototype: true }),
        ),
      })).value;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 10 }), fc.array(tagged, { maxLength: 5 }), (kind, rest) => {
          const bytes = craft([FRAME_VERSION, kind, ...rest]);
          const r = decodeFrame(bytes);
          expectValidResult(r);
          if (containsTag(rest)) {
            if (!isFrameError(r)) expect.fail('a frame with a tag was accepted');
            expect(r.error).to.equal('NotCbor');
            expect(r.detail).to.match(/^CBOR tag \d+ is not allowed in frames$/);
          } else if (!isFrameError(r)) {
            // Items, string units and bytes decoded: each takes at least one byte of the frame.
            expect(Object.values(r).reduce((n: number, v) => n + decodedSize(v), 0)).to.be.at.most(bytes.byteLength);
          }
        }),
        { numRuns: 2000 },
      );
    });

    it('refuses every truncation of every valid frame', () => {
      for (const [name, frame] of EXAMPLES) {
        const bytes = encodeFrame(frame);
        for (let n = 0; n < bytes.byteLength; n++) {
          expect(decodeErr(bytes.subarray(0, n)).error, `${name} cut to ${n} bytes`).to.equal('NotCbor');
        }
      }
    });

    it('refuses a valid frame followed by extra bytes', () => {
      expect(decodeErr(fromHex('82010500')).error).to.equal('NotCbor');
      expect(decodeErr(fromHex('820105820105')).error).to.equal('NotCbor');
    });

    it('refuses items that are not an array of at least two', () => {
      for (const item of [null, 1, 'ping', { 0: 1, 1: 5 }, [], [1], new Uint8Array([1, 5])]) {
        expect(decodeErr(craft(item)).error, JSON.stringify(item)).to.equal('NotAFrame');
      }
    });

    it('refuses other versions', () => {
      for (const version of [0, 2, -1, 1.5, '1', null, true, [1]]) {
        const r = decodeErr(craft([version, FrameKind.Ping]));
        expect(r.error, String(version)).to.equal('UnsupportedVersion');
      }
      expect(decodeErr(fromHex('8402050102')).error).to.equal('UnsupportedVersion');
      // version 1 as a 64-bit CBOR integer decodes to a BigInt, which is not the number 1
      expect(decodeErr(fromHex('821b000000000000000105')).error).to.equal('UnsupportedVersion');
    });

    it('refuses unknown kinds', () => {
      for (const kind of [11, 12, 255, -1, 1.5, '5', null, [5], { k: 5 }]) {
        expect(decodeErr(craft([FRAME_VERSION, kind])).error, JSON.stringify(kind)).to.equal('UnknownKind');
      }
    });

    it('refuses frames of the wrong length for their kind', () => {
      for (const item of [
        [1, FrameKind.Hello],
        [1, FrameKind.Hello, { attributes: {}, maxAttachmentBytes: 0, maxFrameBytes: 1024 }, 0],
        [1, FrameKind.Message, 0, 't'],
        [1, FrameKind.Message, 0, 't', {}, new Uint8Array(0), 0],
        [1, FrameKind.Ack],
        [1, FrameKind.Ack, 0, 0],
        [1, FrameKind.Ack, 5, [1], 0],
        [1, FrameKind.Start, 1, 't', {}],
        [1, FrameKind.Start, 1, 't', {}, 5, 0],
        [1, FrameKind.Chunk, 1, 0],
        [1, FrameKind.Chunk, 1, 0, new Uint8Array(1), 0],
        [1, FrameKind.Cancel],
        [1, FrameKind.Cancel, 1, 2],
        [1, FrameKind.Refuse, 1],
        [1, FrameKind.Refuse, 1, 'x', 2],
        [1, FrameKind.Attributes],
        [1, FrameKind.Bye, 0],
        [1, FrameKind.Ping, null],
      ]) {
        expect(decodeErr(craft(item)).error, JSON.stringify(item)).to.equal('BadField');
      }
    });

    it('refuses hello and attributes frames whose body or attributes are not maps of JSON', () => {
      for (const kind of [FrameKind.Hello, FrameKind.Attributes]) {
        for (const body of [
          null,
          'x',
          1,
          [],
          [{}],
          {},
          { attributes: null },
          { attributes: [] },
          { attributes: 'x' },
          { attributes: { a: undefined } },
        ]) {
          const r = decodeErr(craft([1, kind, body]));
          expect(r.error, JSON.stringify(body)).to.equal('BadField');
        }
      }
    });

    it("refuses a hello whose session tag, peer's tag or maxHeldBytes is not a safe non-negative integer; a hello without one is an older peer's", () => {
      const hello = { attributes: {}, maxAttachmentBytes: 0, maxFrameBytes: 16 * 1024 };
      for (const session of [-1, 1.5, 2 ** 53, 'x', null, [], {}]) {
        const r = decodeErr(craft([1, FrameKind.Hello, { ...hello, session }]));
        expect(r, JSON.stringify(session)).to.deep.equal({ error: 'BadField', detail: 'session' });
        const p = decodeErr(craft([1, FrameKind.Hello, { ...hello, session: 1, peer: session }]));
        expect(p, JSON.stringify(session)).to.deep.equal({ error: 'BadField', detail: 'peer' });
        const h = decodeErr(craft([1, FrameKind.Hello, { ...hello, maxHeldBytes: session }]));
        expect(h, JSON.stringify(session)).to.deep.equal({ error: 'BadField', detail: 'maxHeldBytes' });
      }
      expect(decodeFrame(craft([1, FrameKind.Hello, hello]))).to.deep.equal({ kind: FrameKind.Hello, ...hello });
      expect(decodeFrame(craft([1, FrameKind.Hello, { ...hello, session: 7 }]))).to.deep.equal({
        kind: FrameKind.Hello,
        ...hello,
        session: 7,
      });
      expect(decodeFrame(craft([1, FrameKind.Hello, { ...hello, session: 7, peer: 9 }]))).to.deep.equal({
        kind: FrameKind.Hello,
        ...hello,
        session: 7,
        peer: 9,
      });
    });

    it('refuses a message whose seq is not a safe non-negative integer', () => {
      for (const seq of [
        -1,
        0.5,
        1.5,
        MAX_SEQ + 1,
        2 ** 64,
        -(2 ** 60),
        NaN,
        Infinity,
        -Infinity,
        '1',
        null,
        true,
        [1],
        {},
      ]) {
        const r = decodeErr(craft([1, FrameKind.Message, seq, 't', {}]));
        expect(r, String(seq)).to.deep.equal({ error: 'BadField', detail: 'seq' });
        expect(decodeErr(craft([1, FrameKind.Ack, seq])), String(seq)).to.deep.equal({
          error: 'BadField',
          detail: 'seq',
        });
      }
      // 2^32 as a 64-bit CBOR unsigned integer is a seq like any other
      expect(decodeOk(fromHex('8301021b0000000100000000'))).to.deep.equal({
        kind: FrameKind.Ack,
        seq: 2 ** 32,
        incomplete: [],
      });
      // 2^53 and 2^64 - 1 as 64-bit CBOR unsigned integers, and a CBOR negative integer
      for (const seq of ['1b0020000000000000', '1bffffffffffffffff', '20']) {
        expect(decodeErr(fromHex(`830102${seq}`)).error, seq).to.equal('BadField');
        expect(decodeErr(fromHex(`850101${seq}6174a0`)).error, seq).to.equal('BadField');
      }
      expect(decodeOk(craft([1, FrameKind.Ack, MAX_SEQ]))).to.deep.equal({
        kind: FrameKind.Ack,
        seq: MAX_SEQ,
        incomplete: [],
      });
    });

    it('refuses a hello whose limits are missing or impossible', () => {
      for (const [maxAttachmentBytes, maxFrameBytes] of [
        [undefined, 16384],
        [0, undefined],
        [-1, 16384],
        [0, 16383],
        [0, 1024],
        [0.5, 16384],
        [0, 2 ** 53],
        ['1', 16384],
        [0, null],
      ]) {
        const body: Record<string, unknown> = { attributes: {} };
        if (maxAttachmentBytes !== undefined) body.maxAttachmentBytes = maxAttachmentBytes;
        if (maxFrameBytes !== undefined) body.maxFrameBytes = maxFrameBytes;
        expect(decodeErr(craft([1, FrameKind.Hello, body])).error, JSON.stringify(body)).to.equal('BadField');
      }
    });

    it('refuses an ack whose incomplete list is empty, too long, repeated, or beyond its seq', () => {
      for (const incomplete of [[], [1, 2, 3, 4, 5], [2, 2], [11], [-1], ['1'], [1.5], { 0: 1 }]) {
        expect(decodeErr(craft([1, FrameKind.Ack, 10, incomplete])).error, JSON.stringify(incomplete)).to.equal(
          'BadField',
        );
      }
      expect(decodeOk(craft([1, FrameKind.Ack, 10, [10, 0, 4, 9]]))).to.deep.equal({
        kind: FrameKind.Ack,
        seq: 10,
        incomplete: [10, 0, 4, 9],
      });
    });

    it('refuses start, chunk, cancel and refuse frames with bad fields', () => {
      for (const item of [
        [1, FrameKind.Start, -1, 't', {}, 5],
        [1, FrameKind.Start, 1, '', {}, 5],
        [1, FrameKind.Start, 1, 't', [], 5],
        [1, FrameKind.Start, 1, 't', {}, -5],
        [1, FrameKind.Start, 1, 't', {}, 2 ** 53],
        [1, FrameKind.Start, 1, 't', {}, '5'],
        [1, FrameKind.Chunk, 'a', 0, new Uint8Array(1)],
        [1, FrameKind.Chunk, 1, -1, new Uint8Array(1)],
        [1, FrameKind.Chunk, 1, 0.5, new Uint8Array(1)],
        [1, FrameKind.Chunk, 1, 0, 'bytes'],
        [1, FrameKind.Chunk, 1, 0, [1, 2]],
        [1, FrameKind.Cancel, -1],
        [1, FrameKind.Cancel, '1'],
        [1, FrameKind.Refuse, -1, 'x'],
        [1, FrameKind.Refuse, 1, 7],
        [1, FrameKind.Refuse, 1, 'x'.repeat(65)],
      ]) {
        expect(decodeErr(craft(item)).error, JSON.stringify(item)).to.equal('BadField');
      }
    });

    it('refuses a message whose type is not a string of 1 to MAX_TYPE_LENGTH characters', () => {
      for (const type of ['', 'x'.repeat(MAX_TYPE_LENGTH + 1), 1, null, ['t'], { t: 1 }, new Uint8Array([0x74])]) {
        expect(decodeErr(craft([1, FrameKind.Message, 0, type, {}])), JSON.stringify(type)).to.deep.equal({
          error: 'BadField',
          detail: 'type',
        });
      }
      expect(decodeOk(craft([1, FrameKind.Message, 0, 'x'.repeat(MAX_TYPE_LENGTH), {}])).kind).to.equal(
        FrameKind.Message,
      );
    });

    it('refuses a message whose payload is not a JSON object', () => {
      for (const payload of [null, 'x', 1, true, [], [{}], new Uint8Array(1)]) {
        expect(decodeErr(craft([1, FrameKind.Message, 0, 't', payload])), JSON.stringify(payload)).to.deep.equal({
          error: 'BadField',
          detail: 'payload is not a JSON object',
        });
      }
    });

    it('refuses a message whose attachment is not a byte string', () => {
      for (const attachment of [null, 'bytes', 0, [1, 2], {}]) {
        const r = decodeErr(craft([1, FrameKind.Message, 0, 't', {}, attachment]));
        expect(r, String(attachment)).to.deep.equal({ error: 'BadField', detail: 'attachment is not a byte string' });
      }
      // cbor-x writes other typed arrays as tagged byte strings (RFC 8746), and tags are not allowed
      for (const attachment of [new Uint16Array([1]), new Float32Array([1])]) {
        expect(decodeErr(craft([1, FrameKind.Message, 0, 't', {}, attachment])).error).to.equal('NotCbor');
      }
    });

    it('refuses payload values CBOR has and JSON does not', () => {
      const cases: Array<[string, string]> = [
        ['undefined', 'f7'],
        ['NaN', 'f97e00'],
        ['Infinity', 'f97c00'],
        ['-Infinity', 'f9fc00'],
        ['2^53 as uint64 (decodes to a BigInt)', '1b0020000000000000'],
        ['-2^64 as nint64 (decodes to a BigInt)', '3bffffffffffffffff'],
        ['byte string', '43010203'],
      ];
      for (const [name, value] of cases) {
        // [1, 1, 0, "t", { "a": value }]
        const r = decodeErr(fromHex(`850101006174a16161${value}`));
        expect(r.error, name).to.equal('BadField');
        expect(r.detail, name).to.match(/^payload\.a /);
      }
    });

    it('refuses the same values inside arrays and hello attributes', () => {
      for (const value of ['f7', 'f97e00', '1b0020000000000000']) {
        expect(decodeErr(fromHex(`850101006174a161618201${value}`)).detail).to.match(/^payload\.a\[1\] /);
        expect(decodeErr(fromHex(`830100a16a61747472696275746573a16161${value}`)).detail).to.match(/^attributes\.a /);
      }
    });

    it('refuses every CBOR tag, wherever it is, before decoding anything', () => {
      const tags: Array<[string, string]> = [
        ['date string (tag 0)', 'c074323032342d30312d30315430303a30303a30305a'],
        ['date (tag 1)', 'c11a65000000'],
        ['bignum (tag 2)', 'c249010000000000000000'],
        ['negative bignum (tag 3)', 'c349010000000000000000'],
        ['packed reference (tag 6)', 'c600'],
        ['regexp (tag 27)', 'd81b8266526567457870617e'],
        ['shareable (tag 28)', 'd81ca0'],
        ['shared reference (tag 29)', 'd81d00'],
        ['packed table (tag 51)', 'd8338180'],
        ['set (tag 258)', 'd90102820102'],
        ['map (tag 259)', 'd90103a10102'],
        ['self-describe (tag 55799)', 'd9d9f700'],
        ['unknown tag', 'd9270f00'],
      ];
      for (const [name, value] of tags) {
        const tag = /tag (\d+)/.exec(name)?.[1] ?? '9999';
        for (const bytes of [
          fromHex(`850101006174a16161${value}`), // [1, 1, 0, "t", { "a": value }]
          fromHex(`850101006174a161618201${value}`), // ... { "a": [1, value] }
          fromHex(`830100a16a61747472696275746573a16161${value}`), // hello attributes { "a": value }
          fromHex(`8201${value}`), // [1, value]: the tag where the kind goes
        ]) {
          const r = decodeErr(bytes);
          expect(r.error, name).to.equal('NotCbor');
          expect(r.detail, name).to.equal(`CBOR tag ${Number(tag)} is not allowed in frames`);
        }
      }
    });

    it('refuses a 256 KiB bignum (tag 2) in time linear in its size', () => {
      // cbor-x decodes a bignum in time quadratic in its length: this frame blocked a participant for ~44 s.
      const digits = new Uint8Array(MAX_FRAME_BYTES - 32).fill(0xff);
      const bytes = craft([1, FrameKind.Message, 0, 't', { a: new Tag(digits, 2) }]);
      expect(bytes.byteLength).to.be.at.most(MAX_FRAME_BYTES);
      const started = performance.now();
      const results = decodeFrames(bytes);
      // A bound far above the linear scan's cost (well under a millisecond) and far below the quadratic decode's.
      expect(performance.now() - started).to.be.below(1000);
      expect(results).to.deep.equal([{ error: 'NotCbor', detail: 'CBOR tag 2 is not allowed in frames' }]);
    });

    it('refuses a string repeated through a packed-values table (tag 51), which would decode to GiBs', () => {
      // 51([[128 KiB string], [], [], { k0: 6(0), k1: 6(0), ... }]): each 6(0) is the same 128 KiB string
      const big = 'x'.repeat(128 * 1024);
      const refs: Record<string, Tag> = {};
      for (let i = 0; i < 12_000; i++) refs[`k${i}`] = new Tag(0, 6);
      const bytes = craft([1, FrameKind.Message, 0, 't', new Tag([[big], [], [], refs], 51)]);
      expect(bytes.byteLength).to.be.at.most(MAX_FRAME_BYTES);
      expect(decodeFrames(bytes)).to.deep.equal([{ error: 'NotCbor', detail: 'CBOR tag 51 is not allowed in frames' }]);
    });

    it('refuses indefinite lengths, non-text map keys, and simple values JSON does not have', () => {
      const cases: Array<[string, string, string]> = [
        ['indefinite array', '9f01ff', 'an indefinite-length array'],
        ['indefinite map', 'bf6161 01ff', 'an indefinite-length map'],
        ['indefinite text', '7f616161ff', 'an indefinite-length text string'],
        ['integer key', 'a10101', 'a map key is a unsigned integer, not text'],
        ['byte string key', 'a1410101', 'a map key is a byte string, not text'],
        ['array key', 'a1800101', 'a map key is a array, not text'],
        ['simple value 16', 'f0', 'simple value 16 is not allowed in frames'],
        ['simple value 255', 'f8ff', 'simple value 255 is not allowed in frames'],
        ['reserved additional information', '1c', 'reserved additional information 28'],
      ];
      for (const [name, value, detail] of cases) {
        expect(decodeErr(fromHex(`850101006174a16161${value.replace(' ', '')}`)), name).to.deep.equal({
          error: 'NotCbor',
          detail,
        });
      }
    });

    it(`refuses payloads nested deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) and accepts the limit`, () => {
      expect(decodeOk(craft([1, FrameKind.Message, 0, 't', nest(MAX_JSON_DEPTH)])).kind).to.equal(FrameKind.Message);
      const r = decodeErr(craft([1, FrameKind.Message, 0, 't', nest(MAX_JSON_DEPTH + 1)]));
      expect(r.error).to.equal('BadField');
      expect(r.detail).to.include(`nested deeper than ${MAX_JSON_DEPTH}`);
    });

    it('returns a refusal, not a stack overflow, for nesting far deeper than the decoder can recurse', () => {
      // [1, 1, 0, "t", { "a": { "a": ... {} } }], 80,000 maps deep in 240 KB
      const r = decodeFrame(concat(fromHex('850101006174'), fromHex('a16161'.repeat(80_000)), fromHex('a0')));
      if (!isFrameError(r)) expect.fail('accepted');
      expect(['NotCbor', 'BadField']).to.include(r.error);
    });

    it('does not let a "__proto__" map key pollute any prototype', () => {
      const key = hex(new TextEncoder().encode('__proto__'));
      // { "__proto__": { "polluted": true } } as a payload and as attributes
      const evil = `a169${key}a168706f6c6c75746564f5`;
      for (const bytes of [fromHex(`850101006174${evil}`), fromHex(`830100a16a61747472696275746573${evil}`)]) {
        const r = decodeFrame(bytes);
        expectValidResult(r);
        if (!isFrameError(r)) {
          const obj =
            r.kind === FrameKind.Message ? r.payload : r.kind === FrameKind.Hello ? r.attributes : expect.fail('kind');
          expect(Object.getPrototypeOf(obj)).to.equal(Object.prototype);
          expect((obj as { polluted?: unknown }).polluted).to.equal(undefined);
        }
        expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
      }
    });

    it('refuses a cyclic value built with CBOR value-sharing tags (28/29)', () => {
      // [1, 1, 0, "t", 28({ "j": 29(0) })]: the payload contains itself
      const r = decodeErr(fromHex('850101006174d81ca1616ad81d00'));
      expect(r).to.deep.equal({ error: 'NotCbor', detail: 'CBOR tag 28 is not allowed in frames' });
    });

    it('refuses shared values that would expand exponentially, without walking the expansion', () => {
      // L0 = 28([]), Li = 28([L(i-1), 29(ref to L(i-1))]): 24 levels are 2^24 leaves in about 200 bytes
      const levels = 24;
      let inner: unknown = new Tag([], 28);
      for (let i = 1; i <= levels; i++) inner = new Tag([inner, new Tag(levels - i + 1, 29)], 28);
      const bytes = craft([1, FrameKind.Message, 0, 't', { a: inner }]);
      expect(bytes.byteLength).to.be.below(300);
      const started = performance.now();
      const r = decodeErr(bytes);
      expect(performance.now() - started).to.be.below(200);
      expect(r.error).to.equal('NotCbor');
    });

    it('refuses a value repeated through a packed-values table (tags 51/6)', () => {
      const table = new Array<unknown>(17).fill(0);
      table[16] = { x: 1 };
      // payload { j: 6(0), k: 6(0) }: both keys refer to the same decoded object
      const bytes = craft([
        1,
        FrameKind.Message,
        0,
        't',
        new Tag([table, [], [], { j: new Tag(0, 6), k: new Tag(0, 6) }], 51),
      ]);
      expect(decodeErr(bytes).error).to.equal('NotCbor');
    });

    it(`refuses frames above MAX_FRAME_BYTES (${MAX_FRAME_BYTES}) before decoding them, and accepts exactly that size`, () => {
      const overhead =
        encodeFrame({ kind: FrameKind.Message, seq: 0, type: 't', payload: {}, attachment: new Uint8Array(100_000) })
          .byteLength - 100_000;
      const exact = encodeFrame({
        kind: FrameKind.Message,
        seq: 0,
        type: 't',
        payload: {},
        attachment: new Uint8Array(MAX_FRAME_BYTES - overhead),
      });
      expect(exact.byteLength).to.equal(MAX_FRAME_BYTES);
      expect(decodeOk(exact).kind).to.equal(FrameKind.Message);
      const over = encodeFrame({
        kind: FrameKind.Message,
        seq: 0,
        type: 't',
        payload: {},
        attachment: new Uint8Array(MAX_FRAME_BYTES - overhead + 1),
      });
      expect(decodeErr(over)).to.deep.equal({ error: 'TooLarge', detail: `${MAX_FRAME_BYTES + 1} bytes` });
      expect(decodeErr(new Uint8Array(MAX_FRAME_BYTES + 1).fill(0xff)).error).to.equal('TooLarge');
      expect(decodeErr(new ArrayBuffer(MAX_FRAME_BYTES * 4)).error).to.equal('TooLarge');
    });

    it('refuses text messages, even when their characters spell a valid frame', () => {
      expect(decodeErr('ping')).to.deep.equal({ error: 'NotAFrame', detail: 'text message; frames are binary' });
      expect(decodeErr(String.fromCharCode(0x82, 0x01, 0x05)).error).to.equal('NotAFrame');
      expect(decodeErr('').error).to.equal('NotAFrame');
    });

    it('refuses an empty binary message', () => {
      expect(decodeErr(new Uint8Array(0)).error).to.equal('NotCbor');
    });
  });

  describe('several frames in one message (a CBOR sequence)', () => {
    it('decodes every frame of a message, in order', () => {
      const frames: Frame[] = EXAMPLES.map(([, f]) => f);
      const message = Buffer.concat(frames.map((f) => encodeFrame(f)));
      expect(decodeFrames(message)).to.deep.equal(frames);
      expect(decodeFrames(encodeFrame({ kind: FrameKind.Ping }))).to.deep.equal([{ kind: FrameKind.Ping }]);
    });

    it('keeps the frames before bytes that stop being CBOR, and ends with one refusal', () => {
      const r = decodeFrames(
        Buffer.concat([encodeFrame({ kind: FrameKind.Ping }), encodeFrame({ kind: FrameKind.Bye }), fromHex('ff01')]),
      );
      expect(r.slice(0, 2)).to.deep.equal([{ kind: FrameKind.Ping }, { kind: FrameKind.Bye }]);
      expect(r).to.have.length(3);
      expect((r[2] as FrameDecodeError).error).to.equal('NotCbor');
    });

    it('refuses each item that is not a frame, and the whole message above MAX_FRAME_BYTES or empty', () => {
      const r = decodeFrames(Buffer.concat([craft([1, 42]), encodeFrame({ kind: FrameKind.Ping }), craft('x')]));
      expect(r.map((x) => (isFrameError(x) ? x.error : x.kind))).to.deep.equal([
        'UnknownKind',
        FrameKind.Ping,
        'NotAFrame',
      ]);
      expect(decodeFrames(new Uint8Array(MAX_FRAME_BYTES + 1)).map((x) => (x as FrameDecodeError).error)).to.deep.equal(
        ['TooLarge'],
      );
      expect(decodeFrames(new Uint8Array(0)).map((x) => (x as FrameDecodeError).error)).to.deep.equal(['NotCbor']);
      expect(decodeFrames('820105').map((x) => (x as FrameDecodeError).error)).to.deep.equal(['NotAFrame']);
    });

    it('fuzz: random bytes never throw, and every result is a refusal or a valid frame', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodeFrames(bytes).forEach(expectValidResult)),
        { numRuns: 2000 },
      );
    });
  });

  describe('isFrameError', () => {
    it('tells refusals from frames', () => {
      expect(isFrameError({ error: 'NotCbor', detail: '' })).to.equal(true);
      expect(isFrameError({ kind: FrameKind.Ping })).to.equal(false);
      expect(isFrameError({ kind: FrameKind.Message, seq: 0, type: 'error', payload: { error: 'x' } })).to.equal(false);
    });
  });
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
