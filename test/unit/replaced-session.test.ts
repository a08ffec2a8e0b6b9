/**
 * A session replaced while up: the peer ends its side and dials again while this side's session is still
 * up (this process stalled past the heartbeat timeout). Two messaging stacks over the rehearsal's in-memory
 * relaying signaling (pure logic: the relayed links' frames pass through memory, sealed as on the wire). The
 * presence carries over (same object, no added or removed), and a request that waited on the replaced
 * session settles `ParticipantLeft` instead of waiting for good; a request after it is answered.
 * Found by a review of long-lived processes: each replacement added a `participant_added` and kept the old
 * session's request state, and a request with `timeoutMs: Infinity` never settled, even after disconnect.
 */
import { expect } from 'chai';
import { RequestError } from '../../lib/errors.js';
import { LoopSignaling } from '../../lib/rehearsal.js';
import { eventually } from '../support/harness.js';
import { loopSide } from '../support/loop-side.js';
import type { Session } from '../../lib/session/Session.js';

describe('a session replaced while up', function () {
  this.timeout(15_000);

  it('keeps the presence, and settles the requests that waited on the old session', async () => {
    const a = await loopSide('aaaa');
    const b = await loopSide('bbbb');
    LoopSignaling.pair(a.signaling, b.signaling);
    const events: string[] = [];
    a.messaging.on('participant_added', () => events.push('added'));
    a.messaging.on('participant_removed', () => events.push('removed'));
    let bSession: Session | undefined;
    b.mesh.on('participant_up', (s) => (bSession = s));
    // The first request is held by B's handler until after the replacement: its reply can never come.
    let release: (() => void) | undefined;
    b.messaging.handle('q', ({ message }) =>
      message.hold === true
        ? new Promise((resolve) => (release = () => resolve({ message: { late: true } })))
        : { message: { ok: true } },
    );
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await eventually(
        () => a.messaging.getParticipant('bbbb') !== undefined && bSession !== undefined,
        5000,
        'bob present',
      );
      const bob = a.messaging.getParticipant('bbbb');
      const held = a.messaging.request({ to: 'bbbb', type: 'q', message: { hold: true }, timeoutMs: Infinity });
      const heldOutcome = held.then(
        () => 'answered',
        (e: unknown) => e,
      );
      await eventually(() => release !== undefined, 5000, 'the request to reach bob');
      const old = bSession;
      old!.close('test: bob ended its side'); // B dials again at once; A's session is still up
      await eventually(
        () => bSession !== old && a.messaging.getParticipant('bbbb')?.linkState === 'relayed',
        5000,
        'replaced',
      );
      await new Promise((r) => setTimeout(r, 20));
      release!();
      const outcome = await heldOutcome;
      expect(outcome).to.be.instanceOf(RequestError);
      expect((outcome as RequestError).reason).to.equal('ParticipantLeft');
      expect(events).to.deep.equal(['added']);
      expect(a.messaging.getParticipant('bbbb')).to.equal(bob);
      const again = await a.messaging.request({ to: bob!, type: 'q', message: {} });
      expect(again.message).to.deep.equal({ ok: true });
    } finally {
      await a.messaging.leave();
      await b.messaging.leave();
    }
  });
});
