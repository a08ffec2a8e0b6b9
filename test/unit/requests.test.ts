import { expect } from 'chai';
import { MessagingError, RequestError } from '../../lib/errors.js';
import type { Frame } from '../../lib/protocol/frames.js';
import {
  CallKind,
  FrameKind,
  MAX_CALL_TEXT_LENGTH,
  decodeFrame,
  encodeFrame,
  encodeMessageBody,
  encodeMessageFrame,
  isFrameError,
} from '../../lib/protocol/frames.js';
import { Requests, runHandler, truncate } from '../../lib/requests/Requests.js';
import { rejection } from '../support/harness.js';

type Handler = () => string;

describe('Requests (request and reply bookkeeping)', () => {
  it('numbers requests per link from 1, and settles each with its own reply', async () => {
    const r = new Requests<Handler>();
    const a = r.open('L1', 'bob', 'sum', 1000);
    const b = r.open('L1', 'bob', 'sum', 1000);
    const c = r.open('L2', 'carol', 'sum', 1000);
    expect([a.id, b.id, c.id]).to.deep.equal([1, 2, 1]);
    expect(r.pendingCount).to.equal(3);
    expect(r.reply('L1', 'sum', { kind: CallKind.Reply, id: 2 }, { n: 2 }, undefined).kind).to.equal('settled');
    expect(r.reply('L1', 'sum', { kind: CallKind.Reply, id: 1 }, { n: 1 }, undefined).kind).to.equal('settled');
    expect((await a.reply).payload).to.deep.equal({ n: 1 });
    expect((await b.reply).payload).to.deep.equal({ n: 2 });
    expect(r.pendingCount).to.equal(1);
    r.closeLink('L2');
    const err = (await rejection(c.reply)) as RequestError;
    expect(err).to.be.instanceOf(RequestError);
    expect(err.reason).to.equal('ParticipantLeft');
    expect(r.pendingCount).to.equal(0);
  });

  it('closeAll settles every link’s requests ParticipantLeft, also those waiting with no timeout', async () => {
    const r = new Requests<Handler>();
    const a = r.open('L1', 'bob', 'sum', Infinity);
    const b = r.open('L2', 'carol', 'sum', 1000);
    r.closeAll();
    for (const p of [a.reply, b.reply])
      expect(((await rejection(p)) as RequestError).reason).to.equal('ParticipantLeft');
    expect(r.pendingCount).to.equal(0);
  });

  it('drops a late or repeated reply; a reply to a request never sent is a violation', async () => {
    const r = new Requests<Handler>();
    const a = r.open('L', 'bob', 't', 1000);
    r.reply('L', 't', { kind: CallKind.Reply, id: 1 }, {}, undefined);
    await a.reply;
    expect(r.reply('L', 't', { kind: CallKind.Reply, id: 1 }, {}, undefined).kind).to.equal('dropped');
    expect(r.reply('L', 't', { kind: CallKind.Reply, id: 2 }, {}, undefined).kind).to.equal('violation');
    expect(r.reply('L', 't', { kind: CallKind.Reply, id: 0 }, {}, undefined).kind).to.equal('violation');
    expect(r.reply('other', 't', { kind: CallKind.Reply, id: 1 }, {}, undefined).kind).to.equal('violation');
    const b = r.open('L', 'bob', 't', 1000);
    expect(r.reply('L', 'u', { kind: CallKind.Reply, id: 2 }, {}, undefined).kind).to.equal('violation');
    r.closeLink('L');
    await rejection(b.reply);
  });

  it('turns failed replies into typed errors; an unknown reason is HandlerFailed', async () => {
    const r = new Requests<Handler>();
    const cases: Array<[string, string]> = [
      ['NoHandler', 'NoHandler'],
      ['Busy', 'Busy'],
      ['HandlerFailed', 'HandlerFailed'],
      ['SomethingNew', 'HandlerFailed'],
    ];
    for (const [wire, reason] of cases) {
      const { id, reply } = r.open('L', 'bob', 't', 1000);
      r.reply('L', 't', { kind: CallKind.Failure, id, reason: wire, text: 'why' }, {}, undefined);
      const err = (await rejection(reply)) as RequestError;
      expect(err.reason, wire).to.equal(reason);
      if (reason === 'HandlerFailed') expect(err.handlerMessage).to.equal('why');
    }
  });

  it('times out, and aborts through a signal; either forgets the request', async () => {
    const r = new Requests<Handler>();
    const t = r.open('L', 'bob', 'slow', 20);
    expect(((await rejection(t.reply)) as RequestError).reason).to.equal('Timeout');
    const controller = new AbortController();
    const a = r.open('L', 'bob', 'slow', Infinity, controller.signal);
    controller.abort();
    const err = (await rejection(a.reply)) as MessagingError;
    expect(err.reason).to.equal('Aborted');
    expect(r.pendingCount).to.equal(0);
    expect(r.reply('L', 'slow', { kind: CallKind.Reply, id: a.id }, {}, undefined).kind).to.equal('dropped');
  });

  it('admits requests to a registered handler, at most the cap per peer in hand (whatever its links), and answers NoHandler otherwise', () => {
    const r = new Requests<Handler>(2);
    expect(r.admit('L', 'x')).to.deep.equal({ kind: 'refuse', reason: 'NoHandler' });
    const handler: Handler = () => 'hi';
    const off = r.handle('x', handler);
    expect(() => r.handle('x', handler)).to.throw(/already has a handler/);
    const one = r.admit('L', 'x');
    const two = r.admit('L', 'x');
    expect(one.kind).to.equal('run');
    expect(r.admit('L', 'x')).to.deep.equal({ kind: 'refuse', reason: 'Busy' });
    expect(r.admit('M', 'x').kind).to.equal('run'); // the cap is per peer
    r.closeLink('L'); // a peer's new session does not bring it a new cap
    expect(r.admit('L', 'x')).to.deep.equal({ kind: 'refuse', reason: 'Busy' });
    if (one.kind === 'run') {
      expect(one.handler).to.equal(handler);
      one.done();
      one.done(); // twice counts once
    }
    expect(r.admit('L', 'x').kind).to.equal('run');
    expect(r.admit('L', 'x').kind).to.equal('refuse');
    void two;
    off();
    expect(r.admit('N', 'x')).to.deep.equal({ kind: 'refuse', reason: 'NoHandler' });
  });

  it('a handler whose reply attachment was transferred away fails HandlerFailed, instead of an empty attachment', async () => {
    const bytes = new Uint8Array(8);
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
    const answer = await runHandler(() => ({ message: {}, attachment: bytes }));
    expect(answer).to.deep.equal({
      kind: 'failure',
      reason: 'HandlerFailed',
      text: "the handler's reply: attachment's buffer was transferred (detached): it has no bytes left",
    });
  });

  it('runs a handler: its reply, or HandlerFailed with the message only, cut to the limit', async () => {
    expect(await runHandler(() => ({ message: { a: 1 } }))).to.deep.equal({
      kind: 'reply',
      payload: { a: 1 },
      attachment: undefined,
    });
    const bytes = new Uint8Array([1]);
    expect(await runHandler(() => Promise.resolve({ message: {}, attachment: bytes }))).to.deep.include({
      attachment: bytes,
    });
    const thrown = await runHandler(() => {
      throw new Error('boom');
    });
    expect(thrown).to.deep.equal({ kind: 'failure', reason: 'HandlerFailed', text: 'boom' });
    const rejected = await runHandler(() => Promise.reject(new Error('x'.repeat(5000))));
    expect(rejected.kind === 'failure' && rejected.text.length).to.equal(MAX_CALL_TEXT_LENGTH);
    for (const bad of [undefined, 42, { message: 'text' }, { message: {}, attachment: 'no' }]) {
      const out = await runHandler(() => bad);
      expect(out.kind, JSON.stringify(bad)).to.equal('failure');
    }
    expect(truncate('a\uD800b')).to.equal('a\uFFFDb');
    const pairs = '😀'.repeat(600);
    const cut = truncate(pairs);
    expect(cut.length).to.be.at.most(MAX_CALL_TEXT_LENGTH);
    expect(/[\uD800-\uDFFF]/u.test(cut)).to.equal(false);
  });
});

describe('frames: requests and replies (a call in the type slot)', () => {
  const roundTrips: Frame[] = [
    { kind: FrameKind.Message, seq: 1, type: 'sum', payload: { a: 1 }, call: { kind: CallKind.Request, id: 7 } },
    {
      kind: FrameKind.Message,
      seq: 2,
      type: 'sum',
      payload: { s: 3 },
      attachment: new Uint8Array([1, 2]),
      call: { kind: CallKind.Reply, id: 7 },
    },
    {
      kind: FrameKind.Message,
      seq: 3,
      type: 'sum',
      payload: {},
      call: { kind: CallKind.Failure, id: 8, reason: 'HandlerFailed', text: 'boom' },
    },
    {
      kind: FrameKind.Start,
      seq: 4,
      type: 'up',
      payload: {},
      totalBytes: 100_000,
      call: { kind: CallKind.Request, id: 9 },
    },
  ];
  for (const frame of roundTrips) {
    it(`round-trips ${JSON.stringify({ kind: frame.kind, call: (frame as { call: unknown }).call })}`, () => {
      expect(decodeFrame(encodeFrame(frame))).to.deep.equal(frame);
    });
  }

  it('refuses a malformed call', () => {
    const bad: unknown[] = [
      ['', CallKind.Request, 1],
      ['t', 3, 1],
      ['t', CallKind.Request, -1],
      ['t', CallKind.Request, 1, 'extra'],
      ['t', CallKind.Reply],
      ['t', CallKind.Failure, 1, '', 'x'],
      ['t', CallKind.Failure, 1, 'r'.repeat(65), 'x'],
      ['t', CallKind.Failure, 1, 'r', 'x'.repeat(MAX_CALL_TEXT_LENGTH + 1)],
      ['t', CallKind.Failure, 1, 'r', 5],
      [5, CallKind.Request, 1],
      [],
    ];
    for (const call of bad) {
      // Built by hand: the encoder writes only valid calls.
      const body = encodeMessageBody('t', {});
      const frame = encodeMessageFrame(1, body);
      const decoded = decodeFrame(frame);
      expect(isFrameError(decoded)).to.equal(false);
      const forged = forge(call);
      const out = decodeFrame(forged);
      expect(isFrameError(out), JSON.stringify(call)).to.equal(true);
    }
  });
});

/** A message frame whose type slot holds `call`, whatever it is. */
function forge(call: unknown): Uint8Array {
  // [1, 1, 1, call, {}]: array(5), 1, 1, 1, then the call, then an empty map.
  const head = new Uint8Array([0x85, 1, 1, 1]);
  const callBytes = encodeCbor(call);
  const out = new Uint8Array(head.length + callBytes.length + 1);
  out.set(head);
  out.set(callBytes, head.length);
  out[out.length - 1] = 0xa0;
  return out;
}

/** A tiny CBOR encoder for the values above: arrays, small ints, negative ints, text. */
function encodeCbor(v: unknown): Uint8Array {
  const parts: number[] = [];
  const head = (major: number, n: number): void => {
    if (n < 24) parts.push((major << 5) | n);
    else if (n < 256) parts.push((major << 5) | 24, n);
    else parts.push((major << 5) | 25, n >> 8, n & 0xff);
  };
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      head(4, x.length);
      x.forEach(walk);
    } else if (typeof x === 'number') {
      if (x >= 0) head(0, x);
      else head(1, -1 - x);
    } else if (typeof x === 'string') {
      const b = new TextEncoder().encode(x);
      head(3, b.length);
      parts.push(...b);
    }
  };
  walk(v);
  return new Uint8Array(parts);
}
