/**
 * One socket write per connection per turn. engine.io writes a packet as soon as it is queued and holds the
 * next ones until the websocket's write completes, and `ws` writes each message on its own: so every binary
 * event (socket.io's header, then its attachment: each relayed frame) took two writes, each a system call,
 * and a turn that told nine peers something took nine. Here a connection's flush waits for the end of the
 * turn's ticks, and its packets go through a corked TCP socket: one write for all of them. The Node client
 * does the same on its side (lib/signaling/node-websocket.ts).
 */

/** What {@link batchWrites} uses of an engine.io connection. */
export interface BatchedConnection {
  flush(): void;
  transport: unknown;
}

/** The TCP socket under a websocket transport (`ws`'s `_socket`); undefined for another transport. */
function tcpOf(transport: unknown): { cork(): void; uncork(): void } | undefined {
  const ws = (transport as { name?: string; socket?: { _socket?: unknown } }).socket;
  const tcp = (transport as { name?: string }).name === 'websocket' ? ws?._socket : undefined;
  const t = tcp as { cork?: unknown; uncork?: unknown } | undefined;
  return typeof t?.cork === 'function' && typeof t.uncork === 'function'
    ? (t as { cork(): void; uncork(): void })
    : undefined;
}

/** Makes `conn` flush once per turn, its packets in one write. */
export function batchWrites(conn: BatchedConnection): void {
  const flush = conn.flush.bind(conn);
  let queued = false;
  conn.flush = () => {
    if (queued) return;
    queued = true;
    process.nextTick(() => {
      queued = false;
      const tcp = tcpOf(conn.transport);
      tcp?.cork();
      try {
        flush();
      } finally {
        tcp?.uncork();
      }
    });
  };
}
