/** Counting a TCP socket's writes: each `_write` or `_writev` is one system call, of one chunk or many. */

/** Counts the writes of `tcp` (a net.Socket, as `ws` keeps it in `_socket`) from now on. */
export function countWrites(tcp: unknown): () => number {
  const socket = tcp as Record<'_write' | '_writev', (...args: unknown[]) => void>;
  let writes = 0;
  for (const method of ['_write', '_writev'] as const) {
    const original = socket[method].bind(socket);
    socket[method] = (...args: unknown[]) => {
      writes++;
      original(...args);
    };
  }
  return () => writes;
}
