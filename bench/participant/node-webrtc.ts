/**
 * The raw baseline's WebRTC in Node. Apart from RawMesh so that the page bundle of the Chromium runtime,
 * which bundles RawMesh, never pulls in node-datachannel.
 */
import type Peer from 'simple-peer';
import { nodeDataChannelWebRTC } from '../../lib/node.js';

type PeerConnectionClass = new (config?: Record<string, unknown>) => {
  setRemoteDescription(d: unknown): Promise<void>;
  addIceCandidate(c: unknown): Promise<void>;
};

/**
 * node-datachannel through roommesh's adaptation, plus one guard: a remote ICE candidate waits until the
 * remote description is applied. About 1 connect in 10 fails here with "Got a remote candidate without
 * ICE transport"; measured on 200 connects each, this guard barely changes that (21 vs 17 failures; most
 * come from candidates inside the remote SDP), so the baseline also redials, like roommesh.
 */
export function rawNodeWebRTC(): Peer.Options['wrtc'] {
  const impl = nodeDataChannelWebRTC();
  const Base = impl.RTCPeerConnection as PeerConnectionClass;
  class OrderedCandidates extends Base {
    #remoteApplied: Promise<unknown> = Promise.resolve();
    override setRemoteDescription(d: unknown): Promise<void> {
      const applied = super.setRemoteDescription(d);
      this.#remoteApplied = applied.catch(() => {});
      return applied;
    }
    override addIceCandidate(c: unknown): Promise<void> {
      return this.#remoteApplied.then(() => super.addIceCandidate(c));
    }
  }
  return { ...impl, RTCPeerConnection: OrderedCandidates } as unknown as Peer.Options['wrtc'];
}
