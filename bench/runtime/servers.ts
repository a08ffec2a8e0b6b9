import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerUrls } from '../protocol.js';
import type { ServerSample } from '../scenarios/types.js';

const SERVERS_MAIN = fileURLToPath(new URL('../servers/main.js', import.meta.url));

/**
 * Node flags of the servers' process, as README's "Relaying files fast" advises an operator who relays files:
 * V8's old generation may reach 64 MB before its first full collection. Measured without it (README: The
 * relayed path): once the process had relayed the small-messages scenario, a relayed 64 MiB attachment ran
 * 3–9 full collections (one every 50–130 ms, at a live heap of 12 MB), the server's CPU per relayed MiB about
 * doubled, and the attachment ran at 0.6× the socket.io relay's rate where a fresh process gave 0.9×.
 */
export const SERVER_NODE_FLAGS: readonly string[] = Object.freeze(['--initial-old-space-size=64']);

/** The servers of a run, in their own process. */
export interface BenchServers extends ServerUrls {
  /** The servers' process id. */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the signaling server and the socket.io relay in a child process (see bench/servers/main.ts) run
 * with {@link SERVER_NODE_FLAGS} and `execArgv`; the signaling server serves `staticDir` (the Chromium
 * participants' page) when given.
 */
export function startServers(execArgv: string[] = [], staticDir?: string): Promise<BenchServers> {
  const proc = fork(SERVERS_MAIN, staticDir === undefined ? [] : [staticDir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...SERVER_NODE_FLAGS, ...execArgv],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error('bench servers did not start within 15 s'));
    }, 15_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench servers exited early (${code})`));
    });
    proc.once('message', (urls: ServerUrls) => {
      clearTimeout(timer);
      resolve({
        ...urls,
        pid: proc.pid ?? -1,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) {
            const kill = setTimeout(() => proc.kill('SIGKILL'), 5_000);
            proc.disconnect();
            await exited;
            clearTimeout(kill);
          }
        },
      });
    });
  });
}

/** Reads one sample (`name value`) of a Prometheus text body; NaN when absent. */
function promSample(body: string, name: string): number {
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} ([0-9.e+-]+)$`, 'm').exec(body)?.[1] ?? NaN);
}

/** The bench servers' process as the signaling server's /metrics tells it. */
export async function serverSample(signalingUrl: string): Promise<ServerSample> {
  const res = await fetch(`${signalingUrl}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  const body = await res.text();
  return {
    cpuMs: promSample(body, 'process_cpu_seconds_total') * 1000,
    rssBytes: promSample(body, 'process_resident_memory_bytes'),
    relayedBytes: promSample(body, 'roommesh_relayed_bytes_total'),
    relayedFrames: promSample(body, 'roommesh_relayed_frames_total'),
    // Absent until the first refusal.
    tooManyRequests: promSample(body, 'roommesh_rejections_total{reason="TooManyRequests"}') || 0,
  };
}
