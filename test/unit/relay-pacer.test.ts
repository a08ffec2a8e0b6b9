/**
 * The relay pacer against the server's bucket: frames reach the server later than they left, by a delay that
 * varies, and an honest client must still never be refused. Real timers; the "server" is the same
 * TokenBucket the signaling server meters relayed bytes with (signaling/relay-handlers.ts), reading the frames
 * in the order they left, each no earlier than its delay allows.
 */
import { expect } from 'chai';
import type { RelayTerms } from '../../lib/protocol/signaling.js';
import { RELAY_JITTER_MS, RelayPacer, pacedBucket } from '../../lib/signaling/RelayPacer.js';
import { TokenBucket } from '../../lib/util/token-bucket.js';

const TERMS: RelayTerms = { maxFrameBytes: 16 * 1024, bytesPerSecond: 512 * 1024, burstBytes: 256 * 1024 };

/**
 * Sends `frames` frames of `maxFrameBytes` at once through a pacer; the first reaches the server `delayMs`
 * late and holds the others behind it (a stalled socket, a busy server), the rest arrive as they leave.
 */
async function run(delayMs: number, frames: number): Promise<{ refused: number; arrived: number; ms: number }> {
  const server = new TokenBucket(TERMS.bytesPerSecond, TERMS.burstBytes, Date.now());
  const queue: Array<{ bytes: number; readyAtMs: number }> = [];
  let refused = 0;
  let arrived = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const drain = (): void => {
    timer = undefined;
    while (queue.length > 0 && queue[0]!.readyAtMs <= Date.now()) {
      const f = queue.shift()!;
      if (server.take(Date.now(), f.bytes)) arrived++;
      else refused++;
    }
    if (queue.length > 0) timer = setTimeout(drain, queue[0]!.readyAtMs - Date.now());
  };
  let first = true;
  const pacer = new RelayPacer(TERMS, (_to, data, sent) => {
    const readyAtMs = Math.max(queue.at(-1)?.readyAtMs ?? 0, Date.now() + (first ? delayMs : 0));
    first = false;
    queue.push({ bytes: data.byteLength, readyAtMs });
    if (timer === undefined) timer = setTimeout(drain, Math.max(0, readyAtMs - Date.now()));
    sent(true);
  });
  const startMs = Date.now();
  await Promise.all(Array.from({ length: frames }, () => pacer.send('p', new Uint8Array(TERMS.maxFrameBytes))));
  const ms = Date.now() - startMs;
  while (queue.length > 0 || timer !== undefined) await new Promise((r) => setTimeout(r, 10));
  return { refused, arrived, ms };
}

describe('RelayPacer against the server’s bucket', () => {
  it('is never refused when a burst reaches the server up to RELAY_JITTER_MS late, and still keeps to the rate', async () => {
    // 512 KiB at once: the pacer's burst, then the server's rate. The first frame is held 200 ms, so the
    // server reads it together with everything that left meanwhile.
    const { refused, arrived, ms } = await run(200, 32);
    expect(refused, 'frames the server refused').to.equal(0);
    expect(arrived).to.equal(32);
    const burst = pacedBucket(TERMS, 0)!.burst;
    // What the burst did not cover went at the pacer's rate (98% of the server's).
    expect(ms).to.be.at.least(((32 * TERMS.maxFrameBytes - burst) / (TERMS.bytesPerSecond * 0.98)) * 1000 - 20);
  });

  it("leaves the server RELAY_JITTER_MS of its rate out of its burst, but always a whole frame's worth", () => {
    expect(pacedBucket(TERMS, 0)!.burst).to.equal(TERMS.burstBytes - (TERMS.bytesPerSecond * RELAY_JITTER_MS) / 1000);
    const tight = { ...TERMS, burstBytes: TERMS.maxFrameBytes * 2 };
    expect(pacedBucket(tight, 0)!.burst).to.equal(TERMS.maxFrameBytes);
    expect(pacedBucket({ ...TERMS, bytesPerSecond: 0 }, 0)).to.equal(undefined);
  });
});
