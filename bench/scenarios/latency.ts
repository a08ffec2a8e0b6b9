import { TRANSPORTS } from '../protocol.js';
import type { BenchOptions } from '../options.js';
import { quantile } from '../report/stats.js';
import type { Member } from './group.js';
import { warmupSize } from './group.js';
import type { Outcome, ScenarioContext, ScenarioSpec } from './types.js';

/** Scenario 2: request and reply, one at a time. */
export const latencySpec: ScenarioSpec = {
  id: 'latency',
  title: 'latency',
  describe: (o: BenchOptions) =>
    `${o.latencyRoundTrips.toLocaleString('en')} requests A → B of a ~100 B message, each answered B → A before the next; round trip at A`,
  metrics: [
    { id: 'p50Ms', label: 'p50', unit: 'ms', better: 'lower', goals: [{ vs: 'raw', ratio: 1.5 }] },
    { id: 'p99Ms', label: 'p99', unit: 'ms', better: 'lower', goals: [] },
  ],
  transports: TRANSPORTS, // every transport measures this
};

/**
 * Measures round trips from `a` to `b` and back, after a warm-up. It turns `b` into an echo for good,
 * so it runs last on a pair.
 */
export async function measureLatency(ctx: ScenarioContext, a: Member, b: Member): Promise<Outcome> {
  const t = ctx.options.operationTimeoutMs;
  const count = ctx.options.latencyRoundTrips;
  await b.handle.call('echo', {}, t);
  // As many warm-up round trips as measured ones: one request at a time gives the JIT few calls per second,
  // and with a 10% warm-up (200) the samples mostly timed code not yet optimized (measured in one process:
  // p50 0.40 ms after 2,000 round trips, 0.21 ms after 20,000, for roommesh; the raw baseline, with far less
  // code on the path, warms up sooner, which favoured it).
  const warm = warmupSize(ctx, count, count);
  if (warm > 0) await a.handle.call('roundTrips', { to: b.id, count: warm }, t);
  const { samplesMs } = await a.handle.call('roundTrips', { to: b.id, count }, t);
  if (samplesMs.length !== count) throw new Error(`${samplesMs.length} round trips of ${count}`);
  const sorted = [...samplesMs].sort((x, y) => x - y);
  return {
    metrics: { p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) },
    detail: {
      p90Ms: quantile(sorted, 0.9),
      maxMs: sorted[sorted.length - 1] as number,
      meanMs: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    },
  };
}
