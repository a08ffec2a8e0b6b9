/**
 * Which frame size moves an attachment fastest? Raw data-channel throughput (no roommesh envelope) for
 * frame sizes from 16 KiB to 256 KiB, with the same backpressure roommesh uses (PeerLink's writable /
 * 'writable'), both ends in one Node process, on each Node WebRTC implementation. Sizes are interleaved
 * round by round so that load on the machine spreads over all of them; medians are printed.
 *
 *   node scripts/netns.mjs-wrapped: npm run bench -- frame-size      (or directly, inside a netns:)
 *   node dist/bench/frame-size.js [MiB per run, default 64] [rounds, default 5]
 */
import { createRequire } from 'node:module';
import { PeerLink } from '../lib/internal/PeerLink.js';
import { adaptWebRTC } from '../lib/internal/webrtc.js';
import { nodeDataChannelWebRTC, silentLogger, type WebRTCImplementation } from '../lib/node.js';

const MiB = 1024 * 1024;
const totalBytes = Number(process.argv[2] ?? 64) * MiB;
const rounds = Number(process.argv[3] ?? 5);
const FRAME_SIZES = [16, 32, 64, 128, 256].map((k) => k * 1024);

async function pair(wrtc: WebRTCImplementation): Promise<[PeerLink, PeerLink]> {
  const a = new PeerLink({ initiator: true, wrtc, rtcConfig: { iceServers: [] }, logger: silentLogger });
  const b = new PeerLink({ initiator: false, wrtc, rtcConfig: { iceServers: [] }, logger: silentLogger });
  a.on('signal', (d) => b.signal(d));
  b.on('signal', (d) => a.signal(d));
  await Promise.all([new Promise<void>((r) => a.once('open', () => r())), new Promise<void>((r) => b.once('open', () => r()))]);
  return [a, b];
}

/** MiB/s for `totalBytes` sent in frames of `frameBytes`, until the receiver has them all. */
async function run(a: PeerLink, b: PeerLink, frameBytes: number, source: Uint8Array): Promise<number> {
  let received = 0;
  const done = new Promise<void>((resolve) => {
    const onData = (d: Uint8Array): void => {
      received += d.byteLength;
      if (received >= totalBytes) {
        b.off('data', onData);
        resolve();
      }
    };
    b.on('data', onData);
  });
  let offset = 0;
  const pump = (): void => {
    while (offset < totalBytes && a.writable) {
      // A fresh frame each time, as roommesh cuts them (one copy of the bytes).
      a.write(source.slice(offset % source.byteLength, (offset % source.byteLength) + frameBytes));
      offset += frameBytes;
    }
  };
  a.on('writable', pump);
  const t0 = performance.now();
  pump();
  await done;
  const seconds = (performance.now() - t0) / 1000;
  a.off('writable', pump);
  return totalBytes / MiB / seconds;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

const implementations: Array<[string, () => WebRTCImplementation]> = [
  ['node-datachannel', nodeDataChannelWebRTC],
  ['@roamhq/wrtc', () => adaptWebRTC(createRequire(import.meta.url)('@roamhq/wrtc') as WebRTCImplementation)],
];
const source = new Uint8Array(8 * MiB).map((_, i) => (i * 7) & 0xff);
const results: Record<string, Record<string, { medianMiBps: number; runs: number[] }>> = {};
for (const [name, impl] of implementations) {
  const [a, b] = await pair(impl());
  const runs = new Map<number, number[]>(FRAME_SIZES.map((f) => [f, []]));
  await run(a, b, 64 * 1024, source); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const f of FRAME_SIZES) runs.get(f)!.push(await run(a, b, f, source));
  }
  a.close();
  b.close();
  results[name] = {};
  console.log(`\n${name}: ${totalBytes / MiB} MiB per run, ${rounds} rounds`);
  for (const f of FRAME_SIZES) {
    const xs = runs.get(f)!;
    results[name][`${f / 1024} KiB`] = { medianMiBps: median(xs), runs: xs };
    console.log(`  ${String(f / 1024).padStart(3)} KiB frames: median ${median(xs).toFixed(1).padStart(6)} MiB/s   (${xs.map((x) => x.toFixed(0)).join(', ')})`);
  }
}
console.log(`\n${JSON.stringify(results)}`);
