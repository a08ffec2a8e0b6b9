/**
 * Which frame size moves an attachment fastest? Raw data-channel throughput (no roommesh envelope) for
 * frame sizes from 16 KiB to 256 KiB, with roommesh's backpressure (1 MiB high, 256 KiB low), measured
 * three ways:
 *
 * - `in-process`: both ends in this Node process, through roommesh's PeerLink, on each Node WebRTC
 *   implementation (node-datachannel, @roamhq/wrtc); each frame a fresh copy (roommesh cuts full chunks
 *   into one reused buffer, so this is the slower case);
 * - `node`: two participants of the bench harness in their own Node processes, the raw baseline
 *   (simple-peer on node-datachannel, bench/participant/RawMesh.ts);
 * - `chromium`: two pages of one Chromium, the same raw baseline on the browser's RTCPeerConnection.
 *
 * Sizes are interleaved round by round so that load on the machine spreads over all of them; medians
 * are printed, and everything is written to bench/results/frame-size-<date>.json.
 *
 *   npm run bench -- frame-size [MiB per run, default 64] [rounds, default 5] [--hosts in-process,node,chromium]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeerLink } from '../lib/link/PeerLink.js';
import { adaptWebRTC } from '../lib/link/webrtc.js';
import { nodeDataChannelWebRTC, silentLogger, type WebRTCImplementation } from '../lib/node.js';
import { DEFAULT_BENCH_OPTIONS } from './options.js';
import type { TransportId } from './protocol.js';
import { median } from './report/stats.js';
import { ChromiumRuntime } from './runtime/ChromiumRuntime.js';
import { NodeProcessRuntime } from './runtime/NodeProcessRuntime.js';
import { PAGE_DIR, buildBenchPage } from './runtime/page-bundle.js';
import { serverSample, startServers } from './runtime/servers.js';
import { enableAll, startGroup, stopGroup } from './scenarios/group.js';
import { toolArgs, usageError } from './tool-args.js';

const MiB = 1024 * 1024;
const FRAME_SIZES = [16, 32, 64, 128, 256].map((k) => k * 1024);
const WAYS = ['in-process', 'node', 'chromium'] as const;
type Way = (typeof WAYS)[number];

const USAGE = `npm run bench -- frame-size [MiB > 0, default 64] [rounds ≥ 1, default 5] [--hosts ${WAYS.join(',')}]`;
const { values, positionals } = toolArgs(USAGE, {
  allowPositionals: true,
  options: { hosts: { type: 'string' } },
});
const totalBytes = Number(positionals[0] ?? 64) * MiB;
const rounds = Number(positionals[1] ?? 5);
const ways = (values.hosts ?? WAYS.join(',')).split(',') as Way[];
if (!(totalBytes > 0) || !Number.isSafeInteger(rounds) || rounds < 1 || ways.some((w) => !WAYS.includes(w)))
  usageError(USAGE, `frame-size cannot take '${process.argv.slice(2).join(' ')}'`);

/** One throughput measurement: MiB/s for `totalBytes` in frames of `frameBytes`, until the receiver has them all. */
type Measure = (frameBytes: number) => Promise<number>;

/** Runs every frame size `rounds` times, interleaved, after one warm-up run; returns MiB/s per size. */
async function sweep(measure: Measure): Promise<Map<number, number[]>> {
  const runs = new Map<number, number[]>(FRAME_SIZES.map((f) => [f, []]));
  await measure(64 * 1024);
  for (let r = 0; r < rounds; r++) {
    for (const f of FRAME_SIZES) runs.get(f)!.push(await measure(f));
  }
  return runs;
}

async function linkPair(wrtc: WebRTCImplementation): Promise<[PeerLink, PeerLink]> {
  const a = new PeerLink({ initiator: true, wrtc, rtcConfig: { iceServers: [] }, logger: silentLogger });
  const b = new PeerLink({ initiator: false, wrtc, rtcConfig: { iceServers: [] }, logger: silentLogger });
  a.on('signal', (d) => b.signal(d));
  b.on('signal', (d) => a.signal(d));
  await Promise.all([
    new Promise<void>((r) => a.once('open', () => r())),
    new Promise<void>((r) => b.once('open', () => r())),
  ]);
  return [a, b];
}

/** In this process, through PeerLink: its `writable` / 'writable' backpressure, a fresh frame each time. */
function inProcess(a: PeerLink, b: PeerLink, source: Uint8Array): Measure {
  return async (frameBytes) => {
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
  };
}

const results: Record<string, { what: string; medianMiBps: Record<string, number>; runs: Record<string, number[]> }> =
  {};

function report(name: string, what: string, runs: Map<number, number[]>): void {
  results[name] = { what, medianMiBps: {}, runs: {} };
  console.log(
    `\n${name} (${what}): ${totalBytes / MiB} MiB per run, ${rounds} rounds; load average ${loadavg()[0]!.toFixed(2)}`,
  );
  for (const f of FRAME_SIZES) {
    const xs = runs.get(f)!;
    results[name].medianMiBps[`${f / 1024} KiB`] = median(xs);
    results[name].runs[`${f / 1024} KiB`] = xs;
    console.log(
      `  ${String(f / 1024).padStart(3)} KiB frames: median ${median(xs).toFixed(1).padStart(6)} MiB/s   (${xs.map((x) => x.toFixed(0)).join(', ')})`,
    );
  }
}

const startedAt = new Date();
const loadAtStart = loadavg()[0]!;

if (ways.includes('in-process')) {
  const implementations: Array<[string, () => WebRTCImplementation]> = [
    ['node-datachannel', nodeDataChannelWebRTC],
    ['@roamhq/wrtc', () => adaptWebRTC(createRequire(import.meta.url)('@roamhq/wrtc') as WebRTCImplementation)],
  ];
  const source = new Uint8Array(8 * MiB).map((_, i) => (i * 7) & 0xff);
  for (const [name, impl] of implementations) {
    const [a, b] = await linkPair(impl());
    report(`${name}, one process`, 'PeerLink to PeerLink in one Node process', await sweep(inProcess(a, b, source)));
    a.close();
    b.close();
  }
}

// Between two participants of the bench harness: the raw baseline's sendBlob with the frame size asked.
const harnessWays = ways.filter((w): w is 'node' | 'chromium' => w !== 'in-process');
if (harnessWays.length > 0) {
  if (harnessWays.includes('chromium')) await buildBenchPage();
  const servers = await startServers([], harnessWays.includes('chromium') ? PAGE_DIR : undefined);
  const runtimes = {
    node: new NodeProcessRuntime(),
    chromium: new ChromiumRuntime({ pageUrl: `${servers.signalingUrl}/` }),
  };
  const options = { ...DEFAULT_BENCH_OPTIONS, operationTimeoutMs: 120_000 };
  const ctx = {
    runtime: (h: 'node' | 'chromium') => runtimes[h],
    urls: { signalingUrl: servers.signalingUrl, relayUrl: servers.relayUrl },
    options,
    nextRoom: () => `frames-${Date.now()}`,
    serverSample: () => serverSample(servers.signalingUrl),
  };
  const transports: Record<'node' | 'chromium', [TransportId, string]> = {
    node: ['raw', 'raw simple-peer, two Node processes (node-datachannel)'],
    chromium: ['raw-chromium', 'raw simple-peer, two pages of one Chromium'],
  };
  try {
    for (const way of harnessWays) {
      const [transport, what] = transports[way];
      const [a, b] = await startGroup(ctx, transport, 2, `frames/${way}`);
      try {
        await enableAll([a!, b!], 60_000);
        const t = options.operationTimeoutMs;
        const measure: Measure = async (chunkBytes) => {
          await b!.handle.call('expect', { from: a!.id, bytes: totalBytes }, t);
          const sent = await a!.handle.call('sendBlob', { to: b!.id, bytes: totalBytes, chunkBytes }, t);
          const got = await b!.handle.call('collect', { timeoutMs: t }, t + 5_000);
          if ('unsupported' in sent || got.bytes !== totalBytes)
            throw new Error(`${way}: ${JSON.stringify(sent)}, received ${got.bytes} bytes`);
          return totalBytes / MiB / (sent.elapsedMs / 1000);
        };
        report(way === 'node' ? 'node-datachannel, two processes' : 'Chromium, two pages', what, await sweep(measure));
      } finally {
        await stopGroup([a!, b!]);
      }
    }
  } finally {
    await Promise.all([runtimes.node.stopAll(), runtimes.chromium.stopAll()]);
    await servers.stop();
  }
}

const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const file = join(dir, `frame-size-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ startedAt: startedAt.toISOString(), totalBytes, rounds, loadAvg1: [loadAtStart, loadavg()[0]], results }, null, 2)}\n`,
);
console.log(`\nJSON: ${file}`);
