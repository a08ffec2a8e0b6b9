/**
 * PendingSends: the sends of one link waiting for their acknowledgement. Pure logic with time passed in
 * (`expire(nowMs)`), so no clock is faked here.
 */
import { expect } from 'chai';
import { MessagingError } from '../../lib/errors.js';
import { type PendingSend, PendingSends } from '../../lib/session/PendingSends.js';

/** What happened to each send, by seq: 'ok', or the error's reason (or message when it has none). */
type Outcomes = Map<number, string>;

/** Adds a send of `seq` that records how it settled in `outcomes`. */
function add(pending: PendingSends, outcomes: Outcomes, seq: number, chunked = false): PendingSend {
  return pending.add(
    seq,
    chunked,
    () => {
      expect(outcomes.has(seq), `send ${seq} settled twice`).to.equal(false);
      outcomes.set(seq, 'ok');
    },
    (err) => {
      expect(outcomes.has(seq), `send ${seq} settled twice`).to.equal(false);
      outcomes.set(seq, (err as { reason?: string }).reason ?? err.message);
    },
  );
}

/** The outcomes as a plain object, seq order, for deep equality. */
const seen = (outcomes: Outcomes): Record<number, string> =>
  Object.fromEntries([...outcomes].sort(([a], [b]) => a - b));

describe('PendingSends', () => {
  it('resolves whole messages up to the acknowledged seq, in order, and no further', () => {
    const p = new PendingSends();
    const o: Outcomes = new Map();
    const order: number[] = [];
    for (let seq = 1; seq <= 5; seq++)
      p.add(
        seq,
        false,
        () => order.push(seq),
        () => order.push(-seq),
      );
    add(p, o, 6);
    expect(p.size).to.equal(6);
    p.ack(3, []);
    expect(order).to.deep.equal([1, 2, 3]);
    expect(p.size).to.equal(3);
    p.ack(3, []); // a repeated ack settles nothing twice
    expect(order).to.deep.equal([1, 2, 3]);
    p.ack(5, []);
    expect(order).to.deep.equal([1, 2, 3, 4, 5]);
    expect(seen(o)).to.deep.equal({});
    expect(p.size).to.equal(1);
    expect(p.hasWaiting).to.equal(true);
    p.ack(6, []);
    expect(seen(o)).to.deep.equal({ 6: 'ok' });
    expect(p.size).to.equal(0);
    expect(p.hasWaiting).to.equal(false);
  });

  it('keeps the chunked sends an ack lists as incomplete, and resolves them by a later ack', () => {
    const p = new PendingSends();
    const o: Outcomes = new Map();
    add(p, o, 1);
    add(p, o, 2, true);
    add(p, o, 3, true);
    add(p, o, 4);
    add(p, o, 5, true);
    p.ack(4, [2, 3]);
    expect(seen(o)).to.deep.equal({ 1: 'ok', 4: 'ok' });
    expect(p.size).to.equal(3);
    p.ack(5, [3]); // 2 completed after 3 was started: chunked sends complete out of order
    expect(seen(o)).to.deep.equal({ 1: 'ok', 2: 'ok', 4: 'ok', 5: 'ok' });
    p.ack(5, []);
    expect(seen(o)).to.deep.equal({ 1: 'ok', 2: 'ok', 3: 'ok', 4: 'ok', 5: 'ok' });
    expect(p.size).to.equal(0);
    expect(p.hasWaiting).to.equal(false);
  });

  it('does not resolve a chunked send whose seq is above the acknowledged one', () => {
    const p = new PendingSends();
    const o: Outcomes = new Map();
    add(p, o, 1, true);
    add(p, o, 2, true);
    p.ack(1, []);
    expect(seen(o)).to.deep.equal({ 1: 'ok' });
    expect(p.size).to.equal(1);
  });

  it('rejects a refused chunked send by seq, and a later ack covering it does not resolve it', () => {
    const p = new PendingSends();
    const o: Outcomes = new Map();
    add(p, o, 1, true);
    add(p, o, 2, true);
    p.rejectSeq(1, MessagingError.refused('peer', 'TooLarge'));
    p.rejectSeq(7, MessagingError.refused('peer', 'TooLarge')); // nothing waits with seq 7: nothing happens
    expect(seen(o)).to.deep.equal({ 1: 'Refused' });
    p.ack(2, []); // the receiver counts a refused seq as accounted for
    expect(seen(o)).to.deep.equal({ 1: 'Refused', 2: 'ok' });
  });

  it('rejects one cancelled send (abort) without touching the others, and the queue moves past it', () => {
    const p = new PendingSends();
    const o: Outcomes = new Map();
    add(p, o, 1);
    const second = add(p, o, 2);
    add(p, o, 3);
    const chunked = add(p, o, 4, true);
    p.reject(second, MessagingError.aborted('peer'));
    p.reject(chunked, MessagingError.aborted('peer'));
    p.reject(second, MessagingError.timeout('peer', 1)); // already settled: ignored
    expect(seen(o)).to.deep.equal({ 2: 'Aborted', 4: 'Aborted' });
    expect(second.settled).to.equal(true);
    expect(p.size).to.equal(2);
    p.ack(4, []);
    expect(seen(o)).to.deep.equal({ 1: 'ok', 2: 'Aborted', 3: 'ok', 4: 'Aborted' });
    expect(p.hasWaiting).to.equal(false);
  });

  it('expires only the sends whose deadline passed, with the error the callback makes', () => {
    const p = new PendingSends();
    const o: Outcomes = new Map();
    const a = add(p, o, 1);
    const b = add(p, o, 2);
    add(p, o, 3); // still being written: its deadline is Infinity
    const c = add(p, o, 4, true);
    add(p, o, 5, true); // chunks still going
    a.deadlineMs = 1000;
    b.deadlineMs = 2000;
    c.deadlineMs = 1500;
    let made = 0;
    const timeout = (): Error => {
      made++;
      return MessagingError.timeout('peer', 500);
    };
    p.expire(999, timeout);
    expect(seen(o)).to.deep.equal({});
    p.expire(1000, timeout); // a deadline is overdue from the millisecond it names
    expect(seen(o)).to.deep.equal({ 1: 'Timeout' });
    p.expire(1999, timeout);
    expect(seen(o)).to.deep.equal({ 1: 'Timeout', 4: 'Timeout' });
    p.expire(1e12, timeout);
    expect(seen(o)).to.deep.equal({ 1: 'Timeout', 2: 'Timeout', 4: 'Timeout' });
    expect(made).to.equal(3);
    expect(p.size).to.equal(2);
    p.ack(5, []);
    expect(seen(o)).to.deep.equal({ 1: 'Timeout', 2: 'Timeout', 3: 'ok', 4: 'Timeout', 5: 'ok' });
  });

  it('steps over a cancelled send at the head of the queue when it expires the ones behind it', () => {
    const p = new PendingSends();
    const o: Outcomes = new Map();
    const a = add(p, o, 1);
    const b = add(p, o, 2);
    p.reject(a, MessagingError.aborted('peer')); // its deadline stays Infinity
    b.deadlineMs = 10;
    p.expire(10, () => MessagingError.timeout('peer', 10));
    expect(seen(o)).to.deep.equal({ 1: 'Aborted', 2: 'Timeout' });
    expect(p.hasWaiting).to.equal(false);
  });

  it('rejects every send waiting, once, when the link closes', () => {
    const p = new PendingSends();
    const o: Outcomes = new Map();
    add(p, o, 1);
    add(p, o, 2, true);
    add(p, o, 3);
    p.ack(1, []);
    p.rejectAll(MessagingError.participantLeft('peer'));
    expect(seen(o)).to.deep.equal({ 1: 'ok', 2: 'ParticipantLeft', 3: 'ParticipantLeft' });
    expect(p.size).to.equal(0);
    expect(p.hasWaiting).to.equal(false);
    p.ack(3, []);
    p.rejectAll(MessagingError.participantLeft('peer'));
    expect(o.size).to.equal(3); // the settle-twice assertion in add() did not fire either
  });

  it('resolves tens of thousands of sends in order through many acks', () => {
    // Past the 1024 entries at which the queue compacts itself: the order must survive compaction.
    const p = new PendingSends();
    const order: number[] = [];
    const n = 20_000;
    for (let seq = 1; seq <= n; seq++)
      p.add(
        seq,
        false,
        () => order.push(seq),
        () => order.push(-seq),
      );
    for (let seq = 7; seq < n; seq += 7) p.ack(seq, []);
    expect(p.size).to.equal(n - Math.floor((n - 1) / 7) * 7);
    p.ack(n, []);
    expect(order.length).to.equal(n);
    expect(order.every((seq, i) => seq === i + 1)).to.equal(true);
    expect(p.hasWaiting).to.equal(false);
  });
});
