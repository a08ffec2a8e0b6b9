/**
 * The soak run: 10 participants, each in its own process, exchange direct and broadcast messages with
 * attachments for a while (10 minutes by default), and then it checks what the issue promises:
 * - every acknowledged message was received exactly once, by the participant it was acknowledged for;
 * - nothing was received twice, or from nowhere;
 * - memory (sampled after a GC) does not grow between the first minute and the end;
 * - each participant holds exactly one peer connection per other participant throughout, and none once
 *   it has left.
 *
 * Run inside a loopback-only network namespace (npm run bench -- soak does that):
 *   node --expose-gc dist/bench/soak.js [--minutes 10] [--participants 10]
 * Prints a summary and writes bench/results/soak-<date>.json; exits 1 when a check fails.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSignalingServer } from '../signaling/server.js';
import { nextFromChild } from '../test/support/child.js';
import { atLeast, numberArg, toolArgs } from './tool-args.js';

const USAGE = 'npm run bench -- soak [--minutes 10] [--participants 10]';
const { values } = toolArgs(USAGE, {
  options: { minutes: { type: 'string', default: '10' }, participants: { type: 'string', default: '10' } },
});
const minutes = numberArg(USAGE, '--minutes', values.minutes, 'a number of minutes over 0', (n) => n > 0 && n < 1e6);
const count = numberArg(USAGE, '--participants', values.participants, 'a whole number of at least 2', atLeast(2));
const PARTICIPANT = fileURLToPath(new URL('./soak-participant.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

interface Sample {
  tMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  openPeerConnections: number;
}
interface Report {
  id: string;
  name: string;
  sent: number;
  acknowledged: string[];
  received: string[];
  failed: number;
  failureReasons: Record<string, number>;
  samples: Sample[];
  present: number;
}

function next<T>(proc: ChildProcess, key: string, timeoutMs = 60_000): Promise<T> {
  return nextFromChild<T>({ proc }, key, timeoutMs);
}

const server = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: false });
const procs: ChildProcess[] = [];
try {
  for (let i = 0; i < count; i++) {
    const p = fork(PARTICIPANT, [server.url, 'soak', `p${i}`, String(i + 1)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    procs.push(p);
    await next<string>(p, 'ready');
  }
  const sampleAll = async (): Promise<void> => {
    await Promise.all(
      procs.map((p) => {
        const done = next(p, 'sampled');
        p.send({ sample: true });
        return done;
      }),
    );
  };
  await sampleAll();
  for (const p of procs) p.send({ start: true });
  const started = Date.now();
  const endAt = started + minutes * 60_000;
  while (Date.now() < endAt) {
    await new Promise((r) => setTimeout(r, Math.min(60_000 / 4, endAt - Date.now())));
    await sampleAll();
    process.stdout.write(`  ${((Date.now() - started) / 60_000).toFixed(1)} min\n`);
  }
  await Promise.all(
    procs.map((p) => {
      const done = next(p, 'stopped', 120_000);
      p.send({ stop: true });
      return done;
    }),
  );
  await sampleAll();
  const reports = await Promise.all(
    procs.map((p) => {
      const r = next<Report>(p, 'report');
      p.send({ report: true });
      return r;
    }),
  );
  const left = await Promise.all(
    procs.map((p) => {
      const r = next<{ openPeerConnections: number }>(p, 'left');
      p.send({ leave: true });
      return r;
    }),
  );

  // Exactly once: every acknowledged (to, n, from) is in `to`'s received list once; nothing else is.
  const byId = new Map(reports.map((r) => [r.id, r]));
  const problems: string[] = [];
  let acknowledgedTotal = 0;
  let receivedTotal = 0;
  const receivedCounts = new Map<string, number>();
  for (const r of reports) {
    receivedTotal += r.received.length;
    for (const key of r.received) receivedCounts.set(`${r.id} ${key}`, (receivedCounts.get(`${r.id} ${key}`) ?? 0) + 1);
  }
  for (const [key, c] of receivedCounts) if (c > 1) problems.push(`received ${c} times: ${key}`);
  for (const r of reports) {
    for (const entry of r.acknowledged) {
      acknowledgedTotal++;
      const [to, n] = entry.split(' ');
      if (!byId.has(to!)) problems.push(`acknowledged by an unknown participant: ${entry}`);
      else if (receivedCounts.get(`${to} ${r.id} ${n}`) !== 1)
        problems.push(`acknowledged but not received exactly once: ${r.id} -> ${entry}`);
    }
  }
  // Every received message must have come from a real send (at most as many as were sent).
  for (const key of receivedCounts.keys()) {
    const [, from, n] = key.split(' ');
    const sender = byId.get(from!);
    if (sender === undefined || Number(n) > sender.sent) problems.push(`received a message nobody sent: ${key}`);
  }
  // Memory: after a GC, the last sample against the one at one minute (or the first after start).
  const memory = reports.map((r) => {
    const during = r.samples.slice(1);
    const base = during.find((s) => s.tMs >= 60_000) ?? during[0]!;
    const last = r.samples.at(-1)!;
    return {
      name: r.name,
      baseHeapMiB: base.heapUsedBytes / 2 ** 20,
      lastHeapMiB: last.heapUsedBytes / 2 ** 20,
      baseRssMiB: base.rssBytes / 2 ** 20,
      lastRssMiB: last.rssBytes / 2 ** 20,
    };
  });
  for (const m of memory) {
    if (m.lastHeapMiB > m.baseHeapMiB * 1.5 + 8)
      problems.push(`${m.name}: heap grew from ${m.baseHeapMiB.toFixed(1)} to ${m.lastHeapMiB.toFixed(1)} MiB`);
  }
  for (const r of reports) {
    const counts = new Set(r.samples.slice(1).map((s) => s.openPeerConnections));
    if ([...counts].some((c) => c !== count - 1))
      problems.push(`${r.name}: open peer connections ${[...counts].join(', ')}, expected ${count - 1}`);
  }
  left.forEach((l, i) => {
    if (l.openPeerConnections !== 0)
      problems.push(`p${i}: ${l.openPeerConnections} peer connections open after leaving`);
  });
  const failed = reports.reduce((a, r) => a + r.failed, 0);
  const sent = reports.reduce((a, r) => a + r.sent, 0);
  const summary = {
    minutes,
    participants: count,
    sent,
    acknowledgedDeliveries: acknowledgedTotal,
    received: receivedTotal,
    failedDeliveries: failed,
    memory,
    problems,
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(summary, null, 2));
  process.stdout.write(
    `\nsoak: ${count} participants, ${minutes} min: ${sent} messages sent, ${acknowledgedTotal} deliveries acknowledged, ${receivedTotal} received, ${failed} failed\n`,
  );
  for (const m of memory)
    process.stdout.write(
      `  ${m.name}: heap ${m.baseHeapMiB.toFixed(1)} -> ${m.lastHeapMiB.toFixed(1)} MiB, rss ${m.baseRssMiB.toFixed(0)} -> ${m.lastRssMiB.toFixed(0)} MiB\n`,
    );
  process.stdout.write(
    problems.length === 0
      ? 'all checks passed\n'
      : `${problems.length} problems:\n  ${problems.slice(0, 20).join('\n  ')}\n`,
  );
  process.stdout.write(`results: ${file}\n`);
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  for (const p of procs) p.kill('SIGKILL');
  await server.close();
}
