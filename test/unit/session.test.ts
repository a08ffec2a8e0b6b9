/**
 * Session over an in-memory link: the messaging protocol (hello, ordered messages, cumulative acks,
 * chunked attachments, backpressure, heartbeat, abort, goodbye) without WebRTC, in milliseconds.
 */
import { expect } from 'chai';
import { DEFAULT_TIMEOUTS, type RoomTimeouts } from '../../lib/defaults.js';
import { MessagingError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/logger.js';
import { FrameKind, MessageBody, decodeFrames, encodeFrame, isFrameError } from '../../lib/protocol/frames.js';
import type { JsonObject } from '../../lib/protocol/json.js';
import type { Delivery } from '../../lib/session/Inbox.js';
import { AttachmentBudget } from '../../lib/session/Inbox.js';
import { ReceiveBudgets } from '../../lib/session/ReceiveBudget.js';
import { Session } from '../../lib/session/Session.js';
import { eventually, nextEvent } from '../support/harness.js';
import { type MemoryLink, type MemoryLinkOptions, memoryLinkPair } from '../support/memory-link.js';

interface Side {
  session: Session;
  link: MemoryLink;
  received: Delivery[];
}

const open: Session[] = [];

function side(
  name: string,
  link: MemoryLink,
  timeouts: Partial<RoomTimeouts>,
  maxAttachmentBytes: number,
  receiveBudgets?: ReceiveBudgets,
): Side {
  const session = new Session({
    ...(receiveBudgets === undefined ? {} : { receiveBudgets }),
    participant: { id: name === 'a' ? 'b' : 'a', name: name === 'a' ? 'bob' : 'alice', joinedAtMs: 0 },
    cid: 'c1',
    link,
    timeouts: { ...DEFAULT_TIMEOUTS, ...timeouts },
    maxAttachmentBytes,
    attachmentBudget: new AttachmentBudget(1 << 30),
    receiveRate: { bytesPerSecond: 1 << 30, burstBytes: 1 << 30 },
    decodeBudget: { msPerSecond: 1000, burstMs: 1000 },
    localAttributes: () => ({ me: name }),
    logger: silentLogger,
  });
  open.push(session);
  const received: Delivery[] = [];
  session.on('message', (d) => received.push(d));
  return { session, link, received };
}

/** Two sessions on an in-memory pair, resolved once both have the other's hello. */
async function pair(
  options: { link?: MemoryLinkOptions; timeouts?: Partial<RoomTimeouts>; maxAttachmentBytes?: number } = {},
): Promise<[Side, Side]> {
  const [la, lb] = memoryLinkPair(options.link);
  const a = side('a', la, options.timeouts ?? {}, options.maxAttachmentBytes ?? 1 << 20);
  const b = side('b', lb, options.timeouts ?? {}, options.maxAttachmentBytes ?? 1 << 20);
  await Promise.all([nextEvent(a.session, 'ready', 2000), nextEvent(b.session, 'ready', 2000)]);
  return [a, b];
}

const send = (
  s: Session,
  type: string,
  payload: JsonObject,
  attachment?: Uint8Array,
  signal?: AbortSignal,
): Promise<void> => s.sendMessage(new MessageBody(type, payload), attachment, true, undefined, signal);

const bytes = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);

/** The frames a side wrote, decoded, of one kind. */
function written(link: MemoryLink, kind: FrameKind): number {
  let n = 0;
  for (const message of link.written)
    for (const f of decodeFrames(message)) if (!isFrameError(f) && f.kind === kind) n++;
  return n;
}

describe('Session over an in-memory link', () => {
  afterEach(() => {
    for (const s of open.splice(0)) s.close('test over');
  });

  it('attributes changed after its hello left and before the peer was ready reach the peer once it is', async () => {
    const [la, lb] = memoryLinkPair();
    lb.freezePeer(); // b's hello waits on its way to a
    let attributes: JsonObject = { n: 1 };
    const a = new Session({
      participant: { id: 'b', name: 'bob', joinedAtMs: 0 },
      cid: 'c1',
      link: la,
      timeouts: DEFAULT_TIMEOUTS,
      maxAttachmentBytes: 1000,
      attachmentBudget: new AttachmentBudget(1 << 30),
      receiveRate: { bytesPerSecond: 1 << 30, burstBytes: 1 << 30 },
      decodeBudget: { msPerSecond: 1000, burstMs: 1000 },
      localAttributes: () => attributes,
      logger: silentLogger,
    });
    open.push(a);
    const b = side('b', lb, {}, 1000);
    const seen: JsonObject[] = [];
    b.session.on('ready', (attrs) => seen.push(attrs));
    b.session.on('attributes', (attrs) => seen.push(attrs));
    await eventually(() => seen.length === 1, 2000, "b to have a's hello");
    attributes = { n: 2 }; // the app's update, before a has b's hello: a is not ready, so it is not told to it
    a.sendAttributes(attributes);
    lb.thawPeer();
    await eventually(() => seen.length === 2, 2000, "b to have a's new attributes");
    expect(seen).to.deep.equal([{ n: 1 }, { n: 2 }]);
    expect(a.isReady).to.equal(true);
  });

  it('exchanges hellos: each side learns the other attributes and limits', async () => {
    const [la, lb] = memoryLinkPair();
    const a = side('a', la, {}, 1000);
    const b = side('b', lb, {}, 2000);
    const [[attrsAtA], [attrsAtB]] = await Promise.all([nextEvent(a.session, 'ready'), nextEvent(b.session, 'ready')]);
    expect(attrsAtA).to.deep.equal({ me: 'b' });
    expect(attrsAtB).to.deep.equal({ me: 'a' });
    expect(a.session.peerLimits?.maxAttachmentBytes).to.equal(2000);
    expect(b.session.peerLimits?.maxAttachmentBytes).to.equal(1000);
  });

  it('delivers 2,000 pipelined messages in order, each once, and acknowledges them cumulatively', async () => {
    const [a, b] = await pair();
    const sends = Array.from({ length: 2000 }, (_, i) => send(a.session, 'n', { i }));
    await Promise.all(sends);
    expect(b.received.map((d) => d.payload.i)).to.deep.equal(Array.from({ length: 2000 }, (_, i) => i));
    expect(b.received.map((d) => d.seq)).to.deep.equal(Array.from({ length: 2000 }, (_, i) => i + 1));
    // Batched: far fewer acks than messages, and far fewer channel messages than frames.
    expect(written(b.link, FrameKind.Ack)).to.be.below(100);
    expect(a.link.written.length).to.be.below(200);
  });

  it('a reply sent from a later task carries the acknowledgement with it: one channel message, not two', async () => {
    const [a, b] = await pair();
    // Twice: the second request comes after the first reply's own acknowledgement.
    for (const later of [setImmediate, setImmediate]) {
      const replied = new Promise<void>((resolve) => {
        const onRequest = (d: Delivery): void => {
          b.session.off('message', onRequest);
          later(() => void send(b.session, 'reply', { to: d.payload.n as number }).then(resolve));
        };
        b.session.on('message', onRequest);
      });
      const before = b.link.written.length;
      const reply = nextEvent(a.session, 'message', 2000);
      await send(a.session, 'request', { n: 1 });
      const [d] = await reply;
      expect(d.type).to.equal('reply');
      await replied;
      expect(b.link.written.length - before, 'messages b wrote').to.equal(1);
      const kinds = decodeFrames(b.link.written.at(-1) as Uint8Array).map((f) => (isFrameError(f) ? -1 : f.kind));
      expect(kinds).to.deep.equal([FrameKind.Ack, FrameKind.Message]);
    }
  });

  it('a reply sent inside the listener leaves before the listener returns, with the ack, and no ack follows', async () => {
    const [a, b] = await pair();
    for (let n = 0; n < 2; n++) {
      let writtenInListener = -1;
      const before = b.link.written.length;
      const onRequest = (d: Delivery): void => {
        b.session.off('message', onRequest);
        void send(b.session, 'reply', { to: d.payload.n as number });
        writtenInListener = b.link.written.length - before;
      };
      b.session.on('message', onRequest);
      const reply = nextEvent(a.session, 'message', 2000);
      await send(a.session, 'request', { n });
      await reply;
      expect(writtenInListener, 'messages b wrote before its listener returned').to.equal(1);
      for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
      expect(b.link.written.length - before, 'messages b wrote').to.equal(1);
      const kinds = decodeFrames(b.link.written.at(-1) as Uint8Array).map((f) => (isFrameError(f) ? -1 : f.kind));
      expect(kinds).to.deep.equal([FrameKind.Ack, FrameKind.Message]);
    }
  });

  it('interleaves chunked attachments with small messages, and every byte arrives', async () => {
    const [a, b] = await pair({ maxAttachmentBytes: 4 << 20 });
    const big = [bytes(3_000_000, 1), bytes(2_000_000, 2)];
    const sends = [
      send(a.session, 'file', { n: 0 }, big[0]),
      send(a.session, 'file', { n: 1 }, big[1]),
      send(a.session, 'chat', { text: 'hi' }),
    ];
    await Promise.all(sends);
    // The small message overtakes the attachments still arriving.
    expect(b.received.map((d) => d.type)).to.deep.equal(['chat', 'file', 'file']);
    for (const d of b.received.filter((r) => r.type === 'file')) {
      expect(d.attachment).to.deep.equal(big[d.payload.n as number]);
    }
    expect(written(a.link, FrameKind.Chunk)).to.be.above(6);
  });

  it('stops writing while the link is not writable, and loses nothing when it drains', async () => {
    const [a, b] = await pair({
      link: { highWaterBytes: 64 * 1024, lowWaterBytes: 16 * 1024 },
      maxAttachmentBytes: 8 << 20,
    });
    a.link.freezePeer();
    const payload = bytes(2 << 20, 3);
    const done = send(a.session, 'file', {}, payload);
    await new Promise((r) => setTimeout(r, 50));
    // One chunk frame past the high-water mark at most.
    expect(a.link.bufferedBytes).to.be.at.most(64 * 1024 + 64 * 1024);
    a.link.thawPeer();
    await done;
    expect(b.received[0]?.attachment).to.deep.equal(payload);
  });

  it('refuses at the call what the peer announced it does not take', async () => {
    const [la, lb] = memoryLinkPair();
    const a = side('a', la, {}, 1 << 20);
    side('b', lb, {}, 100);
    await nextEvent(a.session, 'ready');
    // Thrown at the call, before anything is queued.
    expect(() => send(a.session, 'file', {}, bytes(101, 1)))
      .to.throw(MessagingError)
      .with.property('reason', 'MessageTooLarge');
    expect(written(la, FrameKind.Message) + written(la, FrameKind.Start)).to.equal(0);
  });

  it('aborting a chunked send tells the receiver, which frees what it held; the link goes on', async () => {
    const [a, b] = await pair({
      link: { highWaterBytes: 64 * 1024, lowWaterBytes: 16 * 1024 },
      maxAttachmentBytes: 8 << 20,
    });
    const controller = new AbortController();
    a.link.freezePeer();
    const aborted = nextEvent(b.session, 'aborted');
    const sending = send(a.session, 'file', {}, bytes(4 << 20, 4), controller.signal);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    a.link.thawPeer();
    const err = await sending.then(
      () => expect.fail('sent'),
      (e: unknown) => e,
    );
    expect((err as MessagingError).reason).to.equal('Aborted');
    const [, reason] = await aborted;
    expect(reason).to.equal('Cancelled');
    await eventually(() => b.session.incomingHeldBytes === 0, 2000, 'the receiver to free the attachment');
    await send(a.session, 'after', {});
    expect(b.received.map((d) => d.type)).to.deep.equal(['after']);
  });

  it('sends a heartbeat when idle, and closes a link whose peer went silent', async () => {
    const [a] = await pair({ timeouts: { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 100 } });
    await new Promise((r) => setTimeout(r, 70));
    expect(written(a.link, FrameKind.Ping)).to.be.at.least(1);
    // The peer's messages stop arriving (a frozen process): the link is closed for silence.
    const peer = a.link.peer as MemoryLink;
    peer.freezePeer();
    const [reason] = await nextEvent(a.session, 'close', 2000);
    // Silence is counted from the last frame that arrived, which may precede the freeze by a ping
    // interval: never closed before 100 ms of it (less a millisecond of clock rounding).
    const silentMs = Date.now() - peer.lastDeliveredAtMs;
    expect(reason).to.equal('no frame for 100 ms');
    expect(silentMs).to.be.within(99, 1000);
  });

  it("does not judge the peer's silence before its hello: a peer slow to set up is not a dead one", async () => {
    // Under load (20 Chromium pages on 2 cores) a peer's hello took over 5 s: the side waiting for it ended
    // the session, while the peer, which had this side's hello, went on with it.
    const timeouts = { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 100 };
    const [la, lb] = memoryLinkPair();
    const a = side('a', la, timeouts, 1 << 20);
    let closed = '';
    a.session.on('close', (reason) => (closed = reason));
    await new Promise((r) => setTimeout(r, 300)); // three heartbeat timeouts, and not a frame from the peer
    expect(closed).to.equal('');
    expect(written(la, FrameKind.Ping)).to.be.at.least(1); // it still pings: the peer may have its hello
    const ready = nextEvent(a.session, 'ready', 2000);
    lb.write(encodeFrame({ kind: FrameKind.Hello, attributes: {}, maxAttachmentBytes: 0, maxFrameBytes: 1 << 16 }));
    await ready;
    // From the hello on, silence counts.
    const [reason] = await nextEvent(a.session, 'close', 2000);
    expect(reason).to.equal('no frame for 100 ms');
  });

  it('a goodbye drains what is due, and the peer closes knowing it was a goodbye', async () => {
    const [a, b] = await pair();
    const last = send(a.session, 'last', {});
    const closed = nextEvent(b.session, 'close');
    await a.session.closeGracefully();
    await last;
    const [, bye] = await closed;
    expect(bye).to.equal(true);
    expect(b.received.map((d) => d.type)).to.deep.equal(['last']);
  });

  it('a link that fails rejects every unacknowledged send with ParticipantLeft', async () => {
    const [a] = await pair();
    a.link.freezePeer();
    const sends = [send(a.session, 'x', {}), send(a.session, 'y', {})];
    a.link.close('network gone');
    const results = await Promise.allSettled(sends);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as MessagingError).reason : 'ok'))).to.deep.equal([
      'ParticipantLeft',
      'ParticipantLeft',
    ]);
  });

  // Found by a review written as a hostile peer: each ping that came while this side's link took nothing was
  // answered with a ping of its own, queued without bound (over 100 MB a second on a relayed link).
  it('answers a flood of pings with one ping while its link takes nothing', async () => {
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const [a, b] = await pair({
      link: { highWaterBytes: 1000, lowWaterBytes: 100 },
      timeouts: { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 60_000 },
    });
    a.link.freezePeer(); // b reads nothing of a's from now on
    const filled = send(a.session, 'fill', { pad: 'x'.repeat(2000) }); // a's buffer is over its mark
    await sleep(60); // and a has written nothing for longer than the ping interval
    const pingsBefore = written(a.link, FrameKind.Ping);
    for (let i = 0; i < 2000; i++) b.link.write(encodeFrame({ kind: FrameKind.Ping }));
    await sleep(100);
    a.link.thawPeer();
    await filled;
    await sleep(50);
    expect(written(a.link, FrameKind.Ping) - pingsBefore, 'pings a wrote once it could').to.be.at.most(3);
  });

  // Found by the same review: a peer that grants a relayed link just enough credit for a ping now and then kept
  // the link taking bytes, so it was never closed, and the messages behind never left nor settled.
  it('closes a link that takes pings but no message frame for ackTimeoutMs while a message waits', async () => {
    const timeouts = { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 60_000, ackTimeoutMs: 300 };
    const [la, lb] = memoryLinkPair();
    // Each `writable` that says yes lets one frame (or one turn's batch) through.
    let credits = Infinity;
    const gated = new Proxy(la, {
      get(target, prop) {
        if (prop === 'writable') {
          if (credits <= 0 || !target.writable) return false;
          credits--;
          return true;
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const a = side('a', gated, timeouts, 1 << 20);
    const b = side('b', lb, timeouts, 1 << 20);
    await Promise.all([nextEvent(a.session, 'ready', 2000), nextEvent(b.session, 'ready', 2000)]);
    credits = 0;
    const closed = nextEvent(la, 'close', 3000);
    send(a.session, 'stuck', {}).catch(() => {}); // waits: the link takes nothing for it
    const started = Date.now();
    const pingsBefore = written(la, FrameKind.Ping);
    // The peer grants credit for one frame every 60 ms. By then a has been idle for three ping intervals, so
    // its heartbeat ping is queued, and goes ahead of the message (control frames go first).
    const trickle = setInterval(() => {
      credits = 1;
      la.announceWritable();
    }, 60);
    try {
      const [reason] = await closed;
      expect(reason).to.equal('took no message frame for 300 ms');
      expect(written(la, FrameKind.Ping) - pingsBefore, 'pings that went out meanwhile').to.be.at.least(3);
      expect(Date.now() - started).to.be.within(250, 2000);
      expect(written(la, FrameKind.Message), 'the message never left').to.equal(0);
    } finally {
      clearInterval(trickle);
    }
  });

  // Found by a review: a peer that dialed again got a fresh session and full buckets with it, so re-dialing
  // every half second doubled what its receive budget allowed.
  it('a peer that dials again keeps the receive budget it spent: one per participant, not per session', async () => {
    const budgets = new ReceiveBudgets({
      bytes: { bytesPerSecond: 1, burstBytes: 30_000 },
      decode: { msPerSecond: 1000, burstMs: 1000 },
    });
    const first = memoryLinkPair();
    const a1 = side('a', first[0], {}, 1 << 20, budgets);
    const b1 = side('b', first[1], {}, 1 << 20);
    await Promise.all([nextEvent(a1.session, 'ready', 2000), nextEvent(b1.session, 'ready', 2000)]);
    await send(b1.session, 'big', { pad: 'x'.repeat(20_000) }); // 20 KB of a's 30 KB
    expect(budgets.size).to.equal(1);
    b1.session.close('dialing again');
    a1.session.close('dialing again');
    const second = memoryLinkPair();
    const a2 = side('a', second[0], {}, 1 << 20, budgets);
    const b2 = side('b', second[1], {}, 1 << 20);
    await Promise.all([nextEvent(a2.session, 'ready', 2000), nextEvent(b2.session, 'ready', 2000)]);
    const closed = nextEvent(a2.session, 'close', 2000);
    send(b2.session, 'big', { pad: 'x'.repeat(20_000) }).catch(() => {}); // 40 KB in all: over the 30
    const [reason] = await closed;
    expect(reason).to.equal('over its receive budget');
  });

  it('lets go of the receive budgets that refilled, as other peers come', () => {
    const budgets = new ReceiveBudgets({
      bytes: { bytesPerSecond: 1000, burstBytes: 1000 },
      decode: { msPerSecond: 1000, burstMs: 1000 },
    });
    const p = budgets.for('p', 0);
    expect(p.arrived(500, 0)).to.equal(undefined);
    expect(budgets.for('p', 100), 'the same peer, its same budget').to.equal(p);
    budgets.for('q', 100); // p has refilled only 100 of its 500 bytes: kept
    expect(budgets.size).to.equal(2);
    budgets.for('r', 2000); // p and q have refilled by now
    expect(budgets.size).to.equal(1);
    expect(budgets.for('p', 2000), 'a new budget, as good as the old').to.not.equal(p);
  });
});
