/**
 * relay-first's hold on direct attempts: they start once the mesh is present and quiet, at most after the
 * longest hold, and never once cancelled; released, they start a few at a time.
 */
import { expect } from 'chai';
import { DirectGate } from '../../lib/mesh/DirectGate.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Pacing that never gets in the way of the holding tests. */
const PACE = { maxStarting: 100, slotMs: 10_000 };

describe('DirectGate: direct attempts held for the rest of the mesh', () => {
  it('holds attempts while a pair is on its way, and starts them a quiet moment after it is present', async () => {
    let present = false;
    const gate = new DirectGate({ mayStart: () => present, quietMs: 20, maxHoldMs: 10_000, ...PACE });
    const started: string[] = [];
    gate.hold(() => started.push('a'));
    gate.hold(() => started.push('b'));
    await sleep(60);
    expect(started).to.deep.equal([]);
    present = true;
    gate.changed();
    await sleep(5);
    expect(started, 'not before the quiet moment').to.deep.equal([]);
    await sleep(150);
    expect(started).to.deep.equal(['a', 'b']);
    gate.changed();
    await sleep(40);
    expect(started, 'each attempt starts once').to.deep.equal(['a', 'b']);
    gate.clear();
  });

  it('each change restarts the quiet moment', async () => {
    const gate = new DirectGate({ mayStart: () => true, quietMs: 40, maxHoldMs: 10_000, ...PACE });
    let started = 0;
    gate.hold(() => started++);
    for (let i = 0; i < 4; i++) {
      await sleep(20);
      gate.changed();
    }
    expect(started).to.equal(0);
    await sleep(70);
    expect(started).to.equal(1);
    gate.clear();
  });

  it('starts an attempt after the longest hold even when the mesh never is present', async () => {
    const gate = new DirectGate({ mayStart: () => false, quietMs: 5, maxHoldMs: 50, ...PACE });
    let started = 0;
    gate.hold(() => started++);
    await sleep(20);
    expect(started).to.equal(0);
    await sleep(60);
    expect(started).to.equal(1);
    gate.clear();
  });

  it('a cancelled attempt, or one held when the mesh closed, never starts', async () => {
    const gate = new DirectGate({ mayStart: () => true, quietMs: 5, maxHoldMs: 30, ...PACE });
    let started = 0;
    const cancel = gate.hold(() => started++);
    cancel();
    gate.hold(() => started++);
    gate.clear();
    await sleep(60);
    expect(started).to.equal(0);
  });

  it('starts released attempts at most `maxStarting` at a time, the next as one ends, in order', async () => {
    const gate = new DirectGate({
      mayStart: () => true,
      quietMs: 5,
      maxHoldMs: 10_000,
      maxStarting: 2,
      slotMs: 10_000,
    });
    const started: number[] = [];
    const done: Array<() => void> = [];
    for (let i = 0; i < 5; i++)
      gate.hold((d) => {
        started.push(i);
        done.push(d);
      });
    await sleep(40);
    expect(started).to.deep.equal([0, 1]);
    done[1]!();
    done[1]!(); // a second word of the same attempt frees nothing more
    expect(started).to.deep.equal([0, 1, 2]);
    done[0]!();
    expect(started).to.deep.equal([0, 1, 2, 3]);
    gate.clear();
    done[2]!();
    await sleep(10);
    expect(started, 'nothing after clear()').to.deep.equal([0, 1, 2, 3]);
  });

  it('an attempt that does not end keeps its place for `slotMs` only; one cancelled while waiting never starts', async () => {
    const gate = new DirectGate({ mayStart: () => true, quietMs: 5, maxHoldMs: 10_000, maxStarting: 1, slotMs: 50 });
    const started: number[] = [];
    gate.hold(() => started.push(0));
    const cancel = gate.hold(() => started.push(1));
    gate.hold(() => started.push(2));
    await sleep(25);
    expect(started).to.deep.equal([0]);
    cancel();
    await sleep(60);
    expect(started).to.deep.equal([0, 2]);
    gate.clear();
  });

  it('an attempt that ends at once (its pair closed meanwhile) lets the next start at once', async () => {
    const gate = new DirectGate({
      mayStart: () => true,
      quietMs: 5,
      maxHoldMs: 10_000,
      maxStarting: 1,
      slotMs: 10_000,
    });
    const started: number[] = [];
    for (let i = 0; i < 3; i++)
      gate.hold((d) => {
        started.push(i);
        if (i < 2) d();
      });
    await sleep(30);
    expect(started).to.deep.equal([0, 1, 2]);
    gate.clear();
  });
});
