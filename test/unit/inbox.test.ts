/**
 * Inbox: the receiving half of a link, pure logic that returns an InboxResult per frame. The only clock it
 * reads is Date.now() (when a transfer last progressed), replaced here by a manual clock.
 */
import { expect } from 'chai';
import {
  AttachmentBudget,
  type BudgetHolder,
  Inbox,
  type InboxResult,
  RECLAIM_JUDGED_AFTER_MS,
  RECLAIM_SLOWER_THAN_MS,
} from '../../lib/session/Inbox.js';
import { FrameKind, type FrameOf, MAX_CONCURRENT_TRANSFERS } from '../../lib/protocol/frames.js';
import type { JsonObject } from '../../lib/protocol/json.js';

type MessageFrame = FrameOf<typeof FrameKind.Message>;
type StartFrame = FrameOf<typeof FrameKind.Start>;
const message = (
  seq: number,
  type = 'note',
  payload: JsonObject = { n: seq },
  attachment?: Uint8Array,
): MessageFrame =>
  attachment === undefined
    ? { kind: FrameKind.Message, seq, type, payload }
    : { kind: FrameKind.Message, seq, type, payload, attachment };
const start = (seq: number, totalBytes: number, type = 'file', payload: JsonObject = { n: seq }): StartFrame => ({
  kind: FrameKind.Start,
  seq,
  type,
  payload,
  totalBytes,
});
const chunk = (seq: number, offset: number, bytes: Uint8Array): FrameOf<typeof FrameKind.Chunk> => ({
  kind: FrameKind.Chunk,
  seq,
  offset,
  bytes,
});

/** `n` bytes that differ from one attachment to the next (`salt`) and along it. */
const bytesOf = (n: number, salt: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + salt) & 0xff);

/** The transfer of a result, as plain values (the inbox hands out its live transfer object). */
function transferOf(r: InboxResult): { seq: number; receivedBytes: number; totalBytes: number } | undefined {
  if (!('transfer' in r) || r.transfer === undefined) return undefined;
  const { seq, receivedBytes, totalBytes } = r.transfer;
  return { seq, receivedBytes, totalBytes };
}

/** Date.now() under the test's control. */
class ManualClock {
  nowMs = 1_000_000;
  readonly #real = Date.now;
  install(): void {
    Date.now = () => this.nowMs;
  }
  uninstall(): void {
    Date.now = this.#real;
  }
}

describe('Inbox', () => {
  const clock = new ManualClock();
  beforeEach(() => clock.install());
  afterEach(() => clock.uninstall());

  it('delivers whole messages in seq order and acknowledges up to the last', () => {
    const inbox = new Inbox(1000, new AttachmentBudget(10_000));
    expect(inbox.ackSeq).to.equal(0);
    const attachment = new Uint8Array([1, 2, 3]);
    expect(inbox.message(message(1))).to.deep.equal({
      kind: 'deliver',
      delivery: { seq: 1, type: 'note', payload: { n: 1 }, attachment: undefined },
    });
    expect(inbox.message(message(2, 'pic', { a: [true, null] }, attachment))).to.deep.equal({
      kind: 'deliver',
      delivery: { seq: 2, type: 'pic', payload: { a: [true, null] }, attachment },
    });
    expect(inbox.ackSeq).to.equal(2);
    expect(inbox.incomplete).to.deep.equal([]);
  });

  it('takes a seq out of order or skipped as a violation, ignores one repeated, and stays where it was', () => {
    const inbox = new Inbox(1000, new AttachmentBudget(10_000));
    expect(inbox.message(message(2))).to.deep.equal({ kind: 'violation', detail: 'message seq 2, expected 1' });
    expect(inbox.start(start(0, 10))).to.deep.equal({ kind: 'violation', detail: 'start seq 0, expected 1' });
    expect(inbox.ackSeq).to.equal(0);
    expect(inbox.message(message(1)).kind).to.equal('deliver');
    // Repeated (a sender replaying after a move between links): accounted for already, not delivered again.
    expect(inbox.message(message(1))).to.deep.equal({ kind: 'ignored' });
    expect(inbox.start(start(1, 10))).to.deep.equal({ kind: 'ignored' });
    expect(inbox.ackSeq).to.equal(1);
    expect(inbox.heldBytes).to.equal(0);
  });

  it('reassembles chunks into the announced attachment, with progress, holding its bytes until done', () => {
    const budget = new AttachmentBudget(10_000);
    const inbox = new Inbox(1000, budget);
    const data = bytesOf(250, 3);
    const started = inbox.start(start(1, 250, 'file', { name: 'a.bin' }));
    expect(started.kind).to.equal('progress');
    expect(transferOf(started)).to.deep.equal({ seq: 1, receivedBytes: 0, totalBytes: 250 });
    expect(started.kind === 'progress' && started.transfer.type).to.equal('file');
    expect(started.kind === 'progress' && started.transfer.payload).to.deep.equal({ name: 'a.bin' });
    expect(budget.heldBytes).to.equal(250);
    expect(inbox.heldBytes).to.equal(250);
    expect(inbox.ackSeq).to.equal(1);
    expect(inbox.incomplete).to.deep.equal([1]);

    const received: number[] = [];
    let last: InboxResult | undefined;
    for (let at = 0; at < 250; at += 100) {
      last = inbox.chunk(chunk(1, at, data.subarray(at, at + 100)));
      received.push(transferOf(last)?.receivedBytes ?? -1);
    }
    expect(received).to.deep.equal([100, 200, 250]);
    expect(last?.kind).to.equal('deliver');
    if (last?.kind !== 'deliver') return;
    expect(last.delivery.seq).to.equal(1);
    expect(last.delivery.payload).to.deep.equal({ name: 'a.bin' });
    expect([...(last.delivery.attachment ?? [])]).to.deep.equal([...data]);
    expect(budget.heldBytes).to.equal(0);
    expect(inbox.heldBytes).to.equal(0);
    expect(inbox.incomplete).to.deep.equal([]);
  });

  it(`interleaves the chunks of ${MAX_CONCURRENT_TRANSFERS} attachments with small messages`, () => {
    const budget = new AttachmentBudget(10_000);
    const inbox = new Inbox(1000, budget);
    const data = [1, 2, 3, 4].map((seq) => bytesOf(seq * 30, seq));
    for (const seq of [1, 2, 3, 4]) expect(inbox.start(start(seq, seq * 30)).kind).to.equal('progress');
    expect(inbox.message(message(5)).kind).to.equal('deliver');
    expect(inbox.ackSeq).to.equal(5);
    expect(inbox.incomplete).to.deep.equal([1, 2, 3, 4]);
    expect(budget.heldBytes).to.equal(300);

    // Round robin, 30 bytes a turn, with a small message after every round.
    const delivered: number[] = [];
    let nextMessage = 6;
    for (let round = 0; round < 4; round++) {
      for (const seq of [1, 2, 3, 4]) {
        const at = round * 30;
        if (at >= seq * 30) continue;
        const r = inbox.chunk(chunk(seq, at, (data[seq - 1] as Uint8Array).subarray(at, at + 30)));
        if (r.kind === 'deliver') {
          delivered.push(seq);
          expect([...(r.delivery.attachment ?? [])]).to.deep.equal([...(data[seq - 1] as Uint8Array)]);
        } else {
          expect(r.kind).to.equal('progress');
        }
      }
      const m = inbox.message(message(nextMessage));
      expect(m.kind === 'deliver' && m.delivery.seq).to.equal(nextMessage);
      nextMessage++;
      if (round === 1) expect(inbox.incomplete).to.deep.equal([3, 4]);
    }
    expect(delivered).to.deep.equal([1, 2, 3, 4]);
    expect(inbox.ackSeq).to.equal(9);
    expect(inbox.incomplete).to.deep.equal([]);
    expect(budget.heldBytes).to.equal(0);
  });

  it(`refuses a start past ${MAX_CONCURRENT_TRANSFERS} incomplete ones (TooManyTransfers), ignores its chunks`, () => {
    const budget = new AttachmentBudget(10_000);
    const inbox = new Inbox(1000, budget);
    for (let seq = 1; seq <= MAX_CONCURRENT_TRANSFERS; seq++) inbox.start(start(seq, 10));
    const fifth = MAX_CONCURRENT_TRANSFERS + 1;
    expect(inbox.start(start(fifth, 10))).to.deep.equal({
      kind: 'refuse',
      seq: fifth,
      reason: 'TooManyTransfers',
      detail: `started more than ${MAX_CONCURRENT_TRANSFERS} attachments at once`,
    });
    expect(budget.heldBytes).to.equal(10 * MAX_CONCURRENT_TRANSFERS);
    expect(inbox.ackSeq).to.equal(fifth); // the refused seq is accounted for: the next message follows it
    expect(inbox.incomplete).to.deep.equal([1, 2, 3, 4]);
    expect(inbox.chunk(chunk(fifth, 0, bytesOf(10, 0)))).to.deep.equal({ kind: 'ignored' }); // still in flight
    expect(inbox.cancel(fifth)).to.deep.equal({ kind: 'ignored' });
    expect(inbox.message(message(fifth + 1)).kind).to.equal('deliver');
    // A slot freed, a start is taken again.
    expect(inbox.chunk(chunk(1, 0, bytesOf(10, 0))).kind).to.equal('deliver');
    expect(inbox.start(start(fifth + 2, 10)).kind).to.equal('progress');
  });

  it('refuses an attachment above maxAttachmentBytes with TooLarge, reserving nothing', () => {
    const budget = new AttachmentBudget(10_000);
    const inbox = new Inbox(100, budget);
    expect(inbox.start(start(1, 101))).to.deep.equal({
      kind: 'refuse',
      seq: 1,
      reason: 'TooLarge',
      detail: 'announced a 101-byte attachment; this participant accepts at most 100',
    });
    expect(budget.heldBytes).to.equal(0);
    expect(inbox.incomplete).to.deep.equal([]);
    expect(inbox.chunk(chunk(1, 0, bytesOf(50, 0)))).to.deep.equal({ kind: 'ignored' });
    const atLimit = inbox.start(start(2, 100));
    expect(atLimit.kind).to.equal('progress');
    expect(budget.heldBytes).to.equal(100);
  });

  it('refuses with NoMemory when the budget shared by every link of the participant is spent', () => {
    const budget = new AttachmentBudget(1000);
    const fromAlice = new Inbox(1000, budget);
    const fromBob = new Inbox(1000, budget);
    expect(fromAlice.start(start(1, 700)).kind).to.equal('progress');
    expect(fromBob.start(start(1, 400))).to.deep.equal({
      kind: 'refuse',
      seq: 1,
      reason: 'NoMemory',
      detail: 'announced a 400-byte attachment; incomplete attachments already hold 700 of at most 1000 bytes',
    });
    expect(budget.heldBytes).to.equal(700);
    expect(fromBob.heldBytes).to.equal(0);
    expect(fromBob.start(start(2, 300)).kind).to.equal('progress'); // exactly up to the cap
    expect(budget.heldBytes).to.equal(1000);
    // Alice's attachment completes: its bytes go back to the budget, and Bob may start a large one.
    expect(fromAlice.chunk(chunk(1, 0, bytesOf(700, 1))).kind).to.equal('deliver');
    expect(budget.heldBytes).to.equal(300);
    expect(fromBob.start(start(3, 700)).kind).to.equal('progress');
    expect(budget.heldBytes).to.equal(1000);
  });

  it('delivers an empty attachment at its start, holding nothing', () => {
    const budget = new AttachmentBudget(10);
    const inbox = new Inbox(10, budget);
    const r = inbox.start(start(1, 0, 'empty', { x: 1 }));
    expect(r.kind).to.equal('deliver');
    if (r.kind !== 'deliver') return;
    expect(r.delivery.seq).to.equal(1);
    expect(r.delivery.type).to.equal('empty');
    expect(r.delivery.attachment?.byteLength).to.equal(0);
    expect(inbox.incomplete).to.deep.equal([]);
    expect(budget.heldBytes).to.equal(0);
  });

  describe('checks every chunk against what arrived', () => {
    const expected = 'expected offset 50 and at most 50 bytes';
    const cases: Array<[string, number, number, string]> = [
      ['an offset past what arrived', 60, 10, `chunk of message 1 at 60 with 10 bytes; ${expected}`],
      ['an offset before what arrived', 40, 10, `chunk of message 1 at 40 with 10 bytes; ${expected}`],
      ['no bytes', 50, 0, `chunk of message 1 at 50 with 0 bytes; ${expected}`],
      ['more bytes than announced', 50, 51, `chunk of message 1 at 50 with 51 bytes; ${expected}`],
    ];
    for (const [what, offset, length, detail] of cases) {
      it(`refuses a chunk with ${what} as Invalid, frees the attachment and ignores its later chunks`, () => {
        const budget = new AttachmentBudget(1000);
        const inbox = new Inbox(1000, budget);
        inbox.start(start(1, 100));
        expect(inbox.chunk(chunk(1, 0, bytesOf(50, 0))).kind).to.equal('progress');
        const r = inbox.chunk(chunk(1, offset, bytesOf(length, 0)));
        expect({ ...r, transfer: transferOf(r) }).to.deep.equal({
          kind: 'refuse',
          seq: 1,
          reason: 'Invalid',
          detail,
          transfer: { seq: 1, receivedBytes: 50, totalBytes: 100 },
        });
        expect(budget.heldBytes).to.equal(0);
        expect(inbox.heldBytes).to.equal(0);
        expect(inbox.incomplete).to.deep.equal([]);
        expect(inbox.chunk(chunk(1, 50, bytesOf(50, 0)))).to.deep.equal({ kind: 'ignored' });
        expect(inbox.cancel(1)).to.deep.equal({ kind: 'ignored' });
      });
    }

    it('takes a chunk of a message never started as a violation, and ignores one of a message complete', () => {
      const inbox = new Inbox(1000, new AttachmentBudget(1000));
      expect(inbox.chunk(chunk(1, 0, bytesOf(5, 0)))).to.deep.equal({
        kind: 'violation',
        detail: 'chunk of message 1, which is not being received',
      });
      inbox.start(start(1, 5));
      expect(inbox.chunk(chunk(1, 0, bytesOf(5, 0))).kind).to.equal('deliver');
      expect(inbox.chunk(chunk(1, 5, bytesOf(1, 0))).kind).to.equal('ignored');
      expect(inbox.chunk(chunk(2, 0, bytesOf(1, 0))).kind).to.equal('violation');
    });
  });

  it('forgets an attachment the sender cancelled, and accounts for a message cancelled before it left', () => {
    const budget = new AttachmentBudget(1000);
    const inbox = new Inbox(1000, budget);
    inbox.start(start(1, 100));
    inbox.chunk(chunk(1, 0, bytesOf(40, 0)));
    const r = inbox.cancel(1);
    expect(r.kind).to.equal('aborted');
    expect(transferOf(r)).to.deep.equal({ seq: 1, receivedBytes: 40, totalBytes: 100 });
    expect(budget.heldBytes).to.equal(0);
    expect(inbox.incomplete).to.deep.equal([]);
    expect(inbox.chunk(chunk(1, 40, bytesOf(60, 0)))).to.deep.equal({ kind: 'ignored' }); // was in flight

    expect(inbox.cancel(2)).to.deep.equal({ kind: 'ignored' }); // its cancel frame took its seq's place
    expect(inbox.ackSeq).to.equal(2);
    expect(inbox.message(message(3)).kind).to.equal('deliver');
    const unknown = (seq: number): InboxResult => ({
      kind: 'violation',
      detail: `cancel of message ${seq}, which is not being received`,
    });
    expect(inbox.cancel(3)).to.deep.equal({ kind: 'ignored' }); // delivered whole: accounted for
    expect(inbox.cancel(9)).to.deep.equal(unknown(9)); // not yet sent
    expect(inbox.ackSeq).to.equal(3);
  });

  it('refuses, as Stalled, only the attachments without a chunk since the time asked', () => {
    const budget = new AttachmentBudget(1000);
    const inbox = new Inbox(1000, budget);
    inbox.start(start(1, 100));
    inbox.start(start(2, 100));
    clock.nowMs += 1000;
    inbox.chunk(chunk(2, 0, bytesOf(30, 0)));
    clock.nowMs += 400;
    // Timeout 500 ms: seq 1 has had nothing for 1400 ms, seq 2 had a chunk 400 ms ago.
    const results = inbox.stalled(clock.nowMs - 500, 500);
    expect(results.map((r) => ({ ...r, transfer: transferOf(r) }))).to.deep.equal([
      {
        kind: 'refuse',
        seq: 1,
        reason: 'Stalled',
        detail: 'no chunk of message 1 for 500 ms (0 of 100 bytes arrived)',
        transfer: { seq: 1, receivedBytes: 0, totalBytes: 100 },
      },
    ]);
    expect(inbox.incomplete).to.deep.equal([2]);
    expect(budget.heldBytes).to.equal(100);
    expect(inbox.chunk(chunk(1, 0, bytesOf(30, 0)))).to.deep.equal({ kind: 'ignored' }); // late chunk: no violation
    expect(inbox.stalled(clock.nowMs - 500, 500)).to.deep.equal([]); // asked again: nothing new
    clock.nowMs += 100; // seq 2's chunk is now exactly 500 ms old: still in time
    expect(inbox.stalled(clock.nowMs - 500, 500)).to.deep.equal([]);
    clock.nowMs += 1;
    expect(inbox.stalled(clock.nowMs - 500, 500).map((r) => r.kind === 'refuse' && r.seq)).to.deep.equal([2]);
    expect(budget.heldBytes).to.equal(0);
  });

  it('drops and returns every attachment still arriving when the link closes, giving the budget back', () => {
    const budget = new AttachmentBudget(1000);
    const inbox = new Inbox(1000, budget);
    const other = new Inbox(1000, budget);
    inbox.start(start(1, 100));
    inbox.start(start(2, 200));
    inbox.chunk(chunk(2, 0, bytesOf(20, 0)));
    other.start(start(1, 300));
    expect(budget.heldBytes).to.equal(600);
    const dropped = inbox.clear();
    expect(dropped.map((t) => [t.seq, t.receivedBytes, t.totalBytes])).to.deep.equal([
      [1, 0, 100],
      [2, 20, 200],
    ]);
    expect(budget.heldBytes).to.equal(300); // the other link's attachment keeps its share
    expect(inbox.heldBytes).to.equal(0);
    expect(inbox.incomplete).to.deep.equal([]);
    expect(inbox.clear()).to.deep.equal([]);
    expect(budget.heldBytes).to.equal(300);
  });

  it('holds nothing per dropped seq: the chunks of any seq accounted for are ignored', () => {
    // One peer may have many refused starts; what the inbox keeps about them must not grow with their number.
    const inbox = new Inbox(1, new AttachmentBudget(1000));
    for (let seq = 1; seq <= 200; seq++) expect(inbox.start(start(seq, 2)).kind).to.equal('refuse');
    expect(inbox.chunk(chunk(200, 0, bytesOf(2, 0)))).to.deep.equal({ kind: 'ignored' });
    expect(inbox.chunk(chunk(1, 0, bytesOf(2, 0)))).to.deep.equal({ kind: 'ignored' });
    expect(inbox.chunk(chunk(201, 0, bytesOf(2, 0))).kind).to.equal('violation'); // not yet started
  });

  it('restarts from offset 0 an attachment whose start comes again while it arrives (a sender that moved twice)', () => {
    const budget = new AttachmentBudget(1000);
    const inbox = new Inbox(1000, budget);
    inbox.start(start(1, 100));
    inbox.chunk(chunk(1, 0, bytesOf(40, 0)));
    // Restarted quietly: 40 bytes were reported already, and progress never goes backwards.
    expect(inbox.start(start(1, 100))).to.deep.equal({ kind: 'ignored' });
    expect(budget.heldBytes).to.equal(100); // the same reservation, not a second one
    expect(inbox.chunk(chunk(1, 0, bytesOf(30, 3)))).to.deep.equal({ kind: 'ignored' }); // not past 40 yet
    const more = inbox.chunk(chunk(1, 30, bytesOf(20, 3)));
    expect(transferOf(more)).to.deep.equal({ seq: 1, receivedBytes: 50, totalBytes: 100 });
    inbox.start(start(1, 100)); // and once more from 0
    const done = inbox.chunk(chunk(1, 0, bytesOf(100, 3)));
    expect(done.kind === 'deliver' ? done.delivery.attachment : undefined).to.deep.equal(bytesOf(100, 3));
    expect(budget.heldBytes).to.equal(0);
  });

  it('parks attachments still arriving on a move: budget given back, still incomplete, restarted from 0', () => {
    const budget = new AttachmentBudget(1000);
    const inbox = new Inbox(1000, budget);
    inbox.start(start(1, 100));
    inbox.chunk(chunk(1, 0, bytesOf(40, 0)));
    inbox.start(start(2, 50));
    expect(budget.heldBytes).to.equal(150);
    inbox.park();
    expect(budget.heldBytes).to.equal(0);
    expect(inbox.heldBytes).to.equal(0);
    expect(inbox.incomplete).to.have.members([1, 2]); // no ack may read them as delivered
    expect(inbox.chunk(chunk(1, 40, bytesOf(60, 0)))).to.deep.equal({ kind: 'ignored' }); // from the old link
    // Sent again from offset 0: the budget is taken again (no progress reported below the 40 bytes seen), the bytes are whole.
    expect(inbox.start(start(1, 100)).kind).to.equal('ignored');
    expect(budget.heldBytes).to.equal(100);
    const r = inbox.chunk(chunk(1, 0, bytesOf(100, 7)));
    expect(r.kind).to.equal('deliver');
    expect(r.kind === 'deliver' ? r.delivery.attachment : undefined).to.deep.equal(bytesOf(100, 7));
    expect(budget.heldBytes).to.equal(0);
    // The other was withdrawn meanwhile: its cancel aborts it.
    expect(inbox.cancel(2).kind).to.equal('aborted');
    expect(inbox.incomplete).to.deep.equal([]);
    expect(inbox.ackSeq).to.equal(2);
  });

  describe('when the budget is full, the slowest attachments give their bytes to a new one', () => {
    /** Inboxes of one participant, one per peer, sharing a budget, each a holder as its session's receiver is. */
    function peers(budgetBytes: number, names: string[]) {
      const budget = new AttachmentBudget(budgetBytes);
      const evicted: Array<{ peer: string; result: InboxResult | undefined }> = [];
      const inboxes = new Map<string, Inbox>();
      for (const peer of names) {
        const inbox = new Inbox(budgetBytes, budget);
        const holder: BudgetHolder = {
          slowTransfers: (nowMs) => inbox.slowTransfers(nowMs),
          evict: (seq, detail) => evicted.push({ peer, result: inbox.evict(seq, detail) }),
        };
        budget.addHolder(holder);
        inboxes.set(peer, inbox);
      }
      return { budget, evicted, of: (peer: string) => inboxes.get(peer)! };
    }

    it('takes the slowest, once judged, and only as many as the new start needs', () => {
      const { budget, evicted, of } = peers(1000, ['trickle', 'slower', 'honest']);
      expect(of('trickle').start(start(1, 500)).kind).to.equal('progress');
      expect(of('slower').start(start(1, 500)).kind).to.equal('progress');
      // A chunk every few seconds keeps each under the stall timeout: 5 and 2 bytes in 10 s.
      clock.nowMs += 5000;
      of('trickle').chunk(chunk(1, 0, bytesOf(5, 1)));
      of('slower').chunk(chunk(1, 0, bytesOf(2, 1)));
      clock.nowMs += RECLAIM_JUDGED_AFTER_MS - 5000 - 1;
      // Not judged yet: refused as before.
      expect(of('honest').start(start(1, 400)).kind).to.equal('refuse');
      expect(evicted).to.deep.equal([]);
      clock.nowMs += 1;
      // Both are slow now (16 and 41 minutes to go); the slower alone is enough.
      expect(
        of('trickle')
          .slowTransfers(clock.nowMs)
          .map((t) => Math.round(t.finishMs / 1000)),
      ).to.deep.equal([990]);
      const r = of('honest').start(start(2, 400));
      expect(r.kind).to.equal('progress');
      expect(evicted).to.have.length(1);
      expect(evicted[0]!.peer).to.equal('slower');
      const refusal = evicted[0]!.result;
      expect(refusal?.kind === 'refuse' && { seq: refusal.seq, reason: refusal.reason }).to.deep.equal({
        seq: 1,
        reason: 'NoMemory',
      });
      expect(refusal?.kind === 'refuse' ? refusal.detail : '').to.match(
        /attachment 1 would take 2490 s to finish at its rate so far; its 500 bytes went to a new attachment/,
      );
      expect(budget.heldBytes).to.equal(900);
      expect(of('slower').incomplete).to.deep.equal([]);
      expect(of('slower').ackSeq).to.equal(1); // accounted for: its refusal goes ahead of any ack
      expect(of('slower').chunk(chunk(1, 2, bytesOf(2, 1)))).to.deep.equal({ kind: 'ignored' });
      expect(of('trickle').incomplete).to.deep.equal([1]);
    });

    it('takes none that is on course to finish within 10 minutes, nor any when together they cannot free enough', () => {
      const { budget, evicted, of } = peers(1000, ['steady', 'trickle', 'new']);
      of('steady').start(start(1, 600));
      of('trickle').start(start(1, 300));
      // 60 bytes in 10 s: the rest in 90 s. Nothing of the other at all.
      clock.nowMs += RECLAIM_JUDGED_AFTER_MS;
      of('steady').chunk(chunk(1, 0, bytesOf(60, 1)));
      expect(of('steady').slowTransfers(clock.nowMs)).to.deep.equal([]);
      expect(of('trickle').slowTransfers(clock.nowMs)).to.deep.equal([{ seq: 1, bytes: 300, finishMs: Infinity }]);
      // 500 bytes are needed, 300 can be freed: nothing is taken.
      expect(of('new').start(start(1, 600)).kind).to.equal('refuse');
      expect(evicted).to.deep.equal([]);
      expect(budget.heldBytes).to.equal(900);
      // 300 are enough for this one.
      expect(of('new').start(start(2, 350)).kind).to.equal('progress');
      expect(evicted.map((e) => e.peer)).to.deep.equal(['trickle']);
      expect(budget.heldBytes).to.equal(950);
    });

    it('judges an attachment from its first start: sending the start again does not make it young', () => {
      const { evicted, of } = peers(1000, ['again', 'new']);
      of('again').start(start(1, 1000));
      clock.nowMs += RECLAIM_JUDGED_AFTER_MS;
      of('again').chunk(chunk(1, 0, bytesOf(1, 1)));
      expect(of('again').start(start(1, 1000)).kind).to.equal('ignored'); // from offset 0 again
      of('again').chunk(chunk(1, 0, bytesOf(1, 1)));
      expect(of('new').start(start(1, 10)).kind).to.equal('progress');
      expect(evicted.map((e) => e.peer)).to.deep.equal(['again']);
      // Slow is relative to the 10 minutes: 1 of 1000 bytes in 10 s is 2.8 hours to go.
      expect(RECLAIM_SLOWER_THAN_MS).to.equal(600_000);
    });
  });
});
