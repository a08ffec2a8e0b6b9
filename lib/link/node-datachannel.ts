import { networkInterfaces } from 'node:os';
import { cleanup } from 'node-datachannel';
import * as polyfill from 'node-datachannel/polyfill';
import type { WebRTCImplementation } from './webrtc.js';
import { adaptWebRTC } from './webrtc.js';

/**
 * True when the host has no network interface but loopback (a private network namespace, a sandbox).
 * libdatachannel then gathers no candidates unless told to bind to 127.0.0.1.
 */
function loopbackOnly(): boolean {
  return Object.values(networkInterfaces()).every((list) => (list ?? []).every((i) => i.internal));
}

/** Peer connections of this implementation created and not yet closed. */
let open = 0;

/**
 * Releases node-datachannel's native threads once the last peer connection made through roommesh has
 * closed. Without it a Node process sometimes does not exit after every connection closed: native
 * resources of a closed connection keep the event loop alive (node-datachannel#349; seen here about once
 * in ten test runs, and gone with this). It runs a turn later, and only if no connection opened
 * meanwhile; node-datachannel starts again by itself for the next connection. It would also close
 * connections an app made with node-datachannel directly: such an app passes its own `wrtc`.
 */
function releaseWhenIdle(): void {
  setImmediate(() => {
    if (open === 0) cleanup();
  });
}

let cached: WebRTCImplementation | undefined;

/** node-datachannel's polyfill, adapted for simple-peer: the Node entry's default WebRTC implementation. */
export function nodeDataChannelWebRTC(): WebRTCImplementation {
  if (cached !== undefined) return cached;
  const Base = polyfill.RTCPeerConnection;
  class CountedPeerConnection extends Base {
    #counted = true;
    constructor(config?: ConstructorParameters<typeof Base>[0]) {
      super(config);
      open++;
    }
    override close(): void {
      super.close();
      if (!this.#counted) return;
      this.#counted = false;
      if (--open === 0) releaseWhenIdle();
    }
  }
  cached = adaptWebRTC(
    {
      RTCPeerConnection: CountedPeerConnection,
      RTCSessionDescription: polyfill.RTCSessionDescription,
      RTCIceCandidate: polyfill.RTCIceCandidate,
    },
    loopbackOnly() ? { bindAddress: '127.0.0.1' } : {},
  );
  return cached;
}
