import { TRANSPORTS } from '../protocol.js';
import type { BenchOptions } from '../options.js';
import type { Member } from './group.js';
import { warmupSize } from './group.js';
import type { Outcome, ScenarioContext, ScenarioSpec } from './types.js';

/** Scenario 5: one participant broadcasting to the others. */
export const broadcastSpec: ScenarioSpec = {
  id: 'broadcast',
  title: 'broadcast fan-out',
  describe: (o: BenchOptions) =>
    `${o.broadcastMessages.toLocaleString('en')} broadcasts of a ~100 B message from one participant to ${o.broadcastReceivers} others, pipelined; until every receiver has them all`,
  metrics: [{ id: 'msgPerSec', label: 'msg/s to all', unit: 'msg/s', better: 'higher', goals: [] }],
  // The path variants of roommesh are measured where their path matters (pairs, mesh formation).
  transports: TRANSPORTS.filter((t) => t !== 'roommesh-direct' && t !== 'roommesh-relayed'),
};

async function fanOut(ctx: ScenarioContext, sender: Member, receivers: Member[], count: number): Promise<number> {
  const t = ctx.options.operationTimeoutMs;
  await Promise.all(receivers.map((r) => r.handle.call('expect', { from: sender.id, messages: count }, t)));
  const { elapsedMs } = await sender.handle.call('broadcastMany', { count, receivers: receivers.map((r) => r.id) }, t);
  const got = await Promise.all(receivers.map((r) => r.handle.call('collect', { timeoutMs: t }, t + 5_000)));
  const short = got.findIndex((g) => g.messages !== count);
  if (short >= 0) throw new Error(`receiver ${short} got ${got[short]?.messages} of ${count}`);
  return elapsedMs;
}

/** Measures broadcasts from the first member to all the others, after a warm-up. */
export async function measureBroadcast(ctx: ScenarioContext, members: Member[]): Promise<Outcome> {
  const [sender, ...receivers] = members as [Member, ...Member[]];
  const count = ctx.options.broadcastMessages;
  const warm = warmupSize(ctx, count, 200);
  if (warm > 0) await fanOut(ctx, sender, receivers, warm);
  const elapsedMs = await fanOut(ctx, sender, receivers, count);
  return {
    metrics: { msgPerSec: (count / elapsedMs) * 1000 },
    detail: { deliveriesPerSec: ((count * receivers.length) / elapsedMs) * 1000, elapsedMs },
  };
}
