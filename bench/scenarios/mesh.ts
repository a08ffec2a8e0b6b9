import { startsRelayed, type TransportId } from '../protocol.js';
import type { BenchOptions } from '../options.js';
import { median } from '../report/stats.js';
import type { Member } from './group.js';
import { enableAll } from './group.js';
import type { Outcome, ScenarioContext, ScenarioSpec, ServerSample } from './types.js';

const MiB = 1024 * 1024;

/** The transports whose pairs start relayed and move to direct: the cost of relaying first is theirs. */
const RELAY_FIRST: readonly TransportId[] = ['roommesh', 'roommesh-wrtc', 'roommesh-chromium'];

/** Scenario 4: N participants enabling messaging at once. */
export const meshSpec: ScenarioSpec = {
  id: 'mesh',
  title: 'mesh formation',
  describe: (o: BenchOptions) =>
    `N = ${o.meshSizes.join(', ')} participants joined to a room call enable() at once; until every one sees all others (presence complete). ` +
    `Peak RSS per participant process (Node only). For relay-first (roommesh as shipped): until every pair is direct, ` +
    `and the bytes the signaling server relayed from enable() until then (its roommesh_relayed_bytes_total), per room and per pair`,
  metrics: [
    {
      id: 'formationMs',
      label: 'presence complete',
      unit: 'ms',
      better: 'lower',
      goals: [
        // Issue #13: at most 1.1x raw simple-peer at every N; issue #12: presence under 100 ms at N = 10.
        { vs: 'raw', ratio: 1.1 },
        { value: 100, caseId: 'N=10', transports: ['roommesh'] },
      ],
    },
    { id: 'peakRssMiB', label: 'peak RSS', unit: 'MiB', better: 'lower', goals: [] },
    { id: 'directMs', label: 'all pairs direct', unit: 'ms', better: 'lower', goals: [], transports: RELAY_FIRST },
    {
      id: 'relayedKiB',
      label: 'relayed before the switch, whole room',
      unit: 'KiB',
      better: 'lower',
      goals: [],
      transports: RELAY_FIRST,
    },
    {
      id: 'relayedKiBPerPair',
      label: 'relayed before the switch, per pair',
      unit: 'KiB',
      better: 'lower',
      goals: [],
      transports: RELAY_FIRST,
    },
  ],
  // socket.io relaying has no mesh to form. Relay-only beside relay-first and direct-only: what presence over
  // the relay costs when no direct connects compete with it for the cores.
  transports: [
    'roommesh',
    'roommesh-relayed',
    'roommesh-direct',
    'raw',
    'roommesh-wrtc',
    'roommesh-chromium',
    'raw-chromium',
  ],
};

/**
 * Enables every member at once and measures until each sees all others, from the coordinator; for a
 * relay-first transport, also until every pair is direct and what the server relayed until then.
 */
export async function measureMesh(ctx: ScenarioContext, members: Member[], transport: TransportId): Promise<Outcome> {
  const relayFirst = startsRelayed(transport);
  const start = await ctx.serverSample();
  const before = relayFirst ? start : undefined;
  // Refusals the server counted since `start`: an honest client should cause none.
  const refused = async (): Promise<number> => (await ctx.serverSample()).tooManyRequests - start.tooManyRequests;
  try {
    return await formMesh(ctx, members, before, refused);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message} (TooManyRequests refusals: ${await refused().catch(() => NaN)})`);
  }
}

async function formMesh(
  ctx: ScenarioContext,
  members: Member[],
  before: ServerSample | undefined,
  refused: () => Promise<number>,
): Promise<Outcome> {
  const timeoutMs = Math.min(ctx.options.operationTimeoutMs, 60_000);
  const serverBefore = await ctx.serverSample();
  const t0 = performance.now();
  const replies = await enableAll(members, timeoutMs);
  const formationMs = performance.now() - t0;
  // The server's CPU from enable() to presence: taken before anything else runs after the window.
  const serverAfter = await ctx.serverSample();
  const serverCpuMs = serverAfter.cpuMs - serverBefore.cpuMs;
  const pairs = (members.length * (members.length - 1)) / 2;
  const own = replies.map((r) => r.elapsedMs);
  const enableCpu = replies.flatMap((r) => (r.cpuMs === undefined ? [] : [r.cpuMs]));
  const metrics: Record<string, number> = { formationMs };
  if (before !== undefined) {
    await Promise.all(members.map((m) => m.handle.call('untilDirect', { timeoutMs }, timeoutMs + 5_000)));
    metrics.directMs = performance.now() - t0;
    const relayed = (await ctx.serverSample()).relayedBytes - before.relayedBytes;
    metrics.relayedKiB = relayed / 1024;
    metrics.relayedKiBPerPair = relayed / 1024 / pairs;
  }
  const usage = await Promise.all(members.map((m) => m.handle.call('usage', {}, 10_000)));
  const counters = await Promise.all(members.map((m) => m.handle.call('counters', {}, 10_000)));
  const peaks = usage.flatMap((u) => (u.maxRssBytes === undefined ? [] : [u.maxRssBytes / MiB]));
  const heaps = usage.flatMap((u) => (u.jsHeapBytes === undefined ? [] : [u.jsHeapBytes / MiB]));
  const detail: Record<string, number> = {
    slowestOwnEnableMs: Math.max(...own),
    medianCpuMs: median(usage.map((u) => u.cpuMs)),
    serverCpuMs,
    // Relay events per pair in the same window: what each relayed handshake and presence took.
    relayedFramesPerPair: (serverAfter.relayedFrames - serverBefore.relayedFrames) / pairs,
    redials: counters.reduce((n, c) => n + (c.redials ?? 0), 0),
    tooManyRequests: await refused(),
  };
  // Each participant's CPU across its own enable(): what presence costs it (a Node process only).
  if (enableCpu.length > 0) detail.enableCpuMs = median(enableCpu);
  if (peaks.length > 0) detail.maxPeakRssMiB = Math.max(...peaks);
  if (heaps.length > 0) detail.medianJsHeapMiB = median(heaps);
  // A page cannot read its own RSS: Chromium participants report formation time only.
  if (peaks.length > 0) metrics.peakRssMiB = median(peaks);
  return { metrics, detail };
}
