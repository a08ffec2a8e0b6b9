/**
 * engine.io's Node websocket transport, sending its frames with a zero mask. RFC 6455 has a client mask every
 * frame with a fresh random key (section 5.3) so that script in a browser cannot put bytes of its choosing
 * on the wire, where a transparent proxy might take them for HTTP (section 10.3). A Node process is no such
 * script: it may open any TCP connection it likes, so the mask protects nothing there, and `ws` offers
 * `generateMask` for exactly this. An all-zero key is a key like any other to every server and proxy; `ws`
 * then neither copies nor XORs the payload when sending, and the server's `ws` skips unmasking it. Both
 * were byte-by-byte JavaScript loops: measured, masking was 16–18% of a relayed attachment's sender's
 * busy time, and without it and its unmasking the relayed throughput rose from about 0.6× socket.io's
 * to 0.9× (bench attachment, 256 KiB relayed frames, alternating runs). Browsers mask in native code,
 * and always: this transport is Node's only.
 */
import { NodeWebSocket } from 'engine.io-client';

/** Writes the masking key `ws` will use: zeros, so the payload goes out as it is. */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/** The `websocket` transport of engine.io in Node, its frames sent unmasked (zero key): the Node entry's. @internal */
export class ZeroMaskNodeWebSocket extends NodeWebSocket {
  override createSocket(uri: string, protocols: string | string[] | undefined, opts: Record<string, unknown>): unknown {
    return super.createSocket(uri, protocols, { ...opts, generateMask: zeroMask });
  }
}
