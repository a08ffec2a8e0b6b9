/**
 * A network cut and restored: two participants in a network namespace of their own, whose only link is
 * its loopback. They reach the signaling server (on the test's 127.0.0.1) through a Unix socket, which
 * crosses namespaces. Taking that loopback link down cuts everything between them: the data channel,
 * and each one's TCP connection to its local forwarder. Presence must drop within the heartbeat timeout;
 * bringing the link up must bring them back by themselves, with the same ids, and messages flow again.
 * Needs root and iproute2 (`ip netns`); skipped where they are missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Harness } from '../support/harness.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/netns-participant.js', import.meta.url));
const NS = `roommesh-cut-${process.pid}`;

const ip = (...args: string[]): boolean => spawnSync('ip', args, { stdio: 'ignore' }).status === 0;

function createNamespace(): boolean {
  removeNamespace();
  return ip('netns', 'add', NS) && ip('-n', NS, 'link', 'set', 'lo', 'up');
}

function removeNamespace(): void {
  ip('netns', 'del', NS);
}

interface Participant {
  proc: ChildProcess;
  id: string;
  events: Array<Record<string, unknown>>;
}

function start(ns: string, socketPath: string, name: string): Promise<Participant> {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, FIXTURE, socketPath, 'cut', name], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const events: Array<Record<string, unknown>> = [];
  proc.on('message', (m: Record<string, unknown>) => events.push(m));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not get ready`)), 20_000);
    proc.on('message', (m: { ready?: string }) => {
      if (typeof m.ready !== 'string') return;
      clearTimeout(timer);
      resolve({ proc, id: m.ready, events });
    });
    proc.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

async function waitFor(
  p: Participant,
  match: (e: Record<string, unknown>) => boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const t0 = Date.now();
  while (!p.events.some(match)) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(p.events)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

describe('a network cut and restored (a network namespace whose link goes down and up)', function () {
  this.timeout(90_000);
  const h = new Harness();
  const procs: ChildProcess[] = [];
  let relay: Server | undefined;
  const socketPath = join(tmpdir(), `${NS}.sock`);

  before(function () {
    if (process.getuid?.() !== 0 || !createNamespace()) {
      removeNamespace();
      this.skip(); // needs root and iproute2's `ip netns`
    }
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(
      procs.map((p) =>
        p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : Promise.resolve(),
      ),
    );
    relay?.close();
    rmSync(socketPath, { force: true });
    removeNamespace();
    await h.close();
  });

  it('presence drops within the heartbeat timeout and comes back by itself, same ids, messages flowing again', async () => {
    const server = await h.server();
    rmSync(socketPath, { force: true });
    relay = createServer((c) => {
      const s = connect(server.port, '127.0.0.1');
      c.pipe(s);
      s.pipe(c);
      c.on('error', () => s.destroy());
      s.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => relay!.listen(socketPath, () => resolve()));
    const alice = await start(NS, socketPath, 'alice');
    procs.push(alice.proc);
    const bob = await start(NS, socketPath, 'bob');
    procs.push(bob.proc);
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
    expect(bob.events.filter((e) => 'sent' in e)).to.deep.equal([{ sent: { n: 3, ok: true } }]);
  });
});
