/**
 * The servers of one bench run, in their own process (the socket.io relay is on the data path of its
 * baseline, as in a real deployment): the roommesh signaling server and the relay, both on 127.0.0.1.
 * The signaling server also serves the folder named by the first argument, if any (the Chromium
 * participants' page), and the browser bundle at /roommesh.js, as it does for the demo.
 * Tells its parent { signalingUrl, relayUrl } over IPC; stops when the parent disconnects.
 */
import { createSignalingServer } from '../../signaling/server.js';
import type { ServerUrls } from '../protocol.js';
import { createRelayServer } from './relay-server.js';

const staticDir = process.argv[2] ?? false;
// The relay is set up as README's "Relayed path" advises an operator who relays files: its rate limits lifted
// (0: none), so that the relayed path is compared with the socket.io relay as a path, not as the default
// limits (4 MiB/s per connection, 64 MiB/s per process) allow; and 256 KiB frames (events of up to 257 KiB;
// the socket.io relay here takes messages of up to 1 MB), since every frame costs a seal, an open and two
// socket.io packets whatever its size. Measured (attachment, Node, alternating runs): 63 KiB frames 0.6×
// socket.io's throughput, 256 KiB 0.9×, with the Node client's unmasked websocket frames.
const signaling = await createSignalingServer({
  port: 0,
  host: '127.0.0.1',
  staticDir,
  maxPayloadBytes: 257 * 1024,
  maxRelayFrameBytes: 256 * 1024,
  relayBytesPerSecond: 0,
  relayBudgetBytesPerSecond: 0,
});
const relay = await createRelayServer();
const urls: ServerUrls = { signalingUrl: signaling.url, relayUrl: relay.url };
process.send?.(urls);

const stop = async (): Promise<void> => {
  await Promise.all([signaling.close(), relay.close()]);
  process.exit(0);
};
process.once('disconnect', () => void stop());
process.once('SIGTERM', () => void stop());
