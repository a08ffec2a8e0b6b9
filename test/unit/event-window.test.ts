/**
 * The client's event window: at most `limit` events in flight, the rest waiting in order; an in-order reply
 * frees every earlier slot, an out-of-order refusal only its own; the event that fills the window and one in
 * `ackEvery` ask for an acknowledgement; a failed window drops what waits. And the relay pacer waiting on it.
 */
import { expect } from 'chai';
import { ConnectionError } from '../../lib/errors.js';
import { answeredInOrder, EventWindow, type EventSlot, windowFor } from '../../lib/signaling/EventWindow.js';
import { RelayPacer } from '../../lib/signaling/RelayPacer.js';

/** Takes `n` ack-less events; returns the slots of those emitted so far (in order) and what was dropped. */
function fill(w: EventWindow, n: number, emitted: Array<{ i: number; slot: EventSlot }>, dropped: number[]): void {
  for (let i = emitted.length + w.waiting; n > 0; n--, i++) {
    const at = i;
    w.take(
      false,
      (slot) => emitted.push({ i: at, slot }),
      () => dropped.push(at),
    );
  }
}

describe('EventWindow: the client’s events in flight to the server', () => {
  it('emits at most `limit` events; the rest wait in order and go as replies free slots', () => {
    const w = new EventWindow(4, 100);
    const emitted: Array<{ i: number; slot: EventSlot }> = [];
    fill(w, 10, emitted, []);
    expect(emitted.map((e) => e.i)).to.deep.equal([0, 1, 2, 3]);
    expect(w.inFlight).to.equal(4);
    expect(w.waiting).to.equal(6);
    // The one that filled the window asked for an acknowledgement, so an answer is always coming.
    expect(emitted.map((e) => e.slot.ack)).to.deep.equal([false, false, false, true]);
    emitted[3]!.slot.answered(true);
    expect(emitted.map((e) => e.i)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(w.inFlight).to.equal(4);
    emitted[7]!.slot.answered(true);
    expect(emitted.map((e) => e.i)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(w.waiting).to.equal(0);
    expect(w.inFlight).to.equal(2);
  });

  it('an out-of-order refusal frees only its own slot', () => {
    const w = new EventWindow(3, 100);
    const emitted: Array<{ i: number; slot: EventSlot }> = [];
    fill(w, 5, emitted, []);
    emitted[2]!.slot.answered(false);
    expect(w.inFlight).to.equal(3);
    expect(emitted.map((e) => e.i)).to.deep.equal([0, 1, 2, 3]);
    emitted[3]!.slot.answered(true);
    expect(w.inFlight).to.equal(1);
  });

  it('asks for an acknowledgement on one ack-less event in `ackEvery`; an acknowledged event restarts the count', () => {
    const w = new EventWindow(100, 3);
    const asks: boolean[] = [];
    for (let i = 0; i < 7; i++)
      w.take(
        i === 4,
        (slot) => asks.push(slot.ack),
        () => undefined,
      );
    expect(asks).to.deep.equal([false, false, true, false, true, false, false]);
  });

  it('fail() drops what waits, and everything taken later', () => {
    const w = new EventWindow(2, 100);
    const emitted: Array<{ i: number; slot: EventSlot }> = [];
    const dropped: number[] = [];
    fill(w, 4, emitted, dropped);
    w.fail();
    expect(dropped).to.deep.equal([2, 3]);
    emitted[1]!.slot.answered(true); // a late answer changes nothing
    w.take(
      false,
      () => expect.fail('emitted after fail()'),
      () => dropped.push(4),
    );
    expect(dropped).to.deep.equal([2, 3, 4]);
    expect(emitted.map((e) => e.i)).to.deep.equal([0, 1]);
  });

  it('keeps a quarter of the server’s limit spare, and reads which replies came in order', () => {
    expect(windowFor(64).limit).to.equal(48);
    expect(windowFor(1).limit).to.equal(1);
    expect(answeredInOrder({ ok: true, data: undefined })).to.equal(true);
    expect(answeredInOrder({ ok: false, error: { reason: 'SignalRateLimited', message: '' } })).to.equal(true);
    expect(answeredInOrder({ ok: false, error: { reason: 'TooManyRequests', message: '' } })).to.equal(false);
    expect(answeredInOrder({ ok: false, error: { reason: 'PayloadTooLarge', message: '' } })).to.equal(false);
    expect(answeredInOrder(undefined)).to.equal(false);
  });
});

describe('RelayPacer over an EventWindow', () => {
  it('holds frames while the window is full and sends them in order as it frees; fail() rejects what waits', async () => {
    const w = new EventWindow(2, 100);
    const wire: Array<{ n: number; slot: EventSlot }> = [];
    const pacer = new RelayPacer({ maxFrameBytes: 1000, bytesPerSecond: 0, burstBytes: 0 }, (_to, data, sent) =>
      w.take(
        false,
        (slot) => {
          wire.push({ n: data[0]!, slot });
          sent(true);
        },
        () => sent(false),
      ),
    );
    const results: string[] = [];
    const sends = [0, 1, 2, 3, 4].map((n) =>
      pacer.send('b', new Uint8Array([n])).then(
        () => results.push(`sent ${n}`),
        () => results.push(`failed ${n}`),
      ),
    );
    expect(wire.map((x) => x.n)).to.deep.equal([0, 1]);
    wire[1]!.slot.answered(true);
    expect(wire.map((x) => x.n)).to.deep.equal([0, 1, 2, 3]);
    pacer.fail(ConnectionError.disconnected('relay'));
    w.fail();
    await Promise.all(sends);
    expect(results).to.deep.equal(['sent 0', 'sent 1', 'sent 2', 'sent 3', 'failed 4']);
    expect(wire.map((x) => x.n)).to.deep.equal([0, 1, 2, 3]);
  });
});

describe('EventWindow: withdrawing an event that waits', () => {
  it('takes it out while it waits, and does nothing once it ran', () => {
    const w = new EventWindow(1, 100);
    const ran: number[] = [];
    const first = w.take(
      true,
      () => ran.push(0),
      () => undefined,
    );
    let slot: EventSlot | undefined;
    const second = w.take(
      true,
      (s) => {
        slot = s;
        ran.push(1);
      },
      () => undefined,
    );
    const third = w.take(
      true,
      () => ran.push(2),
      () => undefined,
    );
    expect(w.withdraw(first)).to.equal(false); // it ran at once
    expect(w.withdraw(second)).to.equal(true);
    expect(w.waiting).to.equal(1);
    expect(w.withdraw(second)).to.equal(false);
    w.fail();
    expect(w.withdraw(third)).to.equal(false); // dropped with the window
    expect(ran).to.deep.equal([0]);
    expect(slot).to.equal(undefined);
  });
});
