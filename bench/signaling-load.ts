/**
 * Load on one signaling process (issue 5's benchmark): simulated participants (socket.io-client only, no
 * WebRTC) join rooms of 5, enable messaging, and relay a full mesh's worth of signals (each participant
 * sends one offer to every other member of its room). Reports joins per second, signals per second, and
 * the server's memory per connected participant (RSS and heap, from its own /metrics).
 *
 *   npm run bench -- signaling-load [participants...]     # default: 1000 10000
 *
 * The server runs as `roommesh-signal` in a child process on 127.0.0.1 with its per-client limits off;
 * the clients share this process. Run it inside the loopback-only namespace (scripts/netns.mjs).
 */
import { io, type Socket } from 'socket.io-client';
import type { JoinReply, Reply } from '../lib/protocol/signaling.js';
import { SIGNALING_VERSION } from '../lib/protocol/signaling.js';
import { httpGet, startSignal, stop } from '../test/support/processes.js';
import { atLeast, numberArg, toolArgs } from './tool-args.js';

const ROOM_SIZE = 5;
const CONCURRENCY = 200;

async function memory(port: number): Promise<{ rss: number; heap: number }> {
  const text = (await httpGet(port, '/metrics')).body;
  const value = (name: string): number =>
    Number(/^(\S+) (\S+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2] ?? NaN);
  return { rss: value('process_resident_memory_bytes'), heap: value('nodejs_heap_size_used_bytes') };
}

async function pool<T>(items: T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

async function scenario(n: number): Promise<Record<string, number>> {
  // roommesh-signal on 127.0.0.1, started and awaited (/readyz) the way the tests start it.
  const server = await startSignal([
    '--log-level',
    'warn',
    '--max-connections',
    '0',
    '--joins-per-second-per-ip',
    '0',
    '--signals-per-second',
    '0',
    '--max-participants-per-room',
    '0',
    '--max-connections-per-ip',
    '0',
    '--toggles-per-second',
    '0',
  ]);
  const { port, url } = server;
  try {
    const before = await memory(port);

    const sockets: Socket[] = [];
    await pool(
      Array.from({ length: n }, (_, i) => i),
      async () => {
        const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
        await new Promise<void>((resolve, reject) => {
          s.once('connect', () => resolve());
          s.once('connect_error', reject);
        });
        sockets.push(s);
      },
    );

    const ids = new Array<string>(n);
    const t0 = performance.now();
    await pool(
      sockets.map((s, i) => [s, i] as const),
      async ([s, i]) => {
        const r = (await s.timeout(30_000).emitWithAck('join', {
          v: SIGNALING_VERSION,
          room: `room-${Math.floor(i / ROOM_SIZE)}`,
          name: `p${i}`,
        })) as Reply<JoinReply>;
        if (!r.ok) throw new Error(`join refused: ${JSON.stringify(r)}`);
        ids[i] = r.data.self.id;
        const e = (await s.timeout(30_000).emitWithAck('enable_messaging')) as Reply<unknown>;
        if (!e.ok) throw new Error('enable refused');
      },
    );
    const joinMs = performance.now() - t0;
    const joined = await memory(port);

    let received = 0;
    for (const s of sockets) s.on('signal', () => received++);
    const sends: Array<[Socket, string]> = [];
    for (let i = 0; i < n; i++) {
      const base = Math.floor(i / ROOM_SIZE) * ROOM_SIZE;
      for (let j = base; j < Math.min(base + ROOM_SIZE, n); j++) if (j !== i) sends.push([sockets[i]!, ids[j]!]);
    }
    const t1 = performance.now();
    await pool(sends, async ([s, to]) => {
      const r = (await s.timeout(30_000).emitWithAck('signal', {
        to,
        cid: 'bench',
        data: { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n' },
      })) as Reply<unknown>;
      if (!r.ok) throw new Error(`signal refused: ${JSON.stringify(r)}`);
    });
    while (received < sends.length) await new Promise((r) => setTimeout(r, 5));
    const signalMs = performance.now() - t1;

    for (const s of sockets) s.disconnect();
    return {
      participants: n,
      joinsPerSecond: Math.round(n / (joinMs / 1000)),
      signalsPerSecond: Math.round(sends.length / (signalMs / 1000)),
      rssPerParticipantKiB: Math.round((joined.rss - before.rss) / n / 1024),
      heapPerParticipantKiB: Math.round(((joined.heap - before.heap) / n / 1024) * 10) / 10,
    };
  } finally {
    await stop(server);
  }
}

const USAGE = 'npm run bench -- signaling-load [participants...]   (default: 1000 10000)';
const { positionals } = toolArgs(USAGE, { allowPositionals: true, options: {} });
const sizes = positionals.map((p) =>
  numberArg(USAGE, 'a participant count', p, 'a whole number of at least 1', atLeast(1)),
);
for (const n of sizes.length > 0 ? sizes : [1000, 10_000]) {
  console.log(JSON.stringify(await scenario(n)));
}
