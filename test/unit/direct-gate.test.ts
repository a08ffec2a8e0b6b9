/**
 * relay-first's hold on direct attempts: they start once the mesh is present and quiet, at most after the
 * longest hold, and never once cancelled.
 */
import { expect } from 'chai';
import { DirectGate } from '../../lib/mesh/DirectGate.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('DirectGate: direct attempts held for the rest of the mesh', () => {
  it('holds attempts while a pair is on its way, and starts them a quiet moment after it is present', async () => {
    let present = false;
    const gate = new DirectGate({ mayStart: () => present, quietMs: 20, maxHoldMs: 10_000 });
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
    const gate = new DirectGate({ mayStart: () => true, quietMs: 40, maxHoldMs: 10_000 });
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
    const gate = new DirectGate({ mayStart: () => false, quietMs: 5, maxHoldMs: 50 });
    let started = 0;
    gate.hold(() => started++);
    await sleep(20);
    expect(started).to.equal(0);
    await sleep(60);
    expect(started).to.equal(1);
    gate.clear();
  });

  it('a cancelled attempt, or one held when the mesh closed, never starts', async () => {
    const gate = new DirectGate({ mayStart: () => true, quietMs: 5, maxHoldMs: 30 });
    let started = 0;
    const cancel = gate.hold(() => started++);
    cancel();
    gate.hold(() => started++);
    gate.clear();
    await sleep(60);
    expect(started).to.equal(0);
  });
});
