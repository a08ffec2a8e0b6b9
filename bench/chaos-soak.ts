/**
 * The chaos soak (issue #15): participants, each in its own process, exchange direct messages and
 * broadcasts, some with attachments (64 KiB to 2 MiB, SHA-256 checked on receipt), while signaling processes
 * and participants are killed with SIGKILL (fleet processes also drained with SIGTERM) and restarted at
 * random (10 minutes by default).
 *
 * The servers: a Redis fleet of `--fleet` processes (3) on one redis-server, or with `--fleet 0` one
 * default-settings server (no Redis, no resume key: a restart makes everyone re-join under a new id).
 * Half of the participants connect straight to one process (pinned: when it dies they wait for it to come
 * back on the same port), the other half through a TCP proxy that plays the load balancer (when its process
 * dies it sends new connections to a live one). Chaos events, one every `--every-ms` on average:
 * - a fleet process (never s0, whose memory is watched) killed (SIGKILL) or, half of the time, drained
 *   (SIGTERM, as a rolling deploy does), restarted on its port 0.5–3 s later; then a newcomer joining
 *   through it must find every long-lived participant within 10 s and reach each one;
 * - a mortal participant (the second half) killed, and 0.5–3 s later a new participant started in its place.
 * With `--fleet 0` the server takes the place of the fleet process.
 *
 * It checks, at the end:
 * - every acknowledged message was received exactly once (bookkeeping per sender, receiver and sequence
 *   number, written to disk by each participant before its acknowledgement leaves, so a killed receiver's
 *   receipts count); a receipt seen twice is a duplicate, acknowledged or not; attachments hash right;
 * - no send hangs: every send settles (a send to a dead participant rejects) by the end of the run;
 * - a killed participant is seen to leave by every peer that knew it, within 10 s, and never comes back;
 *   nobody else is ever seen to leave (not when a fleet process dies or drains, not when the server restarts);
 * - no room gives up (`signaling_failed`);
 * - memory after a GC: each long-lived participant and never-killed server, at a baseline taken after the
 *   warm-up and at the end, both after traffic stopped and a quiet period. See MEMORY_TOLERANCE.
 *
 * Run inside a loopback-only network namespace (npm run bench -- chaos does that):
 *   node dist/bench/chaos-soak.js [--duration 600] [--participants 6] [--fleet 3] [--every-ms 6000] [--rate 20]
 * Prints a summary (and writes it to bench/results/chaos-<date>.json); exits 1 when a check fails. Not
 * part of `npm test`. Everything it starts is stopped on exit, on an error and on Ctrl-C.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Room, silentLogger } from '../lib/node.js';
import { nextFromChild } from '../test/support/child.js';
import { startRedis, startSignal, stop, stopAll, type Proc } from '../test/support/processes.js';
import { startTcpProxy, type TcpProxy } from '../test/support/tcp-proxy.js';
import { atLeast, numberArg, toolArgs } from './tool-args.js';

const USAGE = 'npm run bench -- chaos [--duration 600] [--participants 6] [--fleet 3] [--every-ms 6000] [--rate 20]';
const { values } = toolArgs(USAGE, {
  options: {
    duration: { type: 'string', default: '600' },
    participants: { type: 'string', default: '6' },
    fleet: { type: 'string', default: '3' },
    'every-ms': { type: 'string', default: '6000' },
    rate: { type: 'string', default: '20' },
  },
});
const durationS = numberArg(USAGE, '--duration', values.duration, 'a whole number of seconds over 0', atLeast(1));
const count = numberArg(USAGE, '--participants', values.participants, 'a whole number of at least 3', atLeast(3));
const fleetSize = numberArg(USAGE, '--fleet', values.fleet, '0 (one server) or a whole number of at least 2', (n) =>
  n === 0 ? true : atLeast(2)(n),
);
const everyMs = numberArg(USAGE, '--every-ms', values['every-ms'], 'a whole number of ms over 0', atLeast(1));
const rate = numberArg(USAGE, '--rate', values.rate, 'a number of messages per second over 0', (n) => n > 0);

const PARTICIPANT = fileURLToPath(new URL('./chaos-participant.js', import.meta.url));
const PROBE = pathToFileURL(fileURLToPath(new URL('./memory-probe.js', import.meta.url))).href;
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const ROOM = 'chaos';
/** A newcomer must find every long-lived participant this soon after a server comes back. */
const HEAL_WITHIN_MS = 10_000;
/** A killed participant must be seen to leave this soon: `heartbeatTimeoutMs` (5 s), plus load. */
const LEAVE_WITHIN_MS = 10_000;
/**
 * How long sends may take to settle once traffic stops: `ackTimeoutMs` (30 s, from the last byte) plus the
 * slowest 2 MiB attachment behind a few others. A send still pending then hangs.
 */
const SETTLE_MS = 60_000;
/** Quiet time before a memory sample: traffic stopped, every send settled, then this. */
const QUIET_MS = 5_000;
/**
 * Memory after a GC may grow this much between the baseline and the end before it is flagged. The heap
 * of a process holding the same number of peers and nothing in flight should come back to the same size;
 * a few MiB move with what V8 compiled and hash tables that do not shrink. A leak per message, attachment
 * or restart is far larger over a run (one 64 KiB chunk per attachment: hundreds of MiB). RSS also holds
 * native memory (usrsctp, libdatachannel) that the allocator keeps once used, so it gets more room.
 */
const MEMORY_TOLERANCE = { heapRatio: 1.25, heapSlackMiB: 8, rssRatio: 1.5, rssSlackMiB: 64 };
const WARM_UP_MS = Math.min(30_000, (durationS * 1000) / 5);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const random = (from: number, to: number): number => from + Math.random() * (to - from);
const MiB = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const problems: string[] = [];

interface Memory {
  rssBytes: number;
  heapUsedBytes: number;
  openPeerConnections?: number;
}
interface Server {
  name: string;
  proc: Proc & { url: string };
  port: number;
  restarts: number;
  baseline?: Memory;
}
interface Participant {
  slot: number;
  name: string;
  proc: ChildProcess;
  mortal: boolean;
  readyMs: number;
  killedMs?: number;
  baseline?: Memory;
  exited: Promise<unknown>;
}

const logDir = mkdtempSync(join(tmpdir(), 'roommesh-chaos-'));
const servers: Server[] = [];
const proxies: Array<TcpProxy | undefined> = [];
/** Port each proxy sends new connections to. */
const proxyTargets: number[] = [];
const live: Participant[] = [];
const everyone: Participant[] = [];
const events: Array<{ kind: 'server' | 'participant'; name: string; atMs: number }> = [];
let redis: (Proc & { url: string }) | undefined;
let traffic = false;

function serverFlags(): string[] {
  // Info: joins, resumes, adoptions of a dead process's participants; kept with the participants' logs.
  if (redis === undefined) return ['--log-level', 'info'];
  // The fleet's default timings, as users get them.
  return ['--adapter', 'redis', '--redis-url', redis.url, '--redis-key-prefix', 'chaos:', '--log-level', 'info'];
}

async function startServer(name: string, port?: number): Promise<Proc & { url: string }> {
  const proc = await startSignal(serverFlags(), {
    ...(port === undefined ? {} : { port }),
    env: { NODE_OPTIONS: `--expose-gc --import=${PROBE}` },
  });
  // Each life of the server, appended as it ends (killed, or stopped at the end): read when a check fails.
  void proc.exited.then(() => appendFileSync(join(logDir, `${name}.server.log`), proc.output()));
  return proc;
}

/** The path policy of the participant in `slot`: 'relay' for the first and the last, the default for the others. */
function pathsOf(slot: number): string {
  return slot === 0 || slot === count - 1 ? 'relay' : 'relay-first';
}

async function startParticipant(slot: number, incarnation: number): Promise<Participant> {
  const name = incarnation === 0 ? `p${slot}` : `p${slot}r${incarnation}`;
  const server = servers[slot % servers.length]!;
  const url = slot % 2 === 1 && proxies[slot] !== undefined ? proxies[slot].url : server.proc.url;
  const proc = fork(
    PARTICIPANT,
    // The first long-lived participant and the last mortal one take the relay only: their pairs stay relayed.
    [url, ROOM, name, String(slot * 1000 + incarnation + 1), join(logDir, `${name}.log`), String(rate), pathsOf(slot)],
    {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const p: Participant = { slot, name, proc, mortal: slot >= Math.ceil(count / 2), readyMs: 0, exited };
  everyone.push(p);
  await nextFromChild({ proc }, 'ready', 60_000);
  p.readyMs = Date.now();
  live.push(p);
  if (traffic) proc.send({ start: true });
  return p;
}

function ask<T>(p: Participant, message: object, key: string, timeoutMs = 30_000): Promise<T> {
  const reply = nextFromChild<T>({ proc: p.proc }, key, timeoutMs);
  p.proc.send(message);
  return reply;
}

async function serverMemory(s: Server): Promise<Memory> {
  const before = s.proc.output().length;
  s.proc.child.kill('SIGUSR2');
  let line: RegExpExecArray | null = null;
  const end = Date.now() + 10_000;
  while ((line = /roommesh-memory (\{.*\})/.exec(s.proc.output().slice(before))) === null) {
    if (Date.now() > end) throw new Error(`${s.name} did not report its memory`);
    await sleep(25);
  }
  return JSON.parse(line[1]!) as Memory;
}

/** Stops traffic, waits for every send to settle, then a quiet period; returns the sends still pending. */
async function quiesce(): Promise<Map<string, number>> {
  traffic = false;
  const pending = new Map<string, number>();
  await Promise.all(
    live.map(async (p) => {
      const r = await ask<{ pending: number }>(p, { stop: SETTLE_MS }, 'stopped', SETTLE_MS + 10_000);
      if (r.pending > 0) pending.set(p.name, r.pending);
    }),
  );
  await sleep(QUIET_MS);
  return pending;
}

async function sampleMemory(): Promise<Map<string, Memory>> {
  const out = new Map<string, Memory>();
  for (const p of live.filter((q) => !q.mortal)) out.set(p.name, await ask<Memory>(p, { memory: true }, 'memory'));
  for (const s of servers.filter((t) => t.restarts === 0)) out.set(s.name, await serverMemory(s));
  return out;
}

function startTraffic(): void {
  traffic = true;
  for (const p of live) p.proc.send({ start: true });
}

/**
 * A signaling process goes and comes back on its port 0.5–3 s later. `kill`: SIGKILL, the load balancer
 * notices at once. `drain`: SIGTERM, as a rolling deploy stops a process: /readyz answers 503, so the load
 * balancer sends new connections elsewhere at once, and the connected clients stay until the drain delay
 * is over and it closes (in a fleet, leaving its participants to the others).
 */
async function stopServer(s: Server, how: 'kill' | 'drain'): Promise<void> {
  if (how === 'drain') {
    retargetAwayFrom(s);
    s.proc.child.kill('SIGTERM');
    await s.proc.exited;
  } else {
    await stop(s.proc, 'SIGKILL');
    retargetAwayFrom(s);
  }
  events.push({ kind: 'server', name: s.name, atMs: Date.now() });
  await sleep(random(500, 3000));
  s.proc = await startServer(s.name, s.port);
  s.restarts++;
  const backMs = Date.now();
  await newcomerCheck(s, backMs);
}

/** The proxies sending new connections to `s` send them to a live process instead. */
function retargetAwayFrom(s: Server): void {
  const alive = servers.filter((t) => t !== s);
  proxies.forEach((proxy, i) => {
    if (proxy === undefined || proxyTargets[i] !== s.port || alive.length === 0) return;
    proxyTargets[i] = alive[Math.floor(Math.random() * alive.length)]!.port;
    proxy.retarget(proxyTargets[i]);
  });
}

let newcomers = 0;
/** A newcomer joining through `s` finds every long-lived participant within HEAL_WITHIN_MS and reaches each. */
async function newcomerCheck(s: Server, backMs: number): Promise<void> {
  const name = `newcomer${++newcomers}`;
  const wanted = live.filter((p) => !p.mortal).map((p) => p.name);
  const room = await Room.connect({ url: s.proc.url, room: ROOM, name, logger: silentLogger });
  try {
    // Not awaited first: enable() also waits for a killed participant the server still holds.
    const enabling = room.messaging.enable().catch(() => {});
    const has = (): boolean => wanted.every((w) => room.messaging.getParticipantByName(w) !== undefined);
    while (!has() && Date.now() - backMs < HEAL_WITHIN_MS) await sleep(25);
    if (!has()) {
      const found = wanted.filter((w) => room.messaging.getParticipantByName(w) !== undefined);
      problems.push(
        `${name} (through ${s.name}) found ${found.length} of ${wanted.length} within ${HEAL_WITHIN_MS} ms`,
      );
    } else {
      const acks = await Promise.allSettled(
        wanted.map((w) =>
          room.messaging.sendMessage({ to: room.messaging.getParticipantByName(w)!, type: 'hi', message: {} }),
        ),
      );
      // Who, and why: the send's error (ParticipantLeft, Timeout, ...).
      const bad = acks.flatMap((a, i) =>
        a.status === 'rejected'
          ? [`${wanted[i]} (${(a.reason as { reason?: string }).reason ?? String(a.reason)})`]
          : [],
      );
      if (bad.length > 0)
        problems.push(
          `${name} (through ${s.name}) could not reach ${bad.length} of ${wanted.length}: ${bad.join(', ')}, ` +
            `${Date.now() - backMs} ms after the server was back`,
        );
    }
    await enabling;
  } finally {
    await room.disconnect().catch(() => {});
  }
}

async function killParticipant(p: Participant): Promise<void> {
  p.proc.kill('SIGKILL');
  await p.exited;
  p.killedMs = Date.now();
  live.splice(live.indexOf(p), 1);
  events.push({ kind: 'participant', name: p.name, atMs: p.killedMs });
  await sleep(random(500, 3000));
  await startParticipant(p.slot, everyone.filter((q) => q.slot === p.slot).length);
}

let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const p of everyone) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await Promise.all(everyone.map((p) => p.exited));
    await Promise.all(proxies.flatMap((p) => (p === undefined ? [] : [p.close()])));
    await stopAll();
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    say(`\n${signal}: stopping everything the soak started`);
    void cleanUp().then(() => process.exit(130));
  });

interface Tally {
  acknowledged: number;
  /** Acknowledged by an id the sender could not name any more: counted, not checked. */
  acknowledgedUnnamed: number;
  delivered: number;
  duplicates: number;
  lost: number;
  failedSends: Record<string, number>;
  attachments: { delivered: number; MiB: number; badHashes: number };
  leaveMs: { slowest: number; seen: number } | null;
}

/** Reads every participant's log (what happened before `leavingMs`, when everyone was told to leave). */
function analyse(pending: Map<string, number>, leavingMs: number): Tally {
  const acked = new Set<string>();
  const receipts = new Map<string, number>();
  const failures: Record<string, number> = {};
  const presence = new Map<string, Array<{ sign: '+' | '-'; who: string; t: number }>>();
  let badHashes = 0;
  let unnamed = 0;
  let attachments = 0;
  let attachmentBytes = 0;
  for (const p of everyone) {
    const lines = readFileSync(join(logDir, `${p.name}.log`), 'utf8').split('\n');
    const seen: Array<{ sign: '+' | '-'; who: string; t: number }> = [];
    presence.set(p.name, seen);
    for (const line of lines) {
      const [kind, a, b, c, d] = line.split(' ');
      if (kind === 'a' && a === '?') unnamed++;
      else if (kind === 'a') acked.add(`${p.name}>${a}:${b}`);
      else if (kind === 'r') {
        const key = `${a}>${p.name}:${b}`;
        receipts.set(key, (receipts.get(key) ?? 0) + 1);
        if (c !== 'ok') badHashes++;
        if (Number(d) > 0) {
          attachments++;
          attachmentBytes += Number(d);
        }
      } else if (kind === 'f') failures[c!] = (failures[c!] ?? 0) + 1;
      else if ((kind === '+' || kind === '-') && Number(b) < leavingMs)
        seen.push({ sign: kind, who: a!, t: Number(b) });
      else if (kind === 'x') problems.push(`${p.name}: ${a} at ${b}`);
    }
  }
  const lost = [...acked].filter((k) => !receipts.has(k));
  const duplicates = [...receipts].filter(([, n]) => n > 1);
  if (lost.length > 0)
    problems.push(`${lost.length} acknowledged messages never arrived, e.g. ${lost.slice(0, 3).join(', ')}`);
  if (duplicates.length > 0)
    problems.push(
      `${duplicates.length} messages arrived more than once, e.g. ${duplicates[0]![0]} x${duplicates[0]![1]}`,
    );
  if (badHashes > 0) problems.push(`${badHashes} attachments arrived with the wrong SHA-256`);
  for (const [name, n] of pending)
    problems.push(`${name}: ${n} sends still pending ${SETTLE_MS} ms after traffic stopped`);

  // Leaves: a killed participant leaves every peer that knew it, within LEAVE_WITHIN_MS, for good; nobody else leaves.
  const killedAt = new Map(events.filter((e) => e.kind === 'participant').map((e) => [e.name, e.atMs]));
  const leaveLatencies: number[] = [];
  for (const y of everyone) {
    const seen = presence.get(y.name)!;
    for (const [x, atMs] of killedAt) {
      if (x === y.name) continue;
      const knew = seen.some((e) => e.sign === '+' && e.who === x && e.t <= atMs);
      const lastAdd = seen.filter((e) => e.who === x && e.t <= atMs).at(-1);
      const watched = y.readyMs < atMs && (y.killedMs ?? Infinity) > atMs + LEAVE_WITHIN_MS;
      if (!knew || !watched || lastAdd?.sign !== '+') continue;
      const removed = seen.find((e) => e.sign === '-' && e.who === x && e.t >= atMs);
      if (removed === undefined || removed.t - atMs > LEAVE_WITHIN_MS)
        problems.push(`${y.name} saw killed ${x} leave ${removed ? `after ${removed.t - atMs} ms` : 'never'}`);
      if (removed) leaveLatencies.push(removed.t - atMs);
      if (seen.some((e) => e.sign === '+' && e.who === x && e.t > atMs))
        problems.push(`${y.name} saw killed ${x} come back`);
    }
    for (const e of seen) {
      const death = killedAt.get(e.who);
      if (e.sign === '-' && (death === undefined || e.t < death))
        problems.push(`${y.name} saw ${e.who} leave, alive, at ${e.t}`);
    }
  }
  return {
    acknowledged: acked.size,
    acknowledgedUnnamed: unnamed,
    delivered: [...receipts.values()].reduce((a, n) => a + n, 0),
    duplicates: duplicates.length,
    lost: lost.length,
    failedSends: failures,
    attachments: { delivered: attachments, MiB: MiB(attachmentBytes), badHashes },
    leaveMs: leaveLatencies.length === 0 ? null : { slowest: Math.max(...leaveLatencies), seen: leaveLatencies.length },
  };
}

let exitCode = 1;
const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
try {
  say(
    `chaos soak: ${durationS} s, ${count} participants, ${fleetSize === 0 ? 'one default-settings server' : `a fleet of ${fleetSize} on Redis`}, an event every ~${everyMs} ms`,
  );
  if (fleetSize > 0) redis = await startRedis();
  for (let i = 0; i < Math.max(1, fleetSize); i++) {
    const proc = await startServer(`s${i}`);
    servers.push({ name: `s${i}`, proc, port: proc.port, restarts: 0 });
  }
  for (let slot = 0; slot < count; slot++) {
    if (fleetSize > 0 && slot % 2 === 1) {
      const port = servers[slot % servers.length]!.port;
      proxyTargets[slot] = port;
      proxies[slot] = await startTcpProxy(port);
    }
    await startParticipant(slot, 0);
  }
  const startMs = Date.now();
  startTraffic();
  await sleep(WARM_UP_MS);
  const baselinePending = await quiesce();
  const baseline = await sampleMemory();
  say(`  baseline after ${Math.round((Date.now() - startMs) / 1000)} s of warm-up`);
  startTraffic();

  const endMs = startMs + durationS * 1000;
  const restarts = { server: 0, drained: 0, participant: 0 };
  while (Date.now() + everyMs < endMs) {
    await sleep(random(0.5, 1.5) * everyMs);
    const mortalServers = servers.filter((s) => fleetSize === 0 || s.name !== 's0');
    if (Math.random() < 0.5) {
      const s = mortalServers[Math.floor(Math.random() * mortalServers.length)]!;
      // In a fleet, half of them drained (SIGTERM) instead: its participants must move with nobody seeing a leave.
      const how = fleetSize > 0 && Math.random() < 0.5 ? 'drain' : 'kill';
      await stopServer(s, how);
      restarts.server++;
      if (how === 'drain') restarts.drained++;
      say(
        `  ${Math.round((Date.now() - startMs) / 1000)} s: ${s.name} ${how === 'drain' ? 'drained' : 'killed'} and restarted`,
      );
    } else {
      const mortal = live.filter((p) => p.mortal);
      const p = mortal[Math.floor(Math.random() * mortal.length)]!;
      await killParticipant(p);
      restarts.participant++;
      say(`  ${Math.round((Date.now() - startMs) / 1000)} s: ${p.name} killed, a new participant in its place`);
    }
  }
  const pending = await quiesce();
  for (const [k, v] of baselinePending) pending.set(`${k} (warm-up)`, v);
  const end = await sampleMemory();
  const present = await Promise.all(live.map((p) => ask<Memory>(p, { memory: true }, 'memory')));
  present.forEach((m, i) => {
    // One data channel per peer, except in a pair with a relay-only side: none there, though the other side
    // (relay-first) may hold one direct attempt under way: it tries again with backoff, not knowing the peer
    // takes none.
    const p = live[i]!;
    const relayOnly = (q: Participant): boolean => pathsOf(q.slot) === 'relay';
    const peers = live.filter((q) => q !== p);
    const direct = relayOnly(p) ? 0 : peers.filter((q) => !relayOnly(q)).length;
    const attempts = relayOnly(p) ? 0 : peers.length - direct;
    const open = m.openPeerConnections ?? -1;
    if (open < direct || open > direct + attempts) {
      const expected = attempts === 0 ? `${direct}` : `${direct} to ${direct + attempts}`;
      problems.push(`${p.name}: ${open} peer connections open, expected ${expected} (${peers.length} peers live)`);
    }
  });
  // Every killed participant has had its time to be seen leaving before everyone leaves.
  await sleep(Math.max(0, (events.at(-1)?.atMs ?? 0) + LEAVE_WITHIN_MS - Date.now()));
  const leavingMs = Date.now();
  await Promise.all(live.map((p) => ask(p, { leave: true }, 'left')));

  const memory = [...baseline].map(([name, base]) => {
    const last = end.get(name);
    if (last === undefined) return { name, note: 'restarted: no baseline' };
    const row = {
      name,
      heapMiB: [MiB(base.heapUsedBytes), MiB(last.heapUsedBytes)],
      heapRatio: Math.round((last.heapUsedBytes / base.heapUsedBytes) * 100) / 100,
      rssMiB: [MiB(base.rssBytes), MiB(last.rssBytes)],
      rssRatio: Math.round((last.rssBytes / base.rssBytes) * 100) / 100,
    };
    const t = MEMORY_TOLERANCE;
    if (last.heapUsedBytes > Math.max(base.heapUsedBytes * t.heapRatio, base.heapUsedBytes + t.heapSlackMiB * 2 ** 20))
      problems.push(`${name}: heap grew from ${row.heapMiB[0]} to ${row.heapMiB[1]} MiB`);
    if (last.rssBytes > Math.max(base.rssBytes * t.rssRatio, base.rssBytes + t.rssSlackMiB * 2 ** 20))
      problems.push(`${name}: RSS grew from ${row.rssMiB[0]} to ${row.rssMiB[1]} MiB`);
    return row;
  });
  const messages = analyse(pending, leavingMs);
  const summary = {
    durationS,
    participants: count,
    servers: fleetSize === 0 ? 'one default-settings server' : `fleet of ${fleetSize} on Redis`,
    restarts: { ...restarts, newcomerChecks: newcomers },
    messages,
    pendingSends: Object.fromEntries(pending),
    loadAverage: { start: loadAtStart, end: loadavg().map((l) => Math.round(l * 100) / 100) },
    memory,
    memoryTolerance: MEMORY_TOLERANCE,
    problems,
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}chaos-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(summary, null, 2));
  const m = messages;
  const failed = Object.entries(m.failedSends).map(([reason, n]) => `${reason} ${n}`);
  say(`\nchaos soak summary: ${durationS} s, ${summary.servers}, ${count} participants`);
  say(`  load average (1, 5, 15 min): start ${loadAtStart.join(' ')}, end ${summary.loadAverage.end.join(' ')}`);
  say(
    `  restarts: ${restarts.server} ${fleetSize === 0 ? 'server' : `fleet process (${restarts.drained} drained, the others killed)`}, ${restarts.participant} participant; ${newcomers} newcomer checks`,
  );
  say(
    `  messages: ${m.acknowledged + m.acknowledgedUnnamed} acknowledged (${m.acknowledgedUnnamed} unchecked), ${m.delivered} delivered, ${m.duplicates} duplicates, ${m.lost} lost`,
  );
  say(
    `  sends failed: ${failed.length === 0 ? 'none' : failed.join(', ')}; still pending at the end: ${[...pending.values()].reduce((a, n) => a + n, 0)}`,
  );
  say(
    `  attachments: ${m.attachments.delivered} delivered (${m.attachments.MiB} MiB), ${m.attachments.badHashes} with a wrong hash`,
  );
  say(
    `  killed participants seen leaving: ${m.leaveMs === null ? 'none to see' : `${m.leaveMs.seen} times, slowest after ${m.leaveMs.slowest} ms (bound ${LEAVE_WITHIN_MS})`}`,
  );
  say('  memory after GC, baseline -> end:');
  for (const row of memory)
    say(
      'note' in row
        ? `    ${row.name.padEnd(4)} ${row.note}`
        : `    ${row.name.padEnd(4)} heap ${row.heapMiB[0]} -> ${row.heapMiB[1]} MiB (x${row.heapRatio}), RSS ${row.rssMiB[0]} -> ${row.rssMiB[1]} MiB (x${row.rssRatio})`,
    );
  say(
    problems.length === 0
      ? 'all checks passed'
      : `${problems.length} problems (logs kept in ${logDir}):\n  ${problems.slice(0, 30).join('\n  ')}`,
  );
  say(`results: ${file}`);
  exitCode = problems.length === 0 ? 0 : 1;
} catch (err) {
  say(`chaos soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)} (logs kept in ${logDir})`);
} finally {
  await cleanUp();
  if (exitCode === 0) rmSync(logDir, { recursive: true, force: true });
}
process.exit(exitCode);
