import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerUrls } from '../protocol.js';
import type { ServerSample } from '../scenarios/types.js';

const SERVERS_MAIN = fileURLToPath(new URL('../servers/main.js', import.meta.url));

/** The servers of a run, in their own process. */
export interface BenchServers extends ServerUrls {
  stop(): Promise<void>;
}

/**
 * Starts the signaling server and the socket.io relay in a child process (see bench/servers/main.ts);
 * the signaling server serves `staticDir` (the Chromium participants' page) when given.
 */
export function startServers(execArgv: string[] = [], staticDir?: string): Promise<BenchServers> {
  const proc = fork(SERVERS_MAIN, staticDir === undefined ? [] : [staticDir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
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
    // Absent until the first refusal.
    tooManyRequests: promSample(body, 'roommesh_rejections_total{reason="TooManyRequests"}') || 0,
  };
}
