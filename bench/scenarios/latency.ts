import { TRANSPORTS, TRANSPORT_INFO, type LatencyShape, type TransportId } from '../protocol.js';
import { latencyCaseId, type BenchOptions } from '../options.js';
import { quantile } from '../report/stats.js';
import type { Member } from './group.js';
import { warmupSize } from './group.js';
import type { Outcome, ScenarioContext, ScenarioSpec } from './types.js';

/** A round trip above this counts as a tail event (the bound: none in 10,000 on an idle machine). */
export const TAIL_MS = 5;

/** Scenario 2: request and reply, one at a time, in every shape chosen (`latencyShapes`). */
export const latencySpec: ScenarioSpec = {
  id: 'latency',
  title: 'latency',
  describe: (o: BenchOptions) =>
    `${o.latencyRoundTrips.toLocaleString('en')} requests A → B, each answered B → A before the next; round trip at A; ` +
    `cases send/reply/bytes: sendMessage (ack) or sendMessageNowait (nowait), the reply sent inside B's message ` +
    `listener or from a later task (setImmediate), ~100 B or ~10 KiB of JSON; the baselines have one way to send, ` +
    `so their ack and nowait cases are one measurement; over${TAIL_MS}ms (in the per-round lines) counts round trips above ${TAIL_MS} ms`,
  metrics: [
    { id: 'p50Ms', label: 'p50', unit: 'ms', better: 'lower', goals: [{ vs: 'raw', ratio: 1.5 }] },
    { id: 'p99Ms', label: 'p99', unit: 'ms', better: 'lower', goals: [{ vs: 'raw', ratio: 1.2 }] },
    { id: 'p999Ms', label: 'p99.9', unit: 'ms', better: 'lower', goals: [] },
    { id: 'maxMs', label: 'max', unit: 'ms', better: 'lower', goals: [] },
  ],
  // Direct-only roommesh is the shipped roommesh once its pair has moved to direct: no line of its own.
  transports: TRANSPORTS.filter((t) => t !== 'roommesh-direct'),
};

/** What {@link latencyJobs} returns: one measurement per shape, to run in order on one pair. */
export type LatencyJob = [caseId: string, measure: (a: Member, b: Member) => Promise<Outcome>];

/**
 * The latency measurements of one pair, one per chosen shape. The first warms up with as many round
 * trips as it measures; the later ones, on code already warm, with the warm-up fraction. A baseline has
 * one way to send, so its `nowait` case repeats the outcome of its `ack` case with the same reply and size.
 */
export function latencyJobs(ctx: ScenarioContext, transport: TransportId): LatencyJob[] {
  const oneWay = TRANSPORT_INFO[transport].role !== 'roommesh';
  const done = new Map<string, Outcome>();
  return ctx.options.latencyShapes.map((shape, i): LatencyJob => {
    const key = oneWay ? `${shape.reply}/${shape.bytes}` : latencyCaseId(shape);
    return [
      latencyCaseId(shape),
      async (a, b) => {
        const earlier = done.get(key);
        if (earlier !== undefined) return earlier;
        const outcome = await measureLatency(ctx, a, b, shape, i === 0);
        done.set(key, outcome);
        return outcome;
      },
    ];
  });
}

/** Measures round trips of one shape from `a` to `b` and back, after a warm-up; `b` stays an echo. */
export async function measureLatency(
  ctx: ScenarioContext,
  a: Member,
  b: Member,
  shape: LatencyShape,
  first: boolean,
): Promise<Outcome> {
  const t = ctx.options.operationTimeoutMs;
  const count = ctx.options.latencyRoundTrips;
  await b.handle.call('echo', { send: shape.send, reply: shape.reply }, t);
  // The first shape warms up with as many round trips as it measures: one request at a time gives the JIT
  // few calls per second, and with a 10% warm-up (200) the samples mostly timed code not yet optimized
  // (measured in one process: p50 0.40 ms after 2,000 round trips, 0.21 ms after 20,000, for roommesh; the
  // raw baseline, with far less code on the path, warms up sooner, which favoured it).
  const warm = warmupSize(ctx, count, first ? count : 0);
  const args = { to: b.id, send: shape.send, bytes: shape.bytes };
  if (warm > 0) await a.handle.call('roundTrips', { ...args, count: warm }, t);
  const { samplesMs } = await a.handle.call('roundTrips', { ...args, count }, t);
  if (samplesMs.length !== count) throw new Error(`${samplesMs.length} round trips of ${count}`);
  const sorted = [...samplesMs].sort((x, y) => x - y);
  return {
    metrics: {
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      p999Ms: quantile(sorted, 0.999),
      maxMs: sorted[sorted.length - 1] as number,
    },
    detail: {
      p90Ms: quantile(sorted, 0.9),
      meanMs: sorted.reduce((s, x) => s + x, 0) / sorted.length,
      [`over${TAIL_MS}ms`]: sorted.filter((x) => x > TAIL_MS).length,
      over1ms: sorted.filter((x) => x > 1).length,
    },
  };
}
