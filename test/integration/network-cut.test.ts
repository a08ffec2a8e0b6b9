/**
 * A network cut and restored: two participants in a network namespace of their own, whose only link is
 * its loopback. They reach the signaling server (on the test's 127.0.0.1) through a Unix socket, which
 * crosses namespaces. Taking that loopback link down cuts everything between them: the data channel,
 * and each one's TCP connection to its local forwarder. Presence must drop within the heartbeat timeout;
 * bringing the link up must bring them back by themselves, with the same ids, and messages flow again.
 * Needs root and iproute2 (`ip netns`); skipped where they are missing.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Harness } from '../support/harness.js';
import { NetnsLab, type NsParticipant, ip, waitForEvent as waitFor } from '../support/netns.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/netns-participant.js', import.meta.url));

describe('a network cut and restored (a network namespace whose link goes down and up)', function () {
  this.timeout(90_000);
  const h = new Harness();
  const lab = new NetnsLab('roommesh-cut');
  let NS = '';
  const start = (name: string): Promise<NsParticipant> => lab.start(NS, FIXTURE, [lab.socketPath, 'cut', name], name);

  before(function () {
    if (!NetnsLab.available()) this.skip(); // needs root and iproute2's `ip netns`
    NS = lab.namespace('cut');
  });
  after(async () => {
    await lab.close();
    await h.close();
  });

  it('presence drops within the heartbeat timeout and comes back by itself, same ids, messages flowing again', async () => {
    const server = await h.server();
    await lab.forwardTo(server.port);
    const alice = await start('alice');
    const bob = await start('bob');
    await waitFor(alice, (e) => e.added === 'bob', 10_000, 'alice sees bob');
    alice.proc.send({ send: { to: bob.id, n: 1 } });
    await waitFor(bob, (e) => e.got === 1, 5000, 'message 1');

    expect(ip('-n', NS, 'link', 'set', 'lo', 'down')).to.equal(true);
    const goneMs = await waitFor(alice, (e) => e.removed === 'bob', 10_000, 'alice loses bob');
    await waitFor(bob, (e) => e.removed === 'alice', 10_000, 'bob loses alice');
    expect(goneMs, 'time to notice the cut (heartbeat timeout 1.5 s)').to.be.below(4000);
    await new Promise((r) => setTimeout(r, 2000)); // a few re-dials fail while the link is down

    expect(ip('-n', NS, 'link', 'set', 'lo', 'up')).to.equal(true);
    await waitFor(
      alice,
      (e) => e.added === 'bob' && alice.events.indexOf(e) > alice.events.findIndex((x) => x.removed === 'bob'),
      30_000,
      'alice sees bob again',
    );
    await waitFor(
      bob,
      (e) => e.added === 'alice' && bob.events.indexOf(e) > bob.events.findIndex((x) => x.removed === 'alice'),
      30_000,
      'bob sees alice again',
    );
    alice.proc.send({ send: { to: bob.id, n: 2 } });
    bob.proc.send({ send: { to: alice.id, n: 3 } });
    await waitFor(bob, (e) => e.got === 2, 5000, 'message 2');
    await waitFor(alice, (e) => e.got === 3, 5000, 'message 3');
    // Its acknowledgement comes after alice has it, by another path than her report: wait for it.
    await waitFor(bob, (e) => 'sent' in e, 5000, 'message 3 acknowledged');
    expect(bob.events.filter((e) => 'sent' in e)).to.deep.equal([{ sent: { n: 3, ok: true } }]);
  });
});
