import { expect } from 'chai';
import { FrameBatch, type MessageSink } from '../../lib/session/FrameBatch.js';
import { AttachmentBudget, Inbox } from '../../lib/session/Inbox.js';
import { Outbox } from '../../lib/session/Outbox.js';
import { silentLogger } from '../../lib/logger.js';
import { type Frame, FrameKind, decodeFrames, encodeFrame, isFrameError } from '../../lib/protocol/frames.js';

/** A sink that records messages: the batch is pure logic, so a recording sink is enough here. */
function sink(): MessageSink & { messages: number[][]; open: boolean } {
  const s = {
    messages: [] as number[][],
    open: true,
    get writable() {
      return s.open;
    },
    write(bytes: Uint8Array) {
      if (!s.open) return false;
      s.messages.push([...bytes]);
      return true;
    },
  };
  return s;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A sink that keeps the very arrays it is given, to tell a frame passed through from a copy. */
function referenceSink(): MessageSink & { given: Uint8Array[] } {
  const given: Uint8Array[] = [];
  return {
    given,
    writable: true,
    write(bytes: Uint8Array) {
      given.push(bytes);
      return true;
    },
  };
}

const filled = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

describe('FrameBatch', () => {
  it('sends the frames written in one task as one message when the task ends', async () => {
    const s = sink();
    const b = new FrameBatch(s, 100);
    b.write(new Uint8Array([1, 2]));
    b.write(new Uint8Array([3]));
    expect(s.messages).to.deep.equal([]);
    expect(b.pendingBytes).to.equal(3);
    await tick();
    expect(s.messages).to.deep.equal([[1, 2, 3]]);
    b.write(new Uint8Array([4]));
    await tick();
    expect(s.messages).to.deep.equal([[1, 2, 3], [4]]);
  });

  it('writes the first message of a turn at once, with what waited, and batches the rest of the turn', async () => {
    const s = sink();
    const b = new FrameBatch(s, 100);
    b.write(new Uint8Array([1])); // an ack riding along
    b.write(new Uint8Array([2, 2]));
    expect(b.flushFirst()).to.equal(true);
    expect(s.messages).to.deep.equal([[1, 2, 2]]);
    b.write(new Uint8Array([3]));
    b.flushFirst(); // the turn already wrote at once: this one waits for the end of the turn
    b.write(new Uint8Array([4]));
    expect(s.messages).to.deep.equal([[1, 2, 2]]);
    await Promise.resolve(); // the end of the turn: what waits goes, and the next turn may write at once again
    expect(s.messages).to.deep.equal([
      [1, 2, 2],
      [3, 4],
    ]);
    b.write(new Uint8Array([5]));
    b.flushFirst();
    expect(s.messages).to.deep.equal([[1, 2, 2], [3, 4], [5]]);
    await tick();
    expect(s.messages).to.deep.equal([[1, 2, 2], [3, 4], [5]]);
  });

  it('writes frames that lie back to back in one buffer as one view of it, and copies frames that do not', async () => {
    const s = referenceSink();
    const b = new FrameBatch(s, 100);
    const encoded = new Uint8Array([9, 1, 2, 3, 4, 5, 9]);
    b.write(encoded.subarray(1, 3)); // an ack
    b.write(encoded.subarray(3, 6)); // the reply encoded right after it
    await tick();
    expect(s.given).to.have.length(1);
    expect(s.given[0]?.buffer).to.equal(encoded.buffer);
    expect([...(s.given[0] as Uint8Array)]).to.deep.equal([1, 2, 3, 4, 5]);
    b.write(encoded.subarray(1, 2));
    b.write(encoded.subarray(3, 4)); // a gap: not one view
    await tick();
    expect(s.given).to.have.length(2);
    expect(s.given[1]?.buffer).to.not.equal(encoded.buffer);
    expect([...(s.given[1] as Uint8Array)]).to.deep.equal([1, 3]);
  });

  it('never lets a message exceed the largest size, and keeps order around a large frame', async () => {
    const s = sink();
    const b = new FrameBatch(s, 16);
    for (let i = 1; i <= 6; i++) b.write(new Uint8Array([i, i, i])); // the sixth would make 18: the first five go
    b.write(new Uint8Array([9, 9, 9, 9, 9])); // over a quarter of the size: alone, after what waits
    b.write(new Uint8Array([4]));
    await tick();
    expect(s.messages).to.deep.equal([[1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5], [6, 6, 6], [9, 9, 9, 9, 9], [4]]);
    expect(s.messages.every((m) => m.length <= 16)).to.equal(true);
  });

  it('says when the link is gone, and drops what waits on clear()', async () => {
    const s = sink();
    const b = new FrameBatch(s, 8);
    b.write(new Uint8Array([1]));
    b.clear();
    await tick();
    expect(s.messages).to.deep.equal([]);
    s.open = false;
    b.write(new Uint8Array([2]));
    expect(b.flush()).to.equal(false);
    expect(b.write(new Uint8Array([7, 7, 7, 7, 7]))).to.equal(false);
  });

  it('flushes in the microtask after the writes, not later, and sends a lone frame as it is', async () => {
    const s = referenceSink();
    const b = new FrameBatch(s, 100);
    const frame = filled(10, 1);
    b.write(frame);
    expect(s.given.length).to.equal(0);
    await Promise.resolve(); // the flush was queued first, so it ran before this continuation
    expect(s.given.length).to.equal(1);
    expect(s.given[0]).to.equal(frame); // one frame: no copy into a new message
    expect(b.pendingBytes).to.equal(0);
  });

  it('batches frames up to exactly the largest size, and flushes first when the next would pass it', () => {
    const s = sink();
    const b = new FrameBatch(s, 100);
    for (let i = 0; i < 4; i++) b.write(filled(25, i)); // 25 * 4 = 100: small enough to batch, and fills it exactly
    expect(s.messages.length).to.equal(0);
    expect(b.pendingBytes).to.equal(100);
    b.write(filled(1, 9));
    expect(s.messages.map((m) => m.length)).to.deep.equal([100]);
    expect(b.pendingBytes).to.equal(1);
    expect(b.flush()).to.equal(true);
    expect(s.messages.map((m) => m.length)).to.deep.equal([100, 1]);
  });

  it('writes a frame over a quarter of the size at once, uncopied, after what waits', () => {
    // The outbox cuts every full chunk into one buffer it reuses: a chunk kept in the batch would be
    // overwritten by the next one. So a large frame must reach the sink before write() returns.
    const s = referenceSink();
    const b = new FrameBatch(s, 100);
    b.write(filled(3, 1));
    const large = filled(26, 2); // 26 * 4 > 100
    expect(b.write(large)).to.equal(true);
    expect(s.given.length).to.equal(2);
    expect([...(s.given[0] as Uint8Array)]).to.deep.equal([1, 1, 1]);
    expect(s.given[1]).to.equal(large);
    expect(b.pendingBytes).to.equal(0);
  });

  it('marks a large frame written on its own as bulk, and a batch of small frames as not (issue #13)', async () => {
    const writes: Array<[number, boolean | undefined]> = [];
    const b = new FrameBatch(
      {
        writable: true,
        write(bytes: Uint8Array, bulk?: boolean) {
          writes.push([bytes.byteLength, bulk]);
          return true;
        },
      },
      100,
    );
    b.write(filled(10, 1));
    b.write(filled(26, 2)); // 26 * 4 > 100: an attachment chunk's size
    b.write(filled(25, 3));
    await tick();
    expect(writes.map(([n, bulk]) => [n, bulk === true])).to.deep.equal([
      [10, false],
      [26, true],
      [25, false],
    ]);
  });

  it('takes a new largest size for both the batch bound and what counts as large', () => {
    const s = referenceSink();
    const b = new FrameBatch(s, 100);
    b.write(filled(20, 1)); // 80 <= 100: batched
    expect(s.given.length).to.equal(0);
    b.setMaxBytes(40);
    const now = filled(20, 2); // 80 > 40: large now
    b.write(now);
    expect(s.given.map((m) => m.length)).to.deep.equal([20, 20]);
    expect(s.given[1]).to.equal(now);
  });

  it("reports its sink's writable, and drops what waited when a flush finds the link gone", () => {
    const s = sink();
    const b = new FrameBatch(s, 10);
    expect(b.writable).to.equal(true);
    b.write(filled(2, 1));
    s.open = false;
    expect(b.writable).to.equal(false);
    expect(b.write(filled(2, 2))).to.equal(true); // still fits: only batched
    expect(b.pendingBytes).to.equal(4);
    expect(b.write(filled(2, 3))).to.equal(true);
    expect(b.write(filled(2, 4))).to.equal(true);
    expect(b.write(filled(2, 5))).to.equal(true);
    expect(b.write(filled(2, 6))).to.equal(false); // 12 > 10: the flush fails
    expect(b.pendingBytes).to.equal(0);
    expect(s.messages).to.deep.equal([]);
  });

  it('carries an outbox whose chunks reuse one buffer without mixing their bytes', async () => {
    // Outbox over FrameBatch, as a session joins them, both set to the same frame size.
    const messages: Uint8Array[] = [];
    const link: MessageSink = {
      writable: true,
      write(bytes) {
        messages.push(bytes.slice()); // a data channel copies what it is given
        return true;
      },
    };
    const frameBytes = 132;
    const batch = new FrameBatch(link, frameBytes);
    const outbox = new Outbox(batch, frameBytes, silentLogger);
    const attachment = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    const start = encodeFrame({ kind: FrameKind.Start, seq: 1, type: 'f', payload: {}, totalBytes: 1000 });
    outbox.pushMessage(1, start, attachment);
    outbox.pushMessage(2, encodeFrame({ kind: FrameKind.Message, seq: 2, type: 'm', payload: {} }), undefined);
    await tick();
    const frames: Frame[] = [];
    for (const m of messages) {
      for (const f of decodeFrames(m)) {
        if (isFrameError(f)) throw new Error(f.detail);
        frames.push(f);
      }
    }
    const inbox = new Inbox(1000, new AttachmentBudget(1000));
    let got: Uint8Array | undefined;
    for (const f of frames) {
      const r = f.kind === FrameKind.Start ? inbox.start(f) : f.kind === FrameKind.Chunk ? inbox.chunk(f) : undefined;
      expect(r?.kind).to.not.equal('violation');
      if (r?.kind === 'deliver') got = r.delivery.attachment;
    }
    expect([...(got ?? [])]).to.deep.equal([...attachment]);
    expect(frames.map((f) => f.kind)).to.include(FrameKind.Message);
    expect(messages.every((m) => m.byteLength <= frameBytes)).to.equal(true);
  });
});
