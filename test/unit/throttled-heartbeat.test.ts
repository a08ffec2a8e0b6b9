/**
 * A side whose timers barely run stays present while its peer's run. A browser runs the timers of a tab
 * hidden for five minutes once a minute (Chrome's intensive wake-up throttling; a page with an open
 * RTCPeerConnection is exempt, and a relayed pair has none), so its heartbeat pings came once a minute and
 * its relayed peers removed it after `heartbeatTimeoutMs`, then re-added it: over and over while it stayed
 * hidden. Events are not throttled, so a ping answered as it arrives keeps it heard. Here both sides have
 * short heartbeat settings, and the "hidden" side's interval timer runs once a minute, as a throttled tab's
 * would (its period, 51 ms, is mapped to 60 s while the sessions start); two messaging stacks over the
 * rehearsal's in-memory relaying signaling (pure logic: the frames pass through memory, sealed as on the
 * wire).
 */
import { expect } from 'chai';
import { DEFAULT_TIMEOUTS, type RoomTimeouts } from '../../lib/defaults.js';
import { LoopSignaling } from '../../lib/rehearsal.js';
import { eventually } from '../support/harness.js';
import { loopSide } from '../support/loop-side.js';

/** The hidden side's heartbeat interval: its timer is given a period of a minute instead (see above). */
const HIDDEN_INTERVAL_MS = 51;

/** Short heartbeat settings with this interval. */
const timeouts = (heartbeatIntervalMs: number): RoomTimeouts => ({
  ...DEFAULT_TIMEOUTS,
  heartbeatIntervalMs,
  heartbeatTimeoutMs: 400,
});

describe('a side whose timers barely run (a hidden browser tab)', function () {
  this.timeout(15_000);

  it('is still heard by a peer whose timers run, and nothing is removed', async () => {
    const visible = await loopSide('aaaa', timeouts(50));
    const hidden = await loopSide('bbbb', timeouts(HIDDEN_INTERVAL_MS));
    LoopSignaling.pair(visible.signaling, hidden.signaling);
    const realSetInterval = globalThis.setInterval;
    globalThis.setInterval = ((fn: () => void, ms?: number) =>
      realSetInterval(fn, ms === HIDDEN_INTERVAL_MS ? 60_000 : ms)) as typeof setInterval;
    const removed: string[] = [];
    visible.messaging.on('participant_removed', (p) => removed.push(`visible lost ${p.id}`));
    hidden.messaging.on('participant_removed', (p) => removed.push(`hidden lost ${p.id}`));
    try {
      await visible.messaging.enable();
      await hidden.messaging.enable();
      await eventually(() => visible.messaging.getParticipant('bbbb') !== undefined, 5000, 'the hidden side present');
      globalThis.setInterval = realSetInterval;
      const before = visible.messaging.getParticipant('bbbb');
      // Five of the visible side's heartbeat timeouts, with nothing sent but heartbeats.
      await new Promise((r) => setTimeout(r, 2000));
      expect(removed).to.deep.equal([]);
      expect(visible.messaging.getParticipant('bbbb')).to.equal(before);
      // And the pair still carries messages both ways.
      await visible.messaging.sendMessage({ to: 'bbbb', type: 'm', message: { n: 1 } });
      await hidden.messaging.sendMessage({ to: 'aaaa', type: 'm', message: { n: 2 } });
    } finally {
      globalThis.setInterval = realSetInterval;
      await visible.messaging.leave();
      await hidden.messaging.leave();
    }
  });
});
