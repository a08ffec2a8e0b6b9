import { TRANSPORTS } from '../protocol.js';
import type { BenchOptions } from '../options.js';
import type { Member } from './group.js';
import { warmupSize } from './group.js';
import type { Outcome, ScenarioContext, ScenarioSpec } from './types.js';

const MiB = 1024 * 1024;

/** Scenario 3: one large attachment. */
export const attachmentSpec: ScenarioSpec = {
  id: 'attachment',
  title: 'attachment',
  describe: (o: BenchOptions) =>
    `one ${o.attachmentBytes / MiB} MiB attachment A → B, until B has it all (roommesh cuts its own chunk frames; raw and socket.io send 64 KiB chunks; raw waits on bufferedAmount)`,
  metrics: [
    {
      id: 'mibPerSec',
      label: 'MiB/s',
      unit: 'MiB/s',
      better: 'higher',
      goals: [
        { vs: 'raw', ratio: 0.9 },
        // No "3x socket.io" goal: on loopback the relay's two hops are kernel TCP, faster than a data
        // channel's user-space SCTP over DTLS (raw itself is 3.6x on small messages, 0.69x on attachments).
      ],
    },
  ],
  transports: TRANSPORTS, // every transport measures this
};

type Sent = { elapsedMs: number } | { unsupported: string };

async function transfer(ctx: ScenarioContext, a: Member, b: Member, bytes: number): Promise<Sent> {
  const t = ctx.options.operationTimeoutMs;
  await b.handle.call('expect', { from: a.id, bytes }, t);
  const sent = await a.handle.call('sendBlob', { to: b.id, bytes }, t);
  if ('unsupported' in sent) return sent; // the receiver's expectation is dropped with the pair
  const got = await b.handle.call('collect', { timeoutMs: t }, t + 5_000);
  if (got.bytes !== bytes) throw new Error(`receiver got ${got.bytes} of ${bytes} bytes`);
  return sent;
}

/** Measures one attachment from `a` to `b`, after a smaller warm-up on the same pair. */
export async function measureAttachment(ctx: ScenarioContext, a: Member, b: Member): Promise<Outcome> {
  const bytes = ctx.options.attachmentBytes;
  const warm = warmupSize(ctx, bytes, MiB);
  // A transport that refuses the warm-up may still take the full size: only the full size's answer counts.
  if (warm > 0) await transfer(ctx, a, b, warm);
  const sent = await transfer(ctx, a, b, bytes);
  if ('unsupported' in sent) return sent;
  return { metrics: { mibPerSec: bytes / MiB / (sent.elapsedMs / 1000) }, detail: { elapsedMs: sent.elapsedMs } };
}
