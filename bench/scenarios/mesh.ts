import type { BenchOptions } from '../options.js';
import { median } from '../report/stats.js';
import type { Member } from './group.js';
import { enableAll } from './group.js';
import type { Outcome, ScenarioContext, ScenarioSpec } from './types.js';

const MiB = 1024 * 1024;

/** Scenario 4: N participants enabling messaging at once. */
export const meshSpec: ScenarioSpec = {
  id: 'mesh',
  title: 'mesh formation',
  describe: (o: BenchOptions) =>
    `N = ${o.meshSizes.join(', ')} participants joined to a room call enable() at once; until every one sees all others. Peak RSS per participant process (Node only)`,
  metrics: [
    { id: 'formationMs', label: 'time', unit: 'ms', better: 'lower', goals: [{ vs: 'raw', ratio: 1.25 }] },
    { id: 'peakRssMiB', label: 'peak RSS', unit: 'MiB', better: 'lower', goals: [] },
  ],
  // socket.io relaying has no mesh to form.
  transports: ['roommesh', 'raw', 'roommesh-wrtc', 'roommesh-chromium', 'raw-chromium'],
};

/** Enables every member at once and measures until each sees all others, from the coordinator. */
export async function measureMesh(ctx: ScenarioContext, members: Member[]): Promise<Outcome> {
  const timeoutMs = Math.min(ctx.options.operationTimeoutMs, 60_000);
  const t0 = performance.now();
  const own = await enableAll(members, timeoutMs);
  const formationMs = performance.now() - t0;
  const usage = await Promise.all(members.map((m) => m.handle.call('usage', {}, 10_000)));
  const counters = await Promise.all(members.map((m) => m.handle.call('counters', {}, 10_000)));
  const peaks = usage.flatMap((u) => (u.maxRssBytes === undefined ? [] : [u.maxRssBytes / MiB]));
  const heaps = usage.flatMap((u) => (u.jsHeapBytes === undefined ? [] : [u.jsHeapBytes / MiB]));
  const detail: Record<string, number> = {
    slowestOwnEnableMs: Math.max(...own),
    medianCpuMs: median(usage.map((u) => u.cpuMs)),
    redials: counters.reduce((n, c) => n + (c.redials ?? 0), 0),
  };
  if (peaks.length > 0) detail.maxPeakRssMiB = Math.max(...peaks);
  if (heaps.length > 0) detail.medianJsHeapMiB = median(heaps);
  // A page cannot read its own RSS: Chromium participants report formation time only.
  return { metrics: peaks.length > 0 ? { formationMs, peakRssMiB: median(peaks) } : { formationMs }, detail };
}
