/** Rate limiting: a token bucket, and a bounded map of buckets keyed by client (IP address). */

import { KeyedRateLimiter, TokenBucket } from '../lib/util/token-bucket.js';

export { KeyedRateLimiter, TokenBucket };

/** What {@link watchUnreadOutput} reads of an engine.io connection (`socket.conn`). */
export interface OutputConnection {
  on(event: 'packetCreate', listener: (packet: { data?: unknown }) => void): unknown;
  on(event: 'flush', listener: () => void): unknown;
  /** The websocket transport holds the `ws` WebSocket in `socket`. */
  readonly transport: unknown;
  close(discard?: boolean): unknown;
}

/** Bookkeeping counted for each queued packet besides its data: the packet object and its options. */
const PACKET_OVERHEAD_BYTES = 64;

/**
 * Drops a connection whose client does not read what it is sent. Unread output is what engine.io holds
 * for it (packets created since the last flush to the transport: a running count, reset on each flush)
 * plus what the websocket holds (`ws`'s `bufferedAmount`: the TCP socket's unwritten bytes and frames
 * queued behind them). Once that passes `maxBytes` the socket is destroyed at once; closing it politely
 * would wait for the very buffers that never drain. Each packet costs O(1). `maxBytes` 0: no limit.
 */
export function watchUnreadOutput(conn: OutputConnection, maxBytes: number, onExceeded: (bytes: number) => void): void {
  if (maxBytes <= 0) return;
  let queuedBytes = 0;
  let dropped = false;
  conn.on('flush', () => {
    queuedBytes = 0;
  });
  conn.on('packetCreate', (packet) => {
    if (dropped) return;
    const d = packet.data;
    queuedBytes +=
      PACKET_OVERHEAD_BYTES +
      (typeof d === 'string' ? d.length : d instanceof Uint8Array || d instanceof ArrayBuffer ? d.byteLength : 0);
    const ws = (conn.transport as { socket?: { bufferedAmount?: number; terminate?: () => void } }).socket;
    const unread = queuedBytes + (ws?.bufferedAmount ?? 0);
    if (unread <= maxBytes) return;
    dropped = true;
    onExceeded(unread);
    if (typeof ws?.terminate === 'function') ws.terminate();
    else conn.close(true);
  });
}
