/** A WebRTC implementation in the shape of `wrtc`: what simple-peer needs to open a connection. */
export interface WebRTCImplementation {
  RTCPeerConnection: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
}

/** Implementations whose channels' `bufferedAmount` falls within a task (see {@link markLiveBufferedAmount}). */
const liveBufferedAmount = new WeakSet<WebRTCImplementation>();

/**
 * Marks `impl` as one whose RTCDataChannel `bufferedAmount` falls as its own thread sends, even while a task
 * of the event loop runs (node-datachannel). A browser lowers it only between tasks, and @roamhq/wrtc
 * updates it only between turns. {@link adaptWebRTC} keeps the mark. Returns `impl`.
 * @internal
 */
export function markLiveBufferedAmount(impl: WebRTCImplementation): WebRTCImplementation {
  liveBufferedAmount.add(impl);
  return impl;
}

/** Whether `impl` was marked by {@link markLiveBufferedAmount}; false for a browser's own (undefined). @internal */
export function hasLiveBufferedAmount(impl: WebRTCImplementation | undefined): boolean {
  return impl !== undefined && liveBufferedAmount.has(impl);
}

type PeerConnectionClass = new (config?: Record<string, unknown>) => {
  createOffer(options?: unknown): Promise<{ type: string; sdp: string }>;
  createAnswer(options?: unknown): Promise<{ type: string; sdp: string }>;
  get remoteDescription(): { type?: string; sdp?: string } | null;
};

/**
 * Makes a `wrtc`-shaped implementation behave the way simple-peer expects:
 * offers and answers are plain `{ type, sdp }` objects (simple-peer assigns to `.sdp`, a getter in
 * node-datachannel), and `remoteDescription` is null until one is set (node-datachannel returns an
 * empty description, which would let early ICE candidates through). `extraConfig` is merged under the
 * configuration of every connection. Adapting twice is harmless, and keeps {@link markLiveBufferedAmount}'s mark.
 * @internal
 */
export function adaptWebRTC(
  impl: WebRTCImplementation,
  extraConfig: Record<string, unknown> = {},
): WebRTCImplementation {
  const Base = impl.RTCPeerConnection as PeerConnectionClass;
  class AdaptedPeerConnection extends Base {
    constructor(config: Record<string, unknown> = {}) {
      super({ ...extraConfig, ...config });
    }
    override async createOffer(options?: unknown): Promise<{ type: string; sdp: string }> {
      const d = await super.createOffer(options);
      return { type: d.type, sdp: d.sdp };
    }
    override async createAnswer(options?: unknown): Promise<{ type: string; sdp: string }> {
      const d = await super.createAnswer(options);
      return { type: d.type, sdp: d.sdp };
    }
    override get remoteDescription(): { type?: string; sdp?: string } | null {
      const d = super.remoteDescription;
      return d && d.type && d.sdp ? d : null;
    }
  }
  const adapted: WebRTCImplementation = {
    RTCPeerConnection: AdaptedPeerConnection,
    RTCSessionDescription: impl.RTCSessionDescription,
    RTCIceCandidate: impl.RTCIceCandidate,
  };
  return hasLiveBufferedAmount(impl) ? markLiveBufferedAmount(adapted) : adapted;
}
