/**
 * Outbox: the order frames leave one link in. It writes to a sink; the sink here records every frame,
 * decoded with the protocol's own decoder, and its `writable` is toggled by the test. No timers.
 */
import { expect } from 'chai';
import { MessagingError } from '../../lib/errors.js';
import { AttachmentBudget, Inbox, type InboxResult } from '../../lib/session/Inbox.js';
import {
  type FrameSink,
  UNACKNOWLEDGED_BEHIND,
  Outbox,
  type OutgoingMessage,
  type ProgressCallback,
} from '../../lib/session/Outbox.js';
import { PendingSends } from '../../lib/session/PendingSends.js';
import type { Logger } from '../../lib/logger.js';
import {
  CHUNK_OVERHEAD_BYTES,
  type Frame,
  FrameKind,
  MAX_CONCURRENT_TRANSFERS,
  decodeFrames,
  encodeFrame,
  isFrameError,
} from '../../lib/protocol/frames.js';

/** A chunk frame of this size carries 100 attachment bytes: small numbers, easy to read in expectations. */
const CHUNK_FRAME = 100 + CHUNK_OVERHEAD_BYTES;

/** Records the frames written, decoded; refuses writes while `writable` is false, like a full channel. */
class RecordingSink implements FrameSink {
  readonly frames: Frame[] = [];
  /** Writes left before the sink stops being writable by itself (a high-water mark); Infinity: never. */
  writesUntilFull = Infinity;
  #writable = true;

  get writable(): boolean {
    return this.#writable && this.writesUntilFull > 0;
  }

  set writable(v: boolean) {
    this.#writable = v;
  }

  write(bytes: Uint8Array): boolean {
    // A write while not writable is a backpressure failure: it fails the test through the outbox's call.
    if (!this.writable) throw new Error('written while not writable');
    this.writesUntilFull--;
    // Copied first: full chunks are cut into one buffer the outbox reuses, and cbor-x returns views.
    for (const f of decodeFrames(bytes.slice())) {
      if (isFrameError(f)) throw new Error(`the outbox wrote a bad frame: ${f.error} ${f.detail}`);
      this.frames.push(f);
    }
    return true;
  }

  /** The frames written, as short strings. */
  get shown(): string[] {
    return this.frames.map(show);
  }
}

function show(f: Frame): string {
  switch (f.kind) {
    case FrameKind.Message:
      return `msg ${f.seq}`;
    case FrameKind.Start:
      return `start ${f.seq}/${f.totalBytes}`;
    case FrameKind.Chunk:
      return `chunk ${f.seq}@${f.offset}+${f.bytes.byteLength}`;
    case FrameKind.Cancel:
      return `cancel ${f.seq}`;
    case FrameKind.Ack:
      return `ack ${f.seq}`;
    case FrameKind.Refuse:
      return `refuse ${f.seq} ${f.reason}`;
    case FrameKind.Ping:
      return 'ping';
    default:
      return `kind ${f.kind}`;
  }
}

/** A logger that keeps what it is given at error level. */
function recordingLogger(): Logger & { errors: Array<[object, string | undefined]> } {
  const errors: Array<[object, string | undefined]> = [];
  const noop = (): void => {};
  return { debug: noop, info: noop, warn: noop, error: (obj, msg) => errors.push([obj, msg]), errors };
}

const messageFrame = (seq: number): Uint8Array =>
  encodeFrame({ kind: FrameKind.Message, seq, type: 'm', payload: { seq } });
const startFrame = (seq: number, totalBytes: number): Uint8Array =>
  encodeFrame({ kind: FrameKind.Start, seq, type: 'f', payload: { seq }, totalBytes });
const bytesOf = (n: number, salt: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 13 + salt) & 0xff);

/** Pushes a message with an attachment sent in chunks. */
function pushAttachment(
  outbox: Outbox,
  seq: number,
  attachment: Uint8Array,
  onProgress?: ProgressCallback,
  tag?: unknown,
): OutgoingMessage {
  return outbox.pushMessage(seq, startFrame(seq, attachment.byteLength), attachment, onProgress, tag);
}

/** Feeds frames to a receiving inbox, as a session would: the results of the data frames, in order. */
function receive(inbox: Inbox, frames: readonly Frame[]): InboxResult[] {
  const out: InboxResult[] = [];
  for (const f of frames) {
    if (f.kind === FrameKind.Message) out.push(inbox.message(f));
    else if (f.kind === FrameKind.Start) out.push(inbox.start(f));
    else if (f.kind === FrameKind.Chunk) out.push(inbox.chunk(f));
    else if (f.kind === FrameKind.Cancel) out.push(inbox.cancel(f.seq));
  }
  return out;
}

/** The attachments an inbox delivered, by seq, and every violation it saw. */
function deliveries(results: readonly InboxResult[]): {
  bySeq: Map<number, Uint8Array | undefined>;
  violations: string[];
} {
  const bySeq = new Map<number, Uint8Array | undefined>();
  const violations: string[] = [];
  for (const r of results) {
    if (r.kind === 'deliver') bySeq.set(r.delivery.seq, r.delivery.attachment);
    if (r.kind === 'violation') violations.push(r.detail);
  }
  return { bySeq, violations };
}

const newOutbox = (sink: FrameSink, onSent?: (tag: unknown) => void, logger: Logger = recordingLogger()): Outbox =>
  new Outbox(sink, CHUNK_FRAME, logger, onSent);

describe('Outbox', () => {
  it('counts the messages written and not acknowledged, once each: an ack and a refusal take them off, a move does not', () => {
    const sink = new RecordingSink();
    const outbox = newOutbox(sink);
    for (let seq = 1; seq <= 10; seq++) outbox.pushMessage(seq, messageFrame(seq), undefined);
    pushAttachment(outbox, 11, bytesOf(250, 1)); // counted once its last chunk left: its start frame only
    expect([outbox.unacknowledged, outbox.unacknowledgedBytes]).to.deep.equal([
      11,
      Array.from({ length: 10 }, (_, i) => messageFrame(i + 1).byteLength).reduce((a, b) => a + b) +
        startFrame(11, 250).byteLength,
    ]);
    outbox.acknowledged(4, []);
    expect(outbox.unacknowledged).to.equal(7);
    outbox.refused(5);
    expect(outbox.unacknowledged).to.equal(6);
    const oldest = outbox.oldestUnacknowledgedAtMs;
    expect(oldest).to.be.a('number');
    sink.writable = false;
    outbox.rewind(); // a move: they wait for the same acks, and keep their age
    expect(outbox.unacknowledged).to.equal(6);
    sink.writable = true;
    outbox.pump();
    expect([outbox.unacknowledged, outbox.oldestUnacknowledgedAtMs]).to.deep.equal([6, oldest]);
    outbox.acknowledged(11, []);
    expect([outbox.unacknowledged, outbox.unacknowledgedBytes]).to.deep.equal([0, 0]);
    expect([outbox.behind, outbox.oldestUnacknowledgedAtMs]).to.deep.equal([false, undefined]);
  });

  it(`the peer is behind past ${UNACKNOWLEDGED_BEHIND.messages} messages waiting (or their bytes); the oldest is the first written`, async () => {
    const sink = { writable: true, write: () => true };
    const outbox = newOutbox(sink);
    const frame = messageFrame(1);
    const before = Date.now();
    pushAttachment(outbox, 1, bytesOf(10_000, 1));
    outbox.pushMessage(2, frame, undefined);
    await new Promise((r) => setTimeout(r, 20));
    for (let seq = 3; seq <= UNACKNOWLEDGED_BEHIND.messages; seq++) outbox.pushMessage(seq, frame, undefined);
    expect(outbox.behind).to.equal(false);
    outbox.pushMessage(UNACKNOWLEDGED_BEHIND.messages + 1, frame, undefined);
    expect(outbox.behind).to.equal(true);
    const oldest = outbox.oldestUnacknowledgedAtMs!;
    expect(oldest)
      .to.be.at.least(before)
      .and.below(before + 15);
    outbox.acknowledged(2, []);
    expect(outbox.behind).to.equal(false);
    expect(outbox.oldestUnacknowledgedAtMs).to.be.at.least(oldest + 15); // seq 3, written 20 ms later
    // In bytes: large whole messages, far fewer of them.
    const large = newOutbox(sink);
    const big = new Uint8Array(256 * 1024);
    const count = UNACKNOWLEDGED_BEHIND.bytes / big.byteLength;
    for (let seq = 1; seq <= count; seq++) large.pushMessage(seq, big, undefined);
    expect(large.behind).to.equal(false);
    large.pushMessage(count + 1, big, undefined);
    expect(large.behind).to.equal(true);
  });

  it('writes a small message at once on an idle writable link, and tells onSent its tag', () => {
    const sink = new RecordingSink();
    const sent: unknown[] = [];
    const outbox = newOutbox(sink, (tag) => sent.push(tag));
    const m1 = outbox.pushMessage(1, messageFrame(1), undefined, undefined, 'tag-1');
    expect(sink.shown).to.deep.equal(['msg 1']);
    expect(m1.state).to.equal('sent');
    expect(sent).to.deep.equal(['tag-1']);
    const m2 = outbox.pushMessage(2, messageFrame(2), undefined); // untagged: onSent is not told
    expect(m2.state).to.equal('sent');
    expect(sent).to.deep.equal(['tag-1']);
    expect(outbox.isEmpty).to.equal(true);
  });

  it('sends control frames ahead of messages, urgent ones first, and encodes a deferred one at its turn', () => {
    const sink = new RecordingSink();
    sink.writable = false;
    const outbox = newOutbox(sink);
    let acked = 1;
    outbox.pushMessage(1, messageFrame(1), undefined);
    outbox.pushControl(encodeFrame({ kind: FrameKind.Ping }));
    outbox.pushControl(() => encodeFrame({ kind: FrameKind.Ack, seq: acked, incomplete: [] }));
    outbox.pushControl(() => undefined); // an ack that found nothing new to say
    outbox.pushControl(encodeFrame({ kind: FrameKind.Refuse, seq: 4, reason: 'TooLarge' }), true);
    expect(sink.frames).to.deep.equal([]);
    expect(outbox.isEmpty).to.equal(false);
    acked = 7; // what the ack says is decided when it is written, not when it was queued
    sink.writable = true;
    outbox.pump();
    expect(sink.shown).to.deep.equal(['refuse 4 TooLarge', 'ping', 'ack 7', 'msg 1']);
    expect(outbox.isEmpty).to.equal(true);
  });

  it('cuts an attachment into chunks of the chunk frame size, reports progress, tells onSent after the last', () => {
    const sink = new RecordingSink();
    const sent: unknown[] = [];
    const outbox = newOutbox(sink, (tag) => sent.push(tag));
    const data = bytesOf(250, 1);
    const progress: Array<[number, number]> = [];
    const m = pushAttachment(outbox, 1, data, (s, t) => progress.push([s, t]), 'tag');
    expect(sink.shown).to.deep.equal(['start 1/250', 'chunk 1@0+100', 'chunk 1@100+100', 'chunk 1@200+50']);
    expect(progress).to.deep.equal([
      [0, 250],
      [100, 250],
      [200, 250],
      [250, 250],
    ]);
    expect(m.state).to.equal('sent');
    expect(sent).to.deep.equal(['tag']);
    const { bySeq, violations } = deliveries(receive(new Inbox(1000, new AttachmentBudget(1000)), sink.frames));
    expect(violations).to.deep.equal([]);
    expect([...(bySeq.get(1) ?? [])]).to.deep.equal([...data]);
  });

  it('uses a new chunk frame size for the chunks after it is set', () => {
    const sink = new RecordingSink();
    sink.writable = false;
    const outbox = newOutbox(sink);
    pushAttachment(outbox, 1, bytesOf(300, 2));
    sink.writesUntilFull = 2;
    sink.writable = true;
    outbox.pump();
    outbox.setChunkFrameBytes(50 + CHUNK_OVERHEAD_BYTES);
    sink.writesUntilFull = Infinity;
    outbox.pump();
    expect(sink.shown).to.deep.equal([
      'start 1/300',
      'chunk 1@0+100',
      'chunk 1@100+50',
      'chunk 1@150+50',
      'chunk 1@200+50',
      'chunk 1@250+50',
    ]);
  });

  it(`interleaves up to ${MAX_CONCURRENT_TRANSFERS} attachments with small messages; the next waits for a slot`, () => {
    const sink = new RecordingSink();
    sink.writable = false;
    const outbox = newOutbox(sink);
    const sizes = new Map([
      [1, 500],
      [2, 300],
      [3, 700],
      [4, 400],
      [6, 200],
    ]);
    const data = new Map([...sizes].map(([seq, n]) => [seq, bytesOf(n, seq)]));
    for (const seq of [1, 2, 3, 4]) pushAttachment(outbox, seq, data.get(seq) as Uint8Array);
    outbox.pushMessage(5, messageFrame(5), undefined);
    pushAttachment(outbox, 6, data.get(6) as Uint8Array);
    outbox.pushMessage(7, messageFrame(7), undefined);
    sink.writable = true;
    outbox.pump();
    expect(outbox.isEmpty).to.equal(true);

    const shown = sink.shown;
    // Whole messages and start frames leave in seq order.
    expect(shown.filter((s) => !s.startsWith('chunk'))).to.deep.equal([
      'start 1/500',
      'start 2/300',
      'start 3/700',
      'start 4/400',
      'msg 5',
      'start 6/200',
      'msg 7',
    ]);
    // The small message goes out after at most one chunk of each transfer.
    const chunksBefore5 = shown.slice(shown.indexOf('start 4/400') + 1, shown.indexOf('msg 5'));
    expect(chunksBefore5.length).to.be.at.most(MAX_CONCURRENT_TRANSFERS);
    // Never more than the limit started and unfinished; the fifth started only when one had finished.
    const open = new Set<number>();
    let most = 0;
    for (const f of sink.frames) {
      if (f.kind === FrameKind.Start) open.add(f.seq);
      if (f.kind === FrameKind.Chunk && f.offset + f.bytes.byteLength === sizes.get(f.seq)) open.delete(f.seq);
      most = Math.max(most, open.size);
    }
    expect(most).to.equal(MAX_CONCURRENT_TRANSFERS);
    // Lanes take turns: between two chunks of one transfer, at most one frame of each other lane.
    const lastAt = new Map<number, number>();
    sink.frames.forEach((f, i) => {
      if (f.kind !== FrameKind.Chunk) return;
      const previous = lastAt.get(f.seq);
      const gap = previous === undefined ? 0 : i - previous - 1;
      expect(gap, `frames between ${show(f)} and the chunk before it`).to.be.at.most(MAX_CONCURRENT_TRANSFERS);
      lastAt.set(f.seq, i);
    });
    // The receiver takes all of it and rebuilds every attachment.
    const inbox = new Inbox(1000, new AttachmentBudget(10_000));
    const { bySeq, violations } = deliveries(receive(inbox, sink.frames));
    expect(violations).to.deep.equal([]);
    expect([...bySeq.keys()].sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    for (const [seq, bytes] of data) expect([...(bySeq.get(seq) ?? [])], `attachment ${seq}`).to.deep.equal([...bytes]);
    expect(inbox.ackSeq).to.equal(7);
  });

  it('writes nothing while the link is not writable, resumes on pump(), and loses nothing', () => {
    const sink = new RecordingSink();
    const outbox = newOutbox(sink);
    const big = bytesOf(1000, 9);
    sink.writesUntilFull = 3; // the channel fills after three frames
    pushAttachment(outbox, 1, big);
    expect(sink.shown).to.deep.equal(['start 1/1000', 'chunk 1@0+100', 'chunk 1@100+100']);
    // While full: pushes queue, nothing is written (the sink throws if written to).
    outbox.pushMessage(2, messageFrame(2), undefined);
    outbox.pushControl(encodeFrame({ kind: FrameKind.Ping }));
    outbox.pump();
    expect(sink.frames.length).to.equal(3);
    let wakeups = 0;
    while (!outbox.isEmpty) {
      sink.writesUntilFull = 2; // the writable signal: room for two frames
      outbox.pump();
      wakeups++;
      expect(wakeups).to.be.below(20);
    }
    const shown = sink.shown;
    expect(shown.slice(3, 5)).to.deep.equal(['ping', 'msg 2']); // control first, then the message lane's turn
    expect(shown.filter((s) => s.startsWith('chunk')).length).to.equal(10);
    // A small message pushed on an idle link after all that still goes at once.
    sink.writesUntilFull = Infinity;
    outbox.pushMessage(3, messageFrame(3), undefined);
    expect(sink.shown.at(-1)).to.equal('msg 3');
    const { bySeq, violations } = deliveries(receive(new Inbox(1000, new AttachmentBudget(1000)), sink.frames));
    expect(violations).to.deep.equal([]);
    expect([...(bySeq.get(1) ?? [])]).to.deep.equal([...big]);
    expect([...bySeq.keys()]).to.deep.equal([2, 1, 3]);
  });

  it('keeps seq order when the link becomes writable again before the owner pumps', () => {
    const sink = new RecordingSink();
    sink.writable = false;
    const outbox = newOutbox(sink);
    outbox.pushMessage(1, messageFrame(1), undefined);
    sink.writable = true; // the writable signal has not reached the owner yet
    outbox.pushMessage(2, messageFrame(2), undefined); // must not overtake message 1
    outbox.pump();
    expect(sink.shown).to.deep.equal(['msg 1', 'msg 2']);
  });

  describe('cancel', () => {
    it('puts a cancel frame in the place of a message that has not left, without waiting for a transfer slot', () => {
      const sink = new RecordingSink();
      sink.writable = false;
      const sent: unknown[] = [];
      const outbox = newOutbox(sink, (tag) => sent.push(tag));
      for (const seq of [1, 2, 3, 4]) pushAttachment(outbox, seq, bytesOf(500, seq));
      const fifth = pushAttachment(outbox, 5, bytesOf(150, 5), undefined, 'fifth');
      const small = outbox.pushMessage(6, messageFrame(6), undefined, undefined, 'small');
      outbox.pushMessage(7, messageFrame(7), undefined);
      expect(outbox.cancel(fifth)).to.equal(true);
      expect(outbox.cancel(small)).to.equal(true);
      expect(fifth.state).to.equal('dropped');
      expect(outbox.cancel(fifth)).to.equal(false); // already dropped
      sink.writable = true;
      outbox.pump();
      const shown = sink.shown;
      expect(shown.filter((s) => !s.startsWith('chunk'))).to.deep.equal([
        'start 1/500',
        'start 2/500',
        'start 3/500',
        'start 4/500',
        'cancel 5',
        'cancel 6',
        'msg 7',
      ]);
      // The cancel frames did not wait for a transfer to end: they take no slot.
      expect(shown.indexOf('cancel 5')).to.be.below(shown.indexOf('chunk 1@400+100'));
      expect(sink.shown.filter((s) => s.includes(' 5') || s.includes(' 6'))).to.deep.equal(['cancel 5', 'cancel 6']);
      expect(sent).to.deep.equal([]);
      const inbox = new Inbox(1000, new AttachmentBudget(10_000));
      const { bySeq, violations } = deliveries(receive(inbox, sink.frames));
      expect(violations).to.deep.equal([]);
      expect([...bySeq.keys()].sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 7]);
      expect(inbox.ackSeq).to.equal(7);
    });

    it('stops the chunks of a message being sent, sends a cancel frame next, and frees its slot', () => {
      const sink = new RecordingSink();
      const sent: unknown[] = [];
      const outbox = newOutbox(sink, (tag) => sent.push(tag));
      const progress: number[] = [];
      sink.writesUntilFull = 3;
      const m = pushAttachment(outbox, 1, bytesOf(500, 1), (s) => progress.push(s), 'tag');
      for (const seq of [2, 3, 4, 5]) pushAttachment(outbox, seq, bytesOf(100, seq)); // the fifth waits for a slot
      expect(m.state).to.equal('sending');
      expect(outbox.cancel(m)).to.equal(true);
      expect(m.state).to.equal('dropped');
      sink.writesUntilFull = Infinity;
      outbox.pump();
      const shown = sink.shown;
      expect(shown.slice(0, 4)).to.deep.equal(['start 1/500', 'chunk 1@0+100', 'chunk 1@100+100', 'cancel 1']);
      expect(shown.filter((s) => s.startsWith('chunk 1'))).to.deep.equal(['chunk 1@0+100', 'chunk 1@100+100']);
      expect(progress).to.deep.equal([0, 100, 200]);
      expect(sent).to.deep.equal([]);
      expect(outbox.cancel(m)).to.equal(false);
      const inbox = new Inbox(1000, new AttachmentBudget(1000));
      const results = receive(inbox, sink.frames);
      expect(results.filter((r) => r.kind === 'aborted').length).to.equal(1);
      const { bySeq, violations } = deliveries(results);
      expect(violations).to.deep.equal([]);
      expect([...bySeq.keys()].sort((a, b) => a - b)).to.deep.equal([2, 3, 4, 5]);
    });

    it('returns false once every frame of the message left', () => {
      const sink = new RecordingSink();
      const outbox = newOutbox(sink);
      const whole = outbox.pushMessage(1, messageFrame(1), undefined);
      const chunked = pushAttachment(outbox, 2, bytesOf(150, 2));
      expect(outbox.cancel(whole)).to.equal(false);
      expect(outbox.cancel(chunked)).to.equal(false);
      expect(sink.shown).to.deep.equal(['msg 1', 'start 2/150', 'chunk 2@0+100', 'chunk 2@100+50']);
    });

    it('turns an AbortSignal into a cancel frame and an Aborted rejection, as a session wires them', async () => {
      // The wiring of Session.sendMessage, reduced to the two managers it joins.
      const sink = new RecordingSink();
      const pending = new PendingSends();
      const outbox = newOutbox(sink, (tag) => {
        (tag as { deadlineMs: number }).deadlineMs = 0;
      });
      const controller = new AbortController();
      sink.writesUntilFull = 2;
      const sending = new Promise<void>((resolve, reject) => {
        const p = pending.add(1, true, resolve, reject);
        const message = outbox.pushMessage(1, startFrame(1, 400), bytesOf(400, 1), undefined, p);
        controller.signal.addEventListener(
          'abort',
          () => {
            outbox.cancel(message);
            pending.reject(p, MessagingError.aborted('peer'));
          },
          { once: true },
        );
      });
      controller.abort();
      sink.writesUntilFull = Infinity;
      outbox.pump();
      const err = await sending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(MessagingError);
      expect((err as MessagingError).reason).to.equal('Aborted');
      expect(sink.shown).to.deep.equal(['start 1/400', 'chunk 1@0+100', 'cancel 1']);
      expect(pending.hasWaiting).to.equal(false);
      pending.ack(1, []); // the receiver's ack of the cancelled seq changes nothing
      expect(outbox.isEmpty).to.equal(true);
    });

    // An app aborting at 100% (signal.abort() in onProgress) is too late: the message has left whole, and
    // a cancel frame after its last chunk would be a violation at a receiver that delivered it.
    it('a cancel from the progress callback of the last chunk does not send a cancel frame after it', () => {
      const sink = new RecordingSink();
      const sent: unknown[] = [];
      const outbox = newOutbox(sink, (tag) => sent.push(tag));
      let cancelled: boolean | undefined;
      sink.writable = false; // so that the message exists before its callbacks run
      const message = pushAttachment(
        outbox,
        1,
        bytesOf(200, 1),
        (s, t) => {
          if (s === t) cancelled = outbox.cancel(message);
        },
        'tag',
      );
      sink.writable = true;
      outbox.pump();
      const { violations } = deliveries(receive(new Inbox(1000, new AttachmentBudget(1000)), sink.frames));
      expect(violations).to.deep.equal([]);
      expect(sink.shown).to.deep.equal(['start 1/200', 'chunk 1@0+100', 'chunk 1@100+100']);
      expect(cancelled).to.equal(false);
      expect(message.state).to.equal('sent');
      expect(sent).to.deep.equal(['tag']);
    });

    it('stops cleanly when cancelled from a progress callback before the last chunk', () => {
      const sink = new RecordingSink();
      const outbox = newOutbox(sink);
      sink.writable = false; // so that the message exists before its callbacks run
      const message = pushAttachment(outbox, 1, bytesOf(300, 1), (s) => {
        if (s === 100) outbox.cancel(message);
      });
      outbox.pushMessage(2, messageFrame(2), undefined);
      sink.writable = true;
      outbox.pump();
      expect(sink.shown).to.deep.equal(['start 1/300', 'msg 2', 'chunk 1@0+100', 'cancel 1']);
      expect(message.state).to.equal('dropped');
      const { violations } = deliveries(receive(new Inbox(1000, new AttachmentBudget(1000)), sink.frames));
      expect(violations).to.deep.equal([]);
    });
  });

  it('stops the chunks of a message the receiver refused, without a cancel frame', () => {
    const sink = new RecordingSink();
    const outbox = newOutbox(sink);
    sink.writesUntilFull = 2;
    const m = pushAttachment(outbox, 1, bytesOf(500, 1));
    expect(outbox.refused(1)).to.equal(m);
    expect(m.state).to.equal('dropped');
    expect(outbox.refused(1)).to.equal(undefined);
    expect(outbox.refused(99)).to.equal(undefined);
    sink.writesUntilFull = Infinity;
    outbox.pushMessage(2, messageFrame(2), undefined);
    expect(sink.shown).to.deep.equal(['start 1/500', 'chunk 1@0+100', 'msg 2']);
    expect(outbox.isEmpty).to.equal(true);
  });

  describe('holding messages until acknowledged, and rewinding', () => {
    it('sends every unacknowledged message again in seq order: attachments from 0, cancelled ones as cancel', () => {
      const sink = new RecordingSink();
      const outbox = newOutbox(sink);
      outbox.pushMessage(1, messageFrame(1), undefined);
      pushAttachment(outbox, 2, bytesOf(250, 2));
      outbox.pushMessage(3, messageFrame(3), undefined);
      sink.writable = false;
      const cancelled = pushAttachment(outbox, 4, bytesOf(250, 4));
      expect(outbox.cancel(cancelled)).to.equal(true); // before any of it left
      outbox.pushMessage(5, messageFrame(5), undefined, undefined); // no tag: a no-ack send is held too
      sink.writable = true;
      outbox.pump();
      expect(outbox.heldCount).to.equal(5);
      outbox.acknowledged(1, []);
      expect(outbox.heldCount).to.equal(4);
      sink.frames.length = 0;
      outbox.rewind();
      expect(sink.shown).to.deep.equal([
        'start 2/250',
        'msg 3',
        'chunk 2@0+100',
        'cancel 4',
        'chunk 2@100+100',
        'msg 5',
        'chunk 2@200+50',
      ]);
      // What a receiver that had 1..3 makes of it: nothing twice, nothing out of order.
      const inbox = new Inbox(1000, new AttachmentBudget(1000));
      receive(inbox, [{ kind: FrameKind.Message, seq: 1, type: 'm', payload: {} }]);
      const { bySeq, violations } = deliveries(receive(inbox, sink.frames));
      expect(violations).to.deep.equal([]);
      expect([...bySeq.keys()]).to.deep.equal([3, 5, 2]); // 2 is whole at its last chunk
      expect(bySeq.get(2)).to.deep.equal(bytesOf(250, 2));
    });

    it('keeps a message an ack lists as incomplete, releases the ones after it, and the rest on a later ack', () => {
      const sink = new RecordingSink();
      const outbox = newOutbox(sink);
      pushAttachment(outbox, 1, bytesOf(250, 1));
      for (let seq = 2; seq <= 2000; seq++) outbox.pushMessage(seq, messageFrame(seq), undefined);
      outbox.acknowledged(1500, [1]);
      expect(outbox.heldCount).to.equal(501);
      sink.frames.length = 0;
      outbox.rewind();
      expect(sink.shown.slice(0, 2)).to.deep.equal(['start 1/250', 'msg 1501']);
      outbox.acknowledged(2000, []);
      expect(outbox.heldCount).to.equal(0);
    });

    it('does not send again a message acknowledged while it waited to go again', () => {
      const sink = new RecordingSink();
      const outbox = newOutbox(sink);
      for (let seq = 1; seq <= 3; seq++) outbox.pushMessage(seq, messageFrame(seq), undefined);
      sink.writable = false;
      outbox.rewind();
      outbox.acknowledged(2, []);
      sink.frames.length = 0;
      sink.writable = true;
      outbox.pump();
      expect(sink.shown).to.deep.equal(['msg 3']);
    });

    it('turns a held message the receiver refused into its cancel frame', () => {
      const sink = new RecordingSink();
      const outbox = newOutbox(sink);
      pushAttachment(outbox, 1, bytesOf(150, 1));
      outbox.refused(1);
      sink.frames.length = 0;
      outbox.rewind();
      expect(sink.shown).to.deep.equal(['cancel 1']);
    });
  });

  it('logs what a progress callback throws and keeps sending', () => {
    const sink = new RecordingSink();
    const logger = recordingLogger();
    const outbox = newOutbox(sink, undefined, logger);
    const boom = new Error('app bug');
    pushAttachment(outbox, 1, bytesOf(150, 1), () => {
      throw boom;
    });
    expect(sink.shown).to.deep.equal(['start 1/150', 'chunk 1@0+100', 'chunk 1@100+50']);
    const logged: [object, string] = [{ err: boom }, 'a send callback threw'];
    expect(logger.errors).to.deep.equal([logged, logged, logged]); // at 0, 100 and 150 bytes
  });

  it('drops everything on close, and ignores what is pushed after', () => {
    const sink = new RecordingSink();
    sink.writable = false;
    const outbox = newOutbox(sink);
    pushAttachment(outbox, 1, bytesOf(500, 1));
    outbox.pushMessage(2, messageFrame(2), undefined);
    outbox.pushControl(encodeFrame({ kind: FrameKind.Ping }));
    outbox.close();
    expect(outbox.isEmpty).to.equal(true);
    sink.writable = true;
    expect(outbox.pushMessage(3, messageFrame(3), undefined).state).to.equal('dropped');
    outbox.pushControl(encodeFrame({ kind: FrameKind.Ping }));
    outbox.pump();
    expect(sink.frames).to.deep.equal([]);
  });

  // Session.#plan sends an empty attachment chunked when the JSON payload is too large for a whole
  // message of the chunk size; the receiver delivers it at its start frame, so no chunk may follow.
  it('sends only the start frame of an empty attachment sent in chunks', () => {
    const sink = new RecordingSink();
    const sent: unknown[] = [];
    const outbox = newOutbox(sink, (tag) => sent.push(tag));
    const m = pushAttachment(outbox, 1, new Uint8Array(0), undefined, 'tag');
    const { bySeq, violations } = deliveries(receive(new Inbox(1000, new AttachmentBudget(1000)), sink.frames));
    expect(violations).to.deep.equal([]);
    expect(bySeq.get(1)?.byteLength).to.equal(0);
    expect(sink.shown).to.deep.equal(['start 1/0']);
    expect(m.state).to.equal('sent');
    expect(sent).to.deep.equal(['tag']);
  });
});
