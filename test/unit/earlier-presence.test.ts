/**
 * An object stands for one presence. A participant that is removed and comes back under the same id is a
 * new `RemoteParticipant`; the object of its earlier presence reaches nobody: a send to it is
 * `ParticipantNotFound` (or skipped with `ignoreOffline`, or false without waiting), as for any participant
 * that is not present, and a request to it is refused the same way. Found by a review: the old object's id
 * still matched, so what an app sent to a participant it had seen leave went to whoever came back.
 * Two messaging stacks over the rehearsal's in-memory relaying signaling (pure logic: the frames pass through
 * memory, sealed as on the wire).
 */
import { expect } from 'chai';
import { MessagingError } from '../../lib/errors.js';
import { LoopSignaling } from '../../lib/rehearsal.js';
import { eventually } from '../support/harness.js';
import { loopSide } from '../support/loop-side.js';

describe('the object of an earlier presence', function () {
  this.timeout(15_000);

  it('reaches nobody once the participant has left and come back', async () => {
    const a = await loopSide('aaaa');
    const b = await loopSide('bbbb');
    LoopSignaling.pair(a.signaling, b.signaling);
    const got: unknown[] = [];
    b.messaging.on('message', (m) => got.push(m.message));
    b.messaging.handle('q', () => ({ message: { ok: true } }));
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await eventually(() => a.messaging.getParticipant('bbbb') !== undefined, 5000, 'bob present');
      const before = a.messaging.getParticipant('bbbb')!;
      await a.messaging.sendMessage({ to: before, type: 'm', message: { n: 1 } });

      await b.messaging.disable();
      await eventually(() => a.messaging.getParticipant('bbbb') === undefined, 5000, 'bob removed');
      await b.messaging.enable();
      await eventually(() => a.messaging.getParticipant('bbbb') !== undefined, 5000, 'bob back');
      const after = a.messaging.getParticipant('bbbb')!;
      expect(after).to.not.equal(before);
      expect(before.id).to.equal(after.id);

      const refused = await a.messaging.sendMessage({ to: before, type: 'm', message: { n: 2 } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).to.be.instanceOf(MessagingError);
      expect((refused as MessagingError).reason).to.equal('ParticipantNotFound');
      expect((refused as MessagingError).message).to.match(/from an earlier presence .*getParticipant\('bbbb'\)/);
      await a.messaging.sendMessage({ to: before, type: 'm', message: { n: 3 }, ignoreOffline: true });
      expect(a.messaging.sendMessageNowait({ to: before, type: 'm', message: { n: 4 } })).to.equal(false);
      const request = await a.messaging.request({ to: before, type: 'q', message: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((request as MessagingError).reason).to.equal('ParticipantNotFound');

      // The new presence, by object or by id, is reached.
      await a.messaging.sendMessage({ to: after, type: 'm', message: { n: 5 } });
      await a.messaging.sendMessage({ to: 'bbbb', type: 'm', message: { n: 6 } });
      expect((await a.messaging.request({ to: after, type: 'q', message: {} })).message).to.deep.equal({ ok: true });
      expect(got).to.deep.equal([{ n: 1 }, { n: 5 }, { n: 6 }]);
    } finally {
      await a.messaging.leave();
      await b.messaging.leave();
    }
  });
});
