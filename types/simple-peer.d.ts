// The part of simple-peer's API that lib/ uses, typed without Node. @types/simple-peer has
// `/// <reference types="node" />`, which would give every file of lib/ Node's globals (Buffer, process,
// setImmediate) and hide a browser bug from the type check; lib/tsconfig.json maps 'simple-peer' here.
// The build (tsconfig.json) and the Node entry still use @types/simple-peer, so the two must agree on
// what PeerLink.ts calls: a wrong shape here fails `npm run typecheck` there.

declare namespace Peer {
  /** Offer, answer, candidate, as simple-peer signals them. */
  type SignalData = {
    type?:
      'offer' | 'answer' | 'pranswer' | 'rollback' | 'transceiverRequest' | 'renegotiate' | 'candidate' | undefined;
    sdp?: string | undefined;
    candidate?: RTCIceCandidateInit | undefined;
  };

  /** Constructor options used by lib/. */
  interface Options {
    initiator?: boolean | undefined;
    trickle?: boolean | undefined;
    config?: RTCConfiguration | undefined;
    channelConfig?: RTCDataChannelInit | undefined;
    wrtc?: { RTCPeerConnection: unknown; RTCSessionDescription: unknown; RTCIceCandidate: unknown } | undefined;
  }

  /** A peer connection with one data channel. */
  interface Instance {
    on(event: 'signal', listener: (data: SignalData) => void): this;
    on(event: 'connect' | 'close', listener: () => void): this;
    on(event: 'data', listener: (data: Uint8Array) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'iceStateChange', listener: (iceConnectionState: string, iceGatheringState: string) => void): this;
    signal(data: string | SignalData): void;
    destroy(error?: Error): void;
  }
}

declare const Peer: new (options?: Peer.Options) => Peer.Instance;

export default Peer;
