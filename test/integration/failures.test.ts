import { expect } from 'chai';
import { Harness, eventually, nextEvent } from '../support/harness.js';
import { startChild, stopChild, type ChildParticipant } from '../support/child.js';
import { MessagingError } from '../../lib/node.js';

describe('failures (participants in their own processes)', function () {
  this.timeout(30_000);
  const h = new Harness();
  let child: ChildParticipant | undefined;
  afterEach(async () => {
    await stopChild(child);
    child = undefined;
    await h.close();
  });

  it('a participant killed without warning (SIGKILL) is removed from everyone within a bounded time', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'f1', ['alice', 'bob']);
    child = await startChild(server.url, 'f1', 'victim');
    // The newcomer's enable() resolves once it sees the others; they see it a moment later (README).
    await eventually(
      () => [alice!, bob!].every((r) => r.messaging.getParticipantByName('victim') !== undefined),
      5000,
      'alice and bob to see the victim',
    );
    const removedAtAlice = nextEvent(alice!.messaging, 'participant_removed', 5000);
    const removedAtBob = nextEvent(bob!.messaging, 'participant_removed', 5000);
    const t0 = Date.now();
    child.proc.kill('SIGKILL');
    expect((await removedAtAlice)[0].name).to.equal('victim');
    expect((await removedAtBob)[0].name).to.equal('victim');
    expect(Date.now() - t0).to.be.below(5000);
    expect(alice!.messaging.remoteParticipants.map((p) => p.name)).to.deep.equal(['bob']);
  });

  // Found by a review written as a front-end developer: after a tab was closed, a newcomer's enable() took
  // 14 s, waiting out its connect attempts to a participant the server held for a resume (15 s), whose
  // connection was gone. The server now leaves held participants out of the enable reply; one that resumes is
  // announced with peer_enabled as before.
  it("a newcomer's enable() does not wait for a participant whose connection dropped (held for a resume)", async () => {
    const server = await h.server({ resumeGraceMs: 60_000 });
    const [alice] = await h.mesh(server, 'f0', ['alice']);
    child = await startChild(server.url, 'f0', 'victim');
    await eventually(() => alice!.messaging.getParticipantByName('victim') !== undefined, 5000, 'alice sees victim');
    const removed = nextEvent(alice!.messaging, 'participant_removed', 10_000);
    child.proc.kill('SIGKILL');
    await removed; // alice's probe of its channel failed; the server still holds victim for its resume grace
    expect(server.stats().participants).to.equal(2);
    // Waiting on victim would take 2 × 20 s here, or until the server gives up on it (60 s).
    const carol = await h.join(server, 'f0', 'carol', { timeouts: { connectAttemptTimeoutMs: 20_000 } });
    const waited = await Promise.race([
      carol.messaging.enable().then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 15_000).unref()),
    ]);
    expect(waited, 'enable() waited for the participant held for a resume').to.equal(false);
    expect(carol.messaging.remoteParticipants.map((p) => p.name)).to.deep.equal(['alice']);
  });

  it('a frozen participant (SIGSTOP) is removed by the heartbeat, and a send waiting on it rejects with ParticipantLeft', async () => {
    const server = await h.server();
    child = await startChild(server.url, 'f2', 'sleeper');
    // The signaling server still sees the frozen process's TCP connection: only the heartbeat can tell.
    const watcher = await h.join(server, 'f2', 'watcher', {
      timeouts: { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 1500 },
    });
    await watcher.messaging.enable();
    const sleeper = watcher.messaging.getParticipantByName('sleeper')!;
    expect(sleeper.attributes.pid).to.equal(child.proc.pid);
    child.proc.kill('SIGSTOP');
    const removed = nextEvent(watcher.messaging, 'participant_removed', 6000);
    const t0 = Date.now();
    const send = watcher.messaging.sendMessage({ to: sleeper, type: 'echo', message: { n: 1 } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((await removed)[0].id).to.equal(sleeper.id);
    expect(Date.now() - t0).to.be.below(4000);
    const err = await send;
    expect(err).to.be.instanceOf(MessagingError);
    expect((err as MessagingError).reason).to.equal('ParticipantLeft');
  });

  it('a frozen participant comes back by itself once it thaws (SIGSTOP, then SIGCONT): same id, messages flow again', async () => {
    const server = await h.server();
    child = await startChild(server.url, 'f5', 'sleeper');
    const watcher = await h.join(server, 'f5', 'watcher', {
      timeouts: { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 1500 },
    });
    await watcher.messaging.enable();
    const sleeper = watcher.messaging.getParticipantByName('sleeper')!;
    const removed = nextEvent(watcher.messaging, 'participant_removed', 6000);
    child.proc.kill('SIGSTOP');
    await removed;
    // Frozen well past its own heartbeat timeout: on waking it finds its side of the link dead too.
    await new Promise((r) => setTimeout(r, 6000));
    const added = nextEvent(watcher.messaging, 'participant_added', 20_000);
    child.proc.kill('SIGCONT');
    const [back] = await added;
    expect(back.id).to.equal(sleeper.id);
    expect(back.name).to.equal('sleeper');
    const reply = nextEvent(watcher.messaging, 'message');
    await watcher.messaging.sendMessage({ to: back, type: 'echo', message: { again: true } });
    expect((await reply)[0].message).to.deep.equal({ again: true });
  });

  it('an acknowledgement that never comes rejects with Timeout', async () => {
    const server = await h.server();
    child = await startChild(server.url, 'f3', 'sleeper');
    const watcher = await h.join(server, 'f3', 'watcher', {
      timeouts: { ackTimeoutMs: 600, heartbeatIntervalMs: 200, heartbeatTimeoutMs: 20_000 },
    });
    await watcher.messaging.enable();
    const sleeper = watcher.messaging.getParticipantByName('sleeper')!;
    // While it is awake, messages are acknowledged and echoed.
    const reply = nextEvent(watcher.messaging, 'message');
    await watcher.messaging.sendMessage({ to: sleeper, type: 'echo', message: { n: 0 } });
    expect((await reply)[0].message).to.deep.equal({ n: 0 });
    child.proc.kill('SIGSTOP');
    const t0 = Date.now();
    const err = await watcher.messaging.sendMessage({ to: sleeper, type: 'echo', message: { n: 1 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(MessagingError);
    expect((err as MessagingError).reason).to.equal('Timeout');
    expect(Date.now() - t0).to.be.within(500, 3000);
  });

  it('a Node participant process exits by itself right after disconnect()', async () => {
    const server = await h.server();
    const alice = await h.join(server, 'f4', 'alice');
    await alice.messaging.enable();
    child = await startChild(server.url, 'f4', 'leaver', '--exit-after-roundtrip');
    // The child is ready once it sees alice; alice sees it when its hello arrives, a moment later.
    await eventually(() => alice.messaging.getParticipantByName('leaver') !== undefined, 5000, 'alice sees the leaver');
    const leaver = alice.messaging.getParticipantByName('leaver')!;
    const reply = nextEvent(alice.messaging, 'message');
    await alice.messaging.sendMessage({
      to: leaver,
      type: 'echo',
      message: { hello: 'there' },
      attachment: new Uint8Array([1, 2, 3]),
    });
    const [m] = await reply;
    expect(m.type).to.equal('echo-reply');
    expect([...m.attachment!]).to.deep.equal([1, 2, 3]);
    const t0 = Date.now();
    const code = await Promise.race([child.exited, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
    expect(code).to.equal(0);
    expect(Date.now() - t0).to.be.below(5000);
  });
});
