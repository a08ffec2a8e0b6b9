import { networkInterfaces } from 'node:os';
import * as polyfill from 'node-datachannel/polyfill';
import type { WebRTCImplementation } from '../defaults.js';
import { adaptWebRTC } from './webrtc.js';

/**
 * True when the host has no network interface but loopback (a private network namespace, a sandbox).
 * libdatachannel then gathers no candidates unless told to bind to 127.0.0.1.
 */
function loopbackOnly(): boolean {
  return Object.values(networkInterfaces()).every((list) => (list ?? []).every((i) => i.internal));
}

let cached: WebRTCImplementation | undefined;

/** node-datachannel's polyfill, adapted for simple-peer: the Node entry's default WebRTC implementation. */
export function nodeDataChannelWebRTC(): WebRTCImplementation {
  cached ??= adaptWebRTC(
    { RTCPeerConnection: polyfill.RTCPeerConnection, RTCSessionDescription: polyfill.RTCSessionDescription, RTCIceCandidate: polyfill.RTCIceCandidate },
    loopbackOnly() ? { bindAddress: '127.0.0.1' } : {},
  );
  return cached;
}
