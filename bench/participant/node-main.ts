/**
 * A bench participant hosted in its own Node process: requests arrive over IPC from the coordinator
 * (bench/runtime/NodeProcessRuntime.ts), answers go back the same way. After `close` the process exits, so
 * that `--cpu-prof` writes its profile.
 */
import { createRequire } from 'node:module';
import type { WebRTCImplementation } from '../../lib/node.js';
import { TRANSPORT_INFO, type Ops, type Request, type Response, type Usage } from '../protocol.js';
import { Agent } from './Agent.js';
import type { Endpoint } from './Endpoint.js';

// Each transport's modules load only when a participant uses it: a socket.io participant does not
// load WebRTC, and none loads @roamhq/wrtc but its own.
async function createEndpoint({ transport, urls, room, name, roommeshTimeouts }: Ops['init'][0]): Promise<Endpoint> {
  switch (transport) {
    case 'roommesh':
    case 'roommesh-relayed':
    case 'roommesh-direct': {
      const { Room } = await import('../../lib/node.js');
      return (await import('./RoommeshEndpoint.js')).RoommeshEndpoint.connect(
        Room,
        urls.signalingUrl,
        room,
        name,
        undefined,
        roommeshTimeouts,
        TRANSPORT_INFO[transport].paths,
      );
    }
    case 'roommesh-wrtc': {
      const { Room } = await import('../../lib/node.js');
      const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as WebRTCImplementation;
      return (await import('./RoommeshEndpoint.js')).RoommeshEndpoint.connect(
        Room,
        urls.signalingUrl,
        room,
        name,
        wrtc,
        roommeshTimeouts,
      );
    }
    case 'raw': {
      const { rawNodeWebRTC } = await import('./node-webrtc.js');
      return (await import('./RawPeerEndpoint.js')).RawPeerEndpoint.connect(
        urls.signalingUrl,
        room,
        name,
        rawNodeWebRTC,
      );
    }
    case 'socketio':
      return (await import('./SocketioEndpoint.js')).SocketioEndpoint.connect(urls.relayUrl, room);
    default:
      throw new Error(`transport ${transport} does not run in a Node process`);
  }
}

function usage(): Usage {
  const u = process.resourceUsage();
  return {
    maxRssBytes: u.maxRSS * 1024,
    rssBytes: process.memoryUsage.rss(),
    cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000,
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const agent = new Agent({ createEndpoint, usage, cpuMs });

function reply(r: Response, then?: () => void): void {
  process.send?.(r, undefined, undefined, () => then?.());
}

process.on('message', (req: Request) => {
  agent.handle(req.op, req.args).then(
    (result) => reply({ seq: req.seq, ok: true, result }, req.op === 'close' ? () => process.exit(0) : undefined),
    (err: unknown) =>
      reply({ seq: req.seq, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
// Without a coordinator there is nothing to do.
process.once('disconnect', () => process.exit(0));
