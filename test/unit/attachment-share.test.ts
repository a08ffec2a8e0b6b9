/**
 * What a receiver holds of one peer's incomplete attachments is bounded (half of its budget over all peers,
 * at least one of its largest), and its hello says how much: a sender waits for its transfers under way
 * rather than start one past that, as it waits for a transfer slot. Found by a review: with the defaults,
 * a third 256 MiB attachment sent at once was refused (`Refused`, `NoMemory`), which README's error table
 * said a well-behaved peer never causes. And an attachment small enough to go in its message's own frame
 * reports its progress once, when the frame goes; a request that times out stops sending its attachment; a
 * reply's attachment keeps to the answering side's own limit, as its sends do.
 * Two messaging stacks over the rehearsal's in-memory relaying signaling (pure logic: the frames pass through
 * memory, sealed as on the wire).
 */
import { expect } from 'chai';
import { DEFAULT_RECEIVE_LIMITS } from '../../lib/defaults.js';
import type { RequestError } from '../../lib/errors.js';
import { LoopSignaling } from '../../lib/rehearsal.js';
import { eventually } from '../support/harness.js';
import { loopSide } from '../support/loop-side.js';

const MiB = 1024 * 1024;

describe('attachments: what the receiver holds of one peer, and progress', function () {
  this.timeout(20_000);

  it('three attachments sent at once, each over half of what the receiver holds of one peer: all delivered, one after another', async () => {
    const limits = {
      maxAttachmentBytes: 2 * MiB,
      // One peer may hold half of 4 MiB: two of these 1.5 MiB attachments do not fit at once.
      receiveLimits: { ...DEFAULT_RECEIVE_LIMITS, maxIncomingAttachmentBytesTotal: 4 * MiB },
    };
    const a = await loopSide('aaaa', undefined, limits);
    const b = await loopSide('bbbb', undefined, limits);
    LoopSignaling.pair(a.signaling, b.signaling);
    const got: number[] = [];
    const errors: string[] = [];
    b.messaging.on('message', (m) => got.push(m.attachment?.[0] ?? -1));
    b.messaging.on('error', (e) => errors.push(e.message));
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await eventually(() => a.messaging.getParticipant('bbbb') !== undefined, 5000, 'bob present');
      const sends = [1, 2, 3].map((n) =>
        a.messaging.sendMessage({
          to: 'bbbb',
          type: 'file',
          message: { n },
          attachment: new Uint8Array(1.5 * MiB).fill(n),
        }),
      );
      const settled = await Promise.allSettled(sends);
      expect(settled.map((s) => (s.status === 'fulfilled' ? 'ok' : String(s.reason)))).to.deep.equal([
        'ok',
        'ok',
        'ok',
      ]);
      expect(got).to.deep.equal([1, 2, 3]);
      expect(errors).to.deep.equal([]);
    } finally {
      await a.messaging.disable();
      await b.messaging.disable();
    }
  });

  it('a request that times out stops sending its attachment, and its handler never runs', async () => {
    const limits = { maxAttachmentBytes: 64 * MiB };
    const a = await loopSide('aaaa', undefined, limits);
    const b = await loopSide('bbbb', undefined, limits);
    LoopSignaling.pair(a.signaling, b.signaling);
    let handled = 0;
    b.messaging.handle('upload', () => {
      handled++;
      return { message: {} };
    });
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await eventually(() => a.messaging.getParticipant('bbbb') !== undefined, 5000, 'bob present');
      let sent = 0;
      const err = await a.messaging
        .request({
          to: 'bbbb',
          type: 'upload',
          message: {},
          attachment: new Uint8Array(64 * MiB),
          timeoutMs: 10,
          onProgress: (p) => (sent = p.sentBytes),
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((err as RequestError).reason).to.equal('Timeout');
      const atTimeout = sent;
      expect(atTimeout).to.be.below(64 * MiB);
      // The relay paces at the server's default 4 MiB/s here: a send that went on would pass megabytes.
      await new Promise((r) => setTimeout(r, 1000));
      expect(sent, 'bytes handed to the link after the timeout').to.equal(atTimeout);
      expect(handled).to.equal(0);
      // The link is free for what comes next.
      expect((await a.messaging.request({ to: 'bbbb', type: 'upload', message: {} })).message).to.deep.equal({});
      expect(handled).to.equal(1);
    } finally {
      await a.messaging.disable();
      await b.messaging.disable();
    }
  });

  // README: `maxAttachmentBytes` is the largest attachment sent or accepted; a reply was checked against the
  // asker's limit only.
  it("a reply attachment above the answering side's own maxAttachmentBytes fails HandlerFailed, as its send would", async () => {
    const a = await loopSide('aaaa', undefined, { maxAttachmentBytes: 4096 });
    const b = await loopSide('bbbb', undefined, { maxAttachmentBytes: 1024 });
    LoopSignaling.pair(a.signaling, b.signaling);
    b.messaging.handle('file', (req) => ({ message: {}, attachment: new Uint8Array(req.message.n as number) }));
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await eventually(() => a.messaging.getParticipant('bbbb') !== undefined, 5000, 'bob present');
      const reply = await a.messaging.request({ to: 'bbbb', type: 'file', message: { n: 1024 } });
      expect(reply.attachment?.byteLength).to.equal(1024);
      const err = (await a.messaging.request({ to: 'bbbb', type: 'file', message: { n: 1025 } }).then(
        () => undefined,
        (e: unknown) => e,
      )) as RequestError;
      expect(err.reason).to.equal('HandlerFailed');
      expect(err.message).to.contain('attachment is 1025 bytes; maxAttachmentBytes is 1024');
    } finally {
      await a.messaging.disable();
      await b.messaging.disable();
    }
  });

  it('an attachment that goes in its message frame reports its progress once, whole', async () => {
    const a = await loopSide('aaaa');
    const b = await loopSide('bbbb');
    LoopSignaling.pair(a.signaling, b.signaling);
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await eventually(() => a.messaging.getParticipant('bbbb') !== undefined, 5000, 'bob present');
      const reports: Array<[number, number]> = [];
      await a.messaging.sendMessage({
        to: 'bbbb',
        type: 'file',
        message: {},
        attachment: new Uint8Array(1000),
        onProgress: (p) => reports.push([p.sentBytes, p.totalBytes]),
      });
      expect(reports).to.deep.equal([[1000, 1000]]);
      const broadcastReports: Array<[number, number]> = [];
      await a.messaging.broadcastMessage({
        type: 'file',
        message: {},
        attachment: new Uint8Array(10),
        onProgress: (p) => broadcastReports.push([p.sentBytes, p.totalBytes]),
      });
      expect(broadcastReports.length).to.be.greaterThan(0);
      expect(broadcastReports.at(-1)).to.deep.equal([10, 10]);
    } finally {
      await a.messaging.disable();
      await b.messaging.disable();
    }
  });
});
