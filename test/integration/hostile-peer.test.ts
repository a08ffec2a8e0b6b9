import { expect } from 'chai';
import { Encoder, Tag } from 'cbor-x';
import type { RoomTimeouts } from '../../lib/node.js';
import {
  DEFAULT_RECEIVE_LIMITS,
  DEFAULT_TIMEOUTS,
  ProtocolError,
  nodeDataChannelWebRTC,
  silentLogger,
} from '../../lib/node.js';
import type { IncomingTransfer } from '../../lib/session/Inbox.js';
import { AttachmentBudget } from '../../lib/session/Inbox.js';
import type { Link } from '../../lib/link/Link.js';
import { PeerLink } from '../../lib/link/PeerLink.js';
import { Session } from '../../lib/session/Session.js';
import type { Frame } from '../../lib/protocol/frames.js';
import {
  FrameKind,
  MAX_CONCURRENT_TRANSFERS,
  MAX_PROTOCOL_ERRORS,
  MAX_FRAME_BYTES,
  decodeFrames,
  encodeFrame,
  encodeMessageBody,
  encodeMessageFrame,
  isFrameError,
  MessageBody,
} from '../../lib/protocol/frames.js';
import { UNACKNOWLEDGED_BEHIND } from '../../lib/session/Outbox.js';
import { FREE_NO_MEMORY_REFUSALS_BURST } from '../../lib/session/Receiver.js';
import { bytes, eventually, nextEvent } from '../support/harness.js';

const HELLO: Frame = {
  kind: FrameKind.Hello,
  attributes: {},
  maxAttachmentBytes: 1 << 20,
  maxFrameBytes: MAX_FRAME_BYTES,
};

interface Pair {
  /** A bare link the test writes raw bytes to. */
  raw: PeerLink;
  /** roommesh's receiving side. */
  session: Session;
  errors: ProtocolError[];
  messages: Array<{ type: string; payload: unknown; attachment?: Uint8Array | undefined }>;
  aborted: Array<{ transfer: IncomingTransfer; reason: string }>;
  /** Frames the session sent back to the raw side (hello, acks, refusals). */
  back: Frame[];
}

/** What a raw pair's session is built with, beyond `maxAttachmentBytes`. */
interface PairOptions {
  /** Shared with other sessions to test the cap over all peers. */
  budget?: AttachmentBudget;
  timeouts?: Partial<RoomTimeouts>;
  receiveRate?: { bytesPerSecond: number; burstBytes: number };
  decodeBudget?: { msPerSecond: number; burstMs: number };
}

/** A real data channel between a bare link and a Session that accepts attachments up to `maxAttachmentBytes`. */
async function rawPair(maxAttachmentBytes = 1 << 20, options: PairOptions = {}): Promise<Pair> {
  const wrtc = nodeDataChannelWebRTC();
  const raw = new PeerLink({ initiator: true, wrtc, rtcConfig: { iceServers: [] }, logger: silentLogger });
  const link = new PeerLink({ initiator: false, wrtc, rtcConfig: { iceServers: [] }, logger: silentLogger });
  raw.on('signal', (d) => link.signal(d));
  link.on('signal', (d) => raw.signal(d));
  const session = new Session({
    participant: { id: 'mallory', name: 'mallory', joinedAtMs: 0 },
    cid: 'c',
    link,
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    maxAttachmentBytes,
    attachmentBudget: options.budget ?? new AttachmentBudget(2 ** 40),
    receiveRate: options.receiveRate ?? { bytesPerSecond: 2 ** 40, burstBytes: 2 ** 40 },
    decodeBudget: options.decodeBudget ?? { msPerSecond: 2 ** 40, burstMs: 2 ** 40 },
    localAttributes: () => ({}),
    logger: silentLogger,
  });
  const pair: Pair = { raw, session, errors: [], messages: [], aborted: [], back: [] };
  session.on('protocol_error', (e) => pair.errors.push(e));
  session.on('message', (d) => pair.messages.push({ type: d.type, payload: d.payload, attachment: d.attachment }));
  session.on('aborted', (transfer, reason) => pair.aborted.push({ transfer, reason }));
  raw.on('data', (b) => {
    for (const f of decodeFrames(b)) if (!isFrameError(f)) pair.back.push(f);
  });
  await Promise.all([nextEvent(raw, 'open'), nextEvent(link, 'open')]);
  return pair;
}

const refusals = (p: Pair): Frame[] => p.back.filter((f) => f.kind === FrameKind.Refuse);

describe('a hostile peer on a real data channel', function () {
  this.timeout(20_000);
  const open: Link[] = [];
  afterEach(() => {
    for (const l of open.splice(0)) l.close();
  });

  async function pair(maxAttachmentBytes?: number, options?: PairOptions): Promise<Pair> {
    const p = await rawPair(maxAttachmentBytes, options);
    open.push(p.raw, p.session.link);
    return p;
  }

  it('garbage is counted and reported, never delivered, and the link survives below the threshold', async () => {
    const { raw, session, errors, messages } = await pair();
    const plain = new Encoder({ useRecords: false, tagUint8Array: false });
    raw.write(encodeFrame(HELLO));
    const garbage: Uint8Array[] = [
      bytes(64, 99),
      new Uint8Array([0xff]),
      plain.encode([2, FrameKind.Ping]),
      plain.encode([1, 42]),
      plain.encode([1, FrameKind.Message, -1, 't', {}]),
      plain.encode([1, FrameKind.Message, 5, 't', {}]), // seq out of order
      plain.encode([1, FrameKind.Message, 1, 't', 'not a map']),
      plain.encode([1, FrameKind.Ack, 1_000_000]), // acknowledges what was never sent
      plain.encode([1, FrameKind.Refuse, 1_000_000, 'TooLarge']), // refuses what was never sent
      plain.encode({ not: 'an array' }),
    ];
    for (const g of garbage) raw.write(g);
    // A valid message after all that still arrives: the listener sees only it.
    raw.write(encodeFrame({ kind: FrameKind.Message, seq: 1, type: 'fine', payload: { ok: true } }));
    await eventually(() => messages.length === 1, 5000, 'the valid message');
    expect(messages).to.deep.equal([{ type: 'fine', payload: { ok: true }, attachment: undefined }]);
    expect(errors).to.have.length(garbage.length);
    expect(errors.every((e) => e instanceof ProtocolError && e.participantId === 'mallory')).to.equal(true);
    expect(new Set(errors.map((e) => e.reason))).to.deep.equal(new Set(['BadFrame', 'UnexpectedFrame']));
    expect(session.isReady).to.equal(true);
  });

  it('a message before its hello: the peer is taken to be in another session, and nothing more of it is read', async () => {
    // What an honest peer sends when it continues a session this side ended; a hostile one only mutes itself.
    const { raw, session, errors, messages, back } = await pair();
    raw.write(encodeFrame({ kind: FrameKind.Ping })); // harmless, ignored
    raw.write(encodeFrame({ kind: FrameKind.Message, seq: 1, type: 'early', payload: {} }));
    raw.write(encodeFrame(HELLO));
    raw.write(encodeFrame({ kind: FrameKind.Message, seq: 1, type: 'later', payload: {} }));
    raw.write(bytes(64, 7)); // not even decoded now
    await eventually(() => back.some((f) => f.kind === FrameKind.Hello), 5000, "the session's own hello");
    await new Promise((r) => setTimeout(r, 200));
    expect(session.isReady).to.equal(false);
    expect(messages).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });

  it('past the threshold the offending peer is disconnected', async () => {
    const { raw, session, errors } = await pair();
    const closed = nextEvent(session, 'close');
    for (let i = 0; i < MAX_PROTOCOL_ERRORS + 5; i++) raw.write(bytes(32, i + 1));
    const [reason] = await closed;
    expect(reason).to.match(/protocol errors/);
    expect(errors.filter((e) => e.reason === 'TooManyErrors')).to.have.length(1);
    expect(errors.length).to.equal(MAX_PROTOCOL_ERRORS + 1);
  });

  it('a peer that reads everything and acknowledges nothing is disconnected once it is behind and its oldest message waited too long', async () => {
    // Each message stays held until an ack covers it (to go again after a move): without a bound, a peer
    // that never acknowledges (and asks for a reply to each of its requests) grows this side's memory to a crash.
    const timeouts = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1000 };
    const { raw, session, errors, back } = await pair(undefined, { timeouts });
    raw.write(encodeFrame(HELLO));
    await eventually(() => session.isReady, 5000, 'the session ready');
    // It pings, so it is not silent: it is heard from, and acknowledges nothing.
    const pinging = setInterval(() => raw.write(encodeFrame({ kind: FrameKind.Ping })), 100);
    try {
      const closed = nextEvent(session, 'close');
      const body = new MessageBody('t', { n: 1 });
      for (let i = 0; i <= UNACKNOWLEDGED_BEHIND.messages + 100; i++) session.sendMessage(body, undefined, false);
      const [reason] = await closed;
      expect(reason).to.match(/acknowledges nothing/);
      expect(errors).to.have.length(1);
      expect(errors[0]!.reason).to.equal('LimitExceeded');
      expect(errors[0]!.message).to.match(/: \d+ messages \(\d+ bytes\) not acknowledged, the oldest for \d+ ms/);
      expect(back.some((f) => f.kind === FrameKind.Message)).to.equal(true); // it read
    } finally {
      clearInterval(pinging);
    }
  });

  it('an attachment announced above the limit (10 GiB) is refused without allocating, and the link goes on', async () => {
    const p = await pair(1 << 20);
    p.raw.write(encodeFrame(HELLO));
    p.raw.write(encodeFrame({ kind: FrameKind.Start, seq: 1, type: 'huge', payload: {}, totalBytes: 10 * 2 ** 30 }));
    // Its chunks, already in flight, are dropped quietly: not delivered, not counted again.
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: 0, bytes: bytes(1000, 1) }));
    p.raw.write(encodeFrame({ kind: FrameKind.Message, seq: 2, type: 'after', payload: {} }));
    await eventually(() => p.messages.length === 1, 5000, 'the message after');
    expect(p.messages[0]!.type).to.equal('after');
    expect(p.errors.map((e) => e.reason)).to.deep.equal(['LimitExceeded']);
    expect(p.errors[0]!.message).to.match(/10737418240-byte attachment; this participant accepts at most 1048576/);
    expect(p.session.incomingHeldBytes).to.equal(0);
    await eventually(() => refusals(p).length === 1, 5000, 'the refusal');
    expect(refusals(p)[0]).to.deep.equal({ kind: FrameKind.Refuse, seq: 1, reason: 'TooLarge' });
    // The sender learns by an ack that 2 arrived, and that 1 is not incomplete: it was refused before.
    await eventually(() => p.back.some((f) => f.kind === FrameKind.Ack && f.seq === 2), 5000, 'the ack');
    const order = p.back.map((f) => f.kind).filter((k) => k === FrameKind.Refuse || k === FrameKind.Ack);
    expect(order[0]).to.equal(FrameKind.Refuse);
  });

  it('a peer that announces 1 KiB and sends more gets the message refused and its bytes freed', async () => {
    const p = await pair();
    p.raw.write(encodeFrame(HELLO));
    p.raw.write(encodeFrame({ kind: FrameKind.Start, seq: 1, type: 'liar', payload: { name: 'x' }, totalBytes: 1024 }));
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: 0, bytes: bytes(1000, 1) }));
    await eventually(() => p.session.incomingHeldBytes === 1024, 5000, 'the buffer of the announced size');
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: 1000, bytes: bytes(1000, 2) })); // 976 bytes too many
    for (let i = 0; i < 10; i++)
      p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: 2000 + i * 1000, bytes: bytes(1000, 3) }));
    await eventually(() => p.aborted.length === 1, 5000, 'the abort');
    expect(p.aborted[0]!.transfer.type).to.equal('liar');
    expect(p.aborted[0]!.reason).to.equal('Refused');
    expect(p.errors[0]!.message).to.match(/chunk of message 1 at 1000 with 1000 bytes/);
    expect(p.session.incomingHeldBytes).to.equal(0);
    await eventually(() => refusals(p).length === 1, 5000, 'the refusal');
    expect(refusals(p)[0]).to.deep.equal({ kind: FrameKind.Refuse, seq: 1, reason: 'Invalid' });
    expect(p.errors.map((e) => e.reason)).to.deep.equal(['LimitExceeded']);
    expect(p.messages).to.have.length(0);
  });

  it(`more than ${MAX_CONCURRENT_TRANSFERS} attachments at once, chunks of messages never started, and wrong offsets are refused`, async () => {
    const p = await pair();
    p.raw.write(encodeFrame(HELLO));
    for (let seq = 1; seq <= MAX_CONCURRENT_TRANSFERS + 1; seq++) {
      p.raw.write(encodeFrame({ kind: FrameKind.Start, seq, type: 't', payload: {}, totalBytes: 2000 }));
    }
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 99, offset: 0, bytes: bytes(10, 1) }));
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: 5, bytes: bytes(10, 1) }));
    p.raw.write(encodeFrame({ kind: FrameKind.Cancel, seq: 98 }));
    // The sender cancels 2: it is dropped quietly; 3 completes.
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 2, offset: 0, bytes: bytes(500, 2) }));
    p.raw.write(encodeFrame({ kind: FrameKind.Cancel, seq: 2 }));
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 3, offset: 0, bytes: bytes(2000, 3) }));
    await eventually(() => p.messages.length === 1, 5000, 'message 3');
    expect(Buffer.from(p.messages[0]!.attachment!).equals(Buffer.from(bytes(2000, 3)))).to.equal(true);
    expect(p.errors.map((e) => e.reason)).to.deep.equal([
      'LimitExceeded',
      'UnexpectedFrame',
      'LimitExceeded',
      'UnexpectedFrame',
    ]);
    expect(p.errors[0]!.message).to.match(/more than 4 attachments at once/);
    expect(p.errors[1]!.message).to.match(/chunk of message 99, which is not being received/);
    expect(p.errors[2]!.message).to.match(/chunk of message 1 at 5/);
    expect(p.errors[3]!.message).to.match(/cancel of message 98/);
    expect(p.aborted.map((a) => [a.transfer.seq, a.reason])).to.deep.equal([
      [1, 'Refused'],
      [2, 'Cancelled'],
    ]);
    await eventually(() => refusals(p).length === 2, 5000, 'two refusals');
    expect(refusals(p)).to.deep.equal([
      { kind: FrameKind.Refuse, seq: 5, reason: 'TooManyTransfers' },
      { kind: FrameKind.Refuse, seq: 1, reason: 'Invalid' },
    ]);
    // 4 is still arriving: the ack says so.
    await eventually(
      () => p.back.some((f) => f.kind === FrameKind.Ack && f.seq === 5 && f.incomplete.join() === '4'),
      5000,
      'ack 5 except 4',
    );
    expect(p.session.incomingHeldBytes).to.equal(2000);
  });

  it('a 256 KiB bignum and a packed-string bomb are refused at once, and the participant goes on', async () => {
    const { raw, session, errors, messages } = await pair();
    const plain = new Encoder({ useRecords: false, tagUint8Array: false });
    raw.write(encodeFrame(HELLO));
    // cbor-x decodes this bignum in quadratic time (~44 s); as attributes, the packed table below would
    // expand to one 128 KiB string referenced 12,000 times (1.5 GiB), and JSON.stringify of it aborts Node.
    const bignum = plain.encode([
      1,
      FrameKind.Attributes,
      { attributes: { a: new Tag(bytes(MAX_FRAME_BYTES - 64, 0xff), 2) } },
    ]);
    const refs: Record<string, Tag> = {};
    for (let i = 0; i < 12_000; i++) refs[`k${i}`] = new Tag(0, 6);
    const packed = plain.encode([
      1,
      FrameKind.Attributes,
      { attributes: new Tag([['x'.repeat(128 * 1024)], [], [], refs], 51) },
    ]);
    const started = Date.now();
    for (let i = 0; i < 4; i++) raw.write(bignum);
    raw.write(packed);
    raw.write(encodeFrame({ kind: FrameKind.Message, seq: 1, type: 'after', payload: {} }));
    await eventually(() => messages.length === 1, 10_000, 'the message after the bombs');
    expect(Date.now() - started).to.be.below(5000);
    expect(errors.map((e) => e.reason)).to.deep.equal(['BadFrame', 'BadFrame', 'BadFrame', 'BadFrame', 'BadFrame']);
    expect(errors[0]!.message).to.include('CBOR tag 2 is not allowed');
    expect(errors[4]!.message).to.include('CBOR tag 51 is not allowed');
    expect(session.isReady).to.equal(true);
  });

  it('an attachment whose chunks stop coming is refused as Stalled and its bytes freed, while the peer pings and starts it again', async () => {
    const stallMs = 400;
    const p = await pair(1 << 20, { timeouts: { attachmentStallTimeoutMs: stallMs, heartbeatIntervalMs: 100 } });
    p.raw.write(encodeFrame(HELLO));
    p.raw.write(encodeFrame({ kind: FrameKind.Start, seq: 1, type: 'stuck', payload: {}, totalBytes: 100_000 }));
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: 0, bytes: bytes(1000, 1) }));
    await eventually(() => p.session.incomingHeldBytes === 100_000, 5000, 'the buffer');
    const started = Date.now();
    // It pings, and sends the start again and again (as a peer that moved between links would, once): no
    // chunk comes, so the transfer stalls all the same.
    const start = encodeFrame({ kind: FrameKind.Start, seq: 1, type: 'stuck', payload: {}, totalBytes: 100_000 });
    const pinger = setInterval(() => {
      p.raw.write(encodeFrame({ kind: FrameKind.Ping }));
      p.raw.write(start);
    }, 50);
    try {
      await eventually(() => p.aborted.length === 1, 5000, 'the abort');
    } finally {
      clearInterval(pinger);
    }
    expect(Date.now() - started).to.be.at.least(stallMs - 150);
    expect(p.aborted[0]!.reason).to.equal('Stalled');
    expect(p.aborted[0]!.transfer.receivedBytes).to.equal(0); // started again from 0
    expect(p.session.incomingHeldBytes).to.equal(0);
    expect(p.errors.map((e) => e.reason)).to.deep.equal(['LimitExceeded']);
    expect(p.errors[0]!.message).to.match(/no chunk of message 1 for 4\d\d ms \(0 of 100000 bytes arrived\)/);
    await eventually(() => refusals(p).length === 1, 5000, 'the refusal');
    expect(refusals(p)[0]).to.deep.equal({ kind: FrameKind.Refuse, seq: 1, reason: 'Stalled' });
    // A late chunk of it is dropped quietly, and the link goes on.
    p.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: 1000, bytes: bytes(1000, 2) }));
    p.raw.write(encodeFrame({ kind: FrameKind.Message, seq: 2, type: 'after', payload: {} }));
    await eventually(() => p.messages.length === 1, 5000, 'the message after');
    expect(p.errors).to.have.length(1);
    expect(p.session.isReady).to.equal(true);
  });

  it('bytes held for incomplete attachments are capped per peer and over all peers: past either, NoMemory, not held against the sender', async () => {
    const MiB = 1 << 20;
    const budget = new AttachmentBudget(2.5 * MiB); // one peer may hold half: 1.25 MiB
    const a = await pair(MiB, { budget });
    const b = await pair(MiB, { budget });
    const c = await pair(MiB, { budget });
    for (const p of [a, b, c]) p.raw.write(encodeFrame(HELLO));
    const start = (seq: number, totalBytes = MiB): Uint8Array =>
      encodeFrame({ kind: FrameKind.Start, seq, type: `s${seq}`, payload: {}, totalBytes });
    // a's second attachment would take more than a peer's share.
    a.raw.write(start(1));
    a.raw.write(start(2));
    await eventually(() => refusals(a).length === 1, 5000, "a's refusal");
    expect(refusals(a)[0]).to.deep.equal({ kind: FrameKind.Refuse, seq: 2, reason: 'NoMemory' });
    expect(a.errors[0]!.message).to.match(
      /this peer's incomplete attachments already hold 1048576 of the 1310720 bytes/,
    );
    expect(a.session.incomingHeldBytes).to.equal(MiB);
    // b takes its share; c's would pass the cap over all peers.
    b.raw.write(start(1));
    await eventually(() => budget.heldBytes === 2 * MiB, 5000, "b's buffer");
    c.raw.write(start(1));
    await eventually(() => refusals(c).length === 1, 5000, "c's refusal");
    expect(refusals(c)[0]).to.deep.equal({ kind: FrameKind.Refuse, seq: 1, reason: 'NoMemory' });
    expect(c.errors[0]!.message).to.match(/incomplete attachments already hold 2097152 of at most 2621440 bytes/);
    // That is this side's memory, not c's doing: refused as often as an honest sender might ask, c stays
    // (no TooManyErrors).
    for (let seq = 2; seq <= MAX_PROTOCOL_ERRORS + 2; seq++) c.raw.write(start(seq));
    await eventually(() => refusals(c).length === MAX_PROTOCOL_ERRORS + 2, 5000, "c's refusals");
    expect(c.errors.every((e) => e.reason === 'LimitExceeded')).to.equal(true);
    expect(c.session.isReady).to.equal(true);
    // Once one of a's attachments is cancelled, c's next one fits, and completes.
    a.raw.write(encodeFrame({ kind: FrameKind.Cancel, seq: 1 }));
    await eventually(() => budget.heldBytes === MiB, 5000, 'the cancel to free its buffer');
    const next = MAX_PROTOCOL_ERRORS + 3;
    c.raw.write(start(next, 1000));
    c.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: next, offset: 0, bytes: bytes(1000, 2) }));
    await eventually(() => c.messages.length === 1, 5000, "c's message");
    expect(budget.heldBytes).to.equal(MiB);
    b.session.close('test over');
    await eventually(() => budget.heldBytes === 0, 5000, 'b closing to free the rest');
  });

  it(`a peer that sends starts by the thousand, each refused NoMemory, is disconnected past ${FREE_NO_MEMORY_REFUSALS_BURST} free ones and ${MAX_PROTOCOL_ERRORS} counted`, async () => {
    const MiB = 1 << 20;
    const budget = new AttachmentBudget(2 * MiB);
    const holder = await pair(MiB, { budget });
    const flooder = await pair(MiB, { budget });
    for (const p of [holder, flooder]) p.raw.write(encodeFrame(HELLO));
    holder.raw.write(encodeFrame({ kind: FrameKind.Start, seq: 1, type: 'big', payload: {}, totalBytes: MiB }));
    flooder.raw.write(encodeFrame({ kind: FrameKind.Start, seq: 1, type: 'big', payload: {}, totalBytes: MiB }));
    await eventually(() => budget.heldBytes === 2 * MiB, 5000, 'the budget held');
    // One data-channel message of 2,000 one-byte starts, each refused: the budget is full.
    const starts = Array.from({ length: 2000 }, (_, i) =>
      encodeFrame({ kind: FrameKind.Start, seq: i + 2, type: 's', payload: {}, totalBytes: 1 }),
    );
    const closed = nextEvent(flooder.session, 'close');
    flooder.raw.write(Buffer.concat(starts));
    const [reason] = await closed;
    expect(reason).to.equal('too many protocol errors');
    expect(flooder.errors.at(-1)!.reason).to.equal('TooManyErrors');
    // Each refusal was an error event; the session stopped at the threshold, not at the 2,000th.
    expect(flooder.errors.length).to.equal(FREE_NO_MEMORY_REFUSALS_BURST + MAX_PROTOCOL_ERRORS + 1);
    expect(holder.session.isReady).to.equal(true);
  });

  it('peers that trickle chunks to hold the incoming-attachment budget give it up to a new attachment once judged slow: refused NoMemory, not held against them', async function () {
    this.timeout(30_000);
    const MiB = 1 << 20;
    const budget = new AttachmentBudget(2 * MiB); // one peer may hold half: 1 MiB
    const a = await pair(MiB, { budget });
    const b = await pair(MiB, { budget });
    const honest = await pair(MiB, { budget });
    for (const p of [a, b, honest]) p.raw.write(encodeFrame(HELLO));
    const start = (seq: number, totalBytes = MiB): Uint8Array =>
      encodeFrame({ kind: FrameKind.Start, seq, type: `s${seq}`, payload: {}, totalBytes });
    // a and b each announce an attachment of their whole share and send 2 KiB and 1 KiB of it every 2 s,
    // well inside the 30 s stall timeout: together they hold the whole budget.
    a.raw.write(start(1));
    b.raw.write(start(1));
    await eventually(() => budget.heldBytes === 2 * MiB, 5000, 'both buffers');
    const startedAt = Date.now();
    const sent = { a: 0, b: 0 };
    const trickle = setInterval(() => {
      a.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: sent.a, bytes: bytes(2048, 1) }));
      sent.a += 2048;
      b.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 1, offset: sent.b, bytes: bytes(1024, 2) }));
      sent.b += 1024;
      honest.raw.write(encodeFrame({ kind: FrameKind.Ping })); // alive meanwhile, as a live peer is
    }, 2000);
    try {
      // Before they have been judged, the honest peer's attachment is refused, as it was always.
      honest.raw.write(start(1));
      await eventually(() => refusals(honest).length === 1, 5000, "the honest peer's first refusal");
      expect(refusals(honest)[0]).to.deep.equal({ kind: FrameKind.Refuse, seq: 1, reason: 'NoMemory' });
      // Once they have been (10 s), its next one takes the slower one's bytes.
      await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 10_500 - Date.now())));
      honest.raw.write(start(2));
      for (let offset = 0; offset < MiB; offset += 64 * 1024)
        honest.raw.write(encodeFrame({ kind: FrameKind.Chunk, seq: 2, offset, bytes: bytes(64 * 1024, 3) }));
      await eventually(() => honest.messages.length === 1, 5000, "the honest peer's attachment");
    } finally {
      clearInterval(trickle);
    }
    expect(honest.messages[0]!.attachment).to.deep.equal(
      (() => {
        const whole = new Uint8Array(MiB);
        for (let offset = 0; offset < MiB; offset += 64 * 1024) whole.set(bytes(64 * 1024, 3), offset);
        return whole;
      })(),
    );
    // The refusal travels back over b's data channel; the honest peer's delivery does not wait for it.
    await eventually(() => refusals(b).length > 0, 5000, "b's refusal to reach it");
    expect(refusals(b)).to.deep.equal([{ kind: FrameKind.Refuse, seq: 1, reason: 'NoMemory' }]);
    expect(b.aborted.map((x) => [x.transfer.seq, x.reason])).to.deep.equal([[1, 'Refused']]);
    expect(b.errors.map((e) => e.reason)).to.deep.equal(['LimitExceeded']);
    expect(b.errors[0]!.message).to.match(/attachment 1 would take \d+ s to finish at its rate so far/);
    expect(b.session.isReady).to.equal(true);
    // a, faster but still slow, was not needed: it keeps its bytes.
    expect(refusals(a)).to.deep.equal([]);
    expect(a.session.incomingHeldBytes).to.equal(MiB);
    for (const p of [a, b, honest]) p.session.close('test over');
    await eventually(() => budget.heldBytes === 0, 5000, 'the sessions closing to free the rest');
    expect(budget.holders, 'closed sessions leave the budget').to.equal(0);
  });

  it('a hello announcing a frame limit below 16 KiB is refused: the peer never becomes present', async () => {
    const p = await pair();
    const ready: unknown[] = [];
    p.session.on('ready', (a) => ready.push(a));
    p.raw.write(encodeFrame({ kind: FrameKind.Hello, attributes: {}, maxAttachmentBytes: 0, maxFrameBytes: 1024 }));
    await eventually(() => p.errors.length === 1, 5000, 'the refusal');
    expect(p.errors[0]!.reason).to.equal('BadFrame');
    expect(p.errors[0]!.message).to.match(/maxFrameBytes 1024 is below 16384/);
    expect(p.session.isReady).to.equal(false);
    expect(ready).to.have.length(0);
    // At the minimum, with no attachments accepted at all, it is a fine hello.
    p.raw.write(
      encodeFrame({ kind: FrameKind.Hello, attributes: {}, maxAttachmentBytes: 0, maxFrameBytes: 16 * 1024 }),
    );
    await eventually(() => p.session.isReady, 5000, 'the second hello');
    expect(p.session.peerLimits).to.deep.equal({ maxAttachmentBytes: 0, maxFrameBytes: 16 * 1024 });
    expect(p.errors).to.have.length(1);
  });

  it('a peer flooding valid messages past its receive budget is cut off; the heap stays bounded; an honest peer goes on', async () => {
    const receiveRate = { bytesPerSecond: 4 << 20, burstBytes: 8 << 20 };
    const flood = await pair(1 << 20, { receiveRate });
    const honest = await pair(1 << 20, { receiveRate });
    flood.raw.write(encodeFrame(HELLO));
    honest.raw.write(encodeFrame(HELLO));
    await eventually(() => flood.session.isReady && honest.session.isReady, 5000, 'both hellos');
    (globalThis as { gc?: () => void }).gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const closed = nextEvent(flood.session, 'close', 15_000);
    // 250 KB messages as fast as the channel takes them, for up to 64 MiB: 8 times the burst.
    const text = 'x'.repeat(250_000);
    let seq = 0;
    let sentBytes = 0;
    let flooding = true;
    void closed.finally(() => (flooding = false));
    while (flooding && sentBytes < 64 << 20) {
      if (flood.raw.bufferedBytes > 4 << 20) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const frame = encodeFrame({ kind: FrameKind.Message, seq: ++seq, type: 'spam', payload: { text } });
      if (!flood.raw.write(frame)) break;
      sentBytes += frame.byteLength;
      // The honest peer sends a little meanwhile.
      if (seq % 16 === 0)
        honest.raw.write(encodeFrame({ kind: FrameKind.Message, seq: seq / 16, type: 'ok', payload: {} }));
    }
    const [reason] = await closed;
    expect(reason).to.equal('over its receive budget');
    const limit = flood.errors.filter((e) => e.reason === 'LimitExceeded');
    expect(limit).to.have.length(1);
    expect(limit[0]!.message).to.match(/sent more than 4194304 bytes\/s \(burst 8388608\); disconnecting/);
    // What got through is the burst plus what the rate refilled, not the flood.
    const delivered = flood.messages.length * 250_000;
    expect(delivered).to.be.below(sentBytes);
    (globalThis as { gc?: () => void }).gc?.();
    expect(process.memoryUsage().heapUsed - heapBefore).to.be.below(64 << 20);
    expect(honest.session.isReady).to.equal(true);
    expect(honest.errors).to.have.length(0);
    honest.raw.write(
      encodeFrame({ kind: FrameKind.Message, seq: Math.floor(seq / 16) + 1, type: 'last', payload: {} }),
    );
    await eventually(() => honest.messages.at(-1)?.type === 'last', 5000, "the honest peer's last message");
  });

  it('a peer flooding messages that are costly to decode is cut off by the default decode budget', async () => {
    // Bytes alone do not bound the cost: these 240 KB frames of 25,000 small keys decode at ~15 MiB/s, and a
    // flood of them at line rate froze a receiver while its channel queued what it could not read.
    const { decodeMsPerSecond, decodeBurstMs } = DEFAULT_RECEIVE_LIMITS;
    const flood = await pair(1 << 20, { decodeBudget: { msPerSecond: decodeMsPerSecond, burstMs: decodeBurstMs } });
    flood.raw.write(encodeFrame(HELLO));
    await eventually(() => flood.session.isReady, 5000, 'the hello');
    const closed = nextEvent(flood.session, 'close', 30_000);
    const body = encodeMessageBody('spam', Object.fromEntries(Array.from({ length: 25_000 }, (_, i) => [`k${i}`, i])));
    let seq = 0;
    let flooding = true;
    void closed.finally(() => (flooding = false));
    const started = Date.now();
    while (flooding && Date.now() - started < 20_000) {
      if (flood.raw.bufferedBytes > 4 << 20) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      if (!flood.raw.write(encodeMessageFrame(++seq, body))) break;
    }
    const [reason] = await closed;
    expect(reason).to.equal('over its receive budget');
    const limit = flood.errors.filter((e) => e.reason === 'LimitExceeded');
    expect(limit).to.have.length(1);
    expect(limit[0]!.message).to.match(/took more than 400 ms\/s to decode \(burst 1000 ms\); disconnecting/);
    // Cut off within seconds, long before the 20 s of flooding were over.
    expect(Date.now() - started).to.be.below(10_000);
  });
});
