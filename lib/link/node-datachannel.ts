import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import type * as NodeDataChannel from 'node-datachannel';
import type * as Polyfill from 'node-datachannel/polyfill';
import { RoomMeshError } from '../errors.js';
import type { WebRTCImplementation } from './webrtc.js';
import { adaptWebRTC, markLiveBufferedAmount } from './webrtc.js';

/** The command that installs node-datachannel, as the error for its absence names it. */
export const NODE_DATACHANNEL_INSTALL = 'npm install node-datachannel';

/**
 * A package roommesh needs for what was asked is not installed: it is an optional peer dependency, so
 * that browser apps do not install it. The message names the `npm install` command.
 */
export class MissingDependencyError extends RoomMeshError {
  override name = 'MissingDependencyError';
  declare readonly reason: 'MissingDependency';
  /** The package that is missing. */
  readonly packageName: string;

  constructor(packageName: string, install: string, options?: { cause?: unknown }) {
    super(
      'MissingDependency',
      `${packageName} is not installed: roommesh in Node needs it for WebRTC (run \`${install}\`, ` +
        'or pass your own implementation as the `wrtc` option)',
      options,
    );
    this.packageName = packageName;
  }
}

/**
 * node-datachannel, loaded at first use rather than at import: it is an optional peer dependency (a
 * native module browser apps never load), so importing the Node entry works without it and only a
 * Room that needs the default WebRTC implementation asks for it. Loaded through its CommonJS build,
 * which `require` gives synchronously.
 */
function loadNodeDataChannel(): { ndc: typeof NodeDataChannel; polyfill: typeof Polyfill } {
  const require = createRequire(import.meta.url);
  try {
    return {
      ndc: require('node-datachannel') as typeof NodeDataChannel,
      polyfill: require('node-datachannel/polyfill') as typeof Polyfill,
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND')
      throw new MissingDependencyError('node-datachannel', NODE_DATACHANNEL_INSTALL, { cause: err });
    throw err;
  }
}

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
function releaseWhenIdle(cleanup: () => void): void {
  setImmediate(() => {
    if (open === 0) cleanup();
  });
}

let cached: WebRTCImplementation | undefined;

/**
 * node-datachannel's polyfill, adapted for simple-peer: the Node entry's default WebRTC implementation.
 * Throws {@link MissingDependencyError} when node-datachannel is not installed.
 */
export function nodeDataChannelWebRTC(): WebRTCImplementation {
  if (cached !== undefined) return cached;
  const { ndc, polyfill } = loadNodeDataChannel();
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
      if (--open === 0) releaseWhenIdle(ndc.cleanup);
    }
  }
  // libdatachannel sends on its own thread, and `bufferedAmount` asks it how much is left: it falls during a
  // long task too, which PeerLink's `writable` uses (see PeerLink's REREAD_WAITING_MS).
  cached = markLiveBufferedAmount(
    adaptWebRTC(
      {
        RTCPeerConnection: CountedPeerConnection,
        RTCSessionDescription: polyfill.RTCSessionDescription,
        RTCIceCandidate: polyfill.RTCIceCandidate,
      },
      loopbackOnly() ? { bindAddress: '127.0.0.1' } : {},
    ),
  );
  return cached;
}
