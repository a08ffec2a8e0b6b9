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
 *
 * It also writes what one turn sends in one socket write. engine.io hands its transport one packet and
 * holds the rest until the transport drains (a tick later), and `ws` writes each message on its own; so a
 * binary event (socket.io's header, then its attachment: every relayed frame) took two writes, and a turn
 * that opened relayed links to nine peers eighteen. Here the TCP socket is corked from a turn's first write
 * until the ticks that follow it (the drain included) have run, then written at once.
 */
import { NodeWebSocket } from 'engine.io-client';

/** Writes the masking key `ws` will use: zeros, so the payload goes out as it is. */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/** What this transport uses of `ws`'s socket: its TCP socket (`_socket`, set once connected). */
interface WsWithSocket {
  _socket?: { cork(): void; uncork(): void; destroyed?: boolean } | null;
}

/**
 * The `websocket` transport of engine.io in Node, its frames sent unmasked (zero key) and each turn's in
 * one write: the Node entry's. @internal
 */
export class ZeroMaskNodeWebSocket extends NodeWebSocket {
  #corked = false;

  override createSocket(uri: string, protocols: string | string[] | undefined, opts: Record<string, unknown>): unknown {
    return super.createSocket(uri, protocols, { ...opts, generateMask: zeroMask });
  }

  override write(packets: unknown): void {
    const socket = (this.ws as WsWithSocket | undefined)?._socket;
    if (socket === undefined || socket === null || this.#corked) return super.write(packets);
    this.#corked = true;
    socket.cork();
    try {
      super.write(packets);
    } finally {
      // After engine.io's drain tick (queued by the write above), whose flush writes what waited, e.g. a
      // binary event's attachment: a tick inside a tick, so that it runs after that one.
      process.nextTick(() =>
        process.nextTick(() => {
          this.#corked = false;
          socket.uncork();
        }),
      );
    }
  }
}
