/**
 * A bench participant hosted in a Chromium page: bench/runtime/ChromiumRuntime.ts loads the page and
 * calls `roommeshBench.handle(op, args)` through playwright-core's `page.evaluate`. Bundled for the
 * browser by bench/runtime/page-bundle.ts. roommesh here is the shipped browser bundle, loaded from
 * the signaling server at /roommesh.js; the raw baseline is the same simple-peer code as in Node, on
 * the browser's own RTCPeerConnection.
 */
import type { OpName, Ops, Usage } from '../protocol.js';
import { Agent } from './Agent.js';
import type { Endpoint } from './Endpoint.js';
import { RawPeerEndpoint } from './RawPeerEndpoint.js';
import { RoommeshEndpoint } from './RoommeshEndpoint.js';
import { SocketioEndpoint } from './SocketioEndpoint.js';

/** What the page offers its coordinator, as the global `roommeshBench`. */
export interface PageAgent {
  handle<K extends OpName>(op: K, args: Ops[K][0]): Promise<Ops[K][1]>;
  /** Packets this page's connections discarded on send so far (see {@link Usage.packetsDiscardedOnSend}). */
  packetsDiscardedOnSend(): Promise<number>;
}

async function createEndpoint({ transport, urls, room, name, roommeshTimeouts }: Ops['init'][0]): Promise<Endpoint> {
  switch (transport) {
    case 'roommesh-chromium': {
      // page-bundle.ts maps this import to /roommesh.js: the library exactly as browsers get it.
      const { Room } = await import('../../lib/index.js');
      return RoommeshEndpoint.connect(Room, urls.signalingUrl, room, name, undefined, roommeshTimeouts);
    }
    case 'raw-chromium':
      return RawPeerEndpoint.connect(urls.signalingUrl, room, name, undefined);
    case 'socketio-chromium':
      return SocketioEndpoint.connect(urls.relayUrl, room);
    default:
      throw new Error(`transport ${transport} does not run in a page`);
  }
}

function usage(): Usage {
  // A page cannot read its own process's memory or CPU time; the runtime answers `usage` through CDP.
  throw new Error('usage: answered by ChromiumRuntime, not the page');
}

/** Every RTCPeerConnection this page made, so that the runtime can read their send-side discards. */
const connections = new Set<RTCPeerConnection>();
const NativePeerConnection = globalThis.RTCPeerConnection;
globalThis.RTCPeerConnection = class extends NativePeerConnection {
  constructor(config?: RTCConfiguration) {
    super(config);
    connections.add(this);
  }
};

/** Packets discarded on send so far by this page's connections, from their candidate pairs' stats. */
async function packetsDiscardedOnSend(): Promise<number> {
  let sum = 0;
  for (const pc of connections) {
    const stats = await pc.getStats().catch(() => undefined);
    stats?.forEach((s: { type?: string; packetsDiscardedOnSend?: number }) => {
      if (s.type === 'candidate-pair') sum += s.packetsDiscardedOnSend ?? 0;
    });
  }
  return sum;
}

const agent = new Agent({ createEndpoint, usage });
const pageAgent: PageAgent = { handle: (op, args) => agent.handle(op, args), packetsDiscardedOnSend };
(globalThis as typeof globalThis & { roommeshBench?: PageAgent }).roommeshBench = pageAgent;
