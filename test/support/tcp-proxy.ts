/**
 * A TCP proxy on 127.0.0.1 in front of a server, for tests that cut a client's connection as a network
 * would: `cut()` destroys every connection through it, `down()` also refuses new ones until `up()`,
 * `retarget()` sends new ones to another port.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: give this to clients instead of the server's URL. */
  readonly url: string;
  /** Destroys every connection through the proxy (both sides see them reset). */
  cut(): void;
  /** Cuts, and refuses new connections until {@link up}. */
  down(): void;
  up(): void;
  /** Sends new connections to `port` from now on (a load balancer moving to another process). */
  retarget(port: number): void;
  close(): Promise<void>;
}

/** Starts a proxy to `targetPort` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  let target = targetPort;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const cut = (): void => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    down: () => {
      refusing = true;
      cut();
    },
    up: () => {
      refusing = false;
    },
    retarget: (port) => {
      target = port;
    },
    close: () => {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
