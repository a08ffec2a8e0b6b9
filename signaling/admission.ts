/**
 * Who may connect: refused while draining, from a page of a wrong origin, beyond `maxConnections`, or
 * beyond `maxConnectionsPerIp` from one address. Checked before a connection reaches any handler.
 *
 * The checks live in socket.io middleware rather than in engine.io's allowRequest: a refusal there
 * reaches the client's connect_error with `data.reason`, so a page from a wrong origin or a client of a
 * full server learns why (ConnectionError Refused), instead of seeing a bare network failure. The
 * connection is closed right after. A websocket that never asks for the namespace reaches no middleware,
 * though, and stays until socket.io's connect timeout: past {@link RAW_SLACK} times either limit, engine.io's
 * allowRequest refuses the upgrade outright (an HTTP error, no reason), so such sockets stay bounded.
 */
import type { ConnectRefusal, SignalingErrorReason } from '../lib/protocol/signaling.js';
import type { ServerIo } from './connection.js';
import type { ResolvedServerOptions } from './options.js';
import type { ServerLogger } from './options-serving.js';

/** What {@link admitConnections} reads of the server. */
export interface AdmissionOptions {
  opts: Pick<ResolvedServerOptions, 'allowedOrigins' | 'maxConnections' | 'maxConnectionsPerIp' | 'trustProxy'>;
  logger: ServerLogger;
  /** True once the server drains or closes. */
  isDraining(): boolean;
  /** Connections open now. */
  connections(): number;
  /** Counts a refusal (the rejections metric). */
  onRefused(reason: SignalingErrorReason): void;
}

/**
 * How many times `maxConnectionsPerIp` (and `maxConnections`) raw websockets may reach before engine.io
 * refuses new ones: honest clients over a limit connect, hear why in the middleware and go at once, so they
 * pass it only for a moment; sockets that never join stayed for the connect timeout (10 s), one address
 * holding as many as it could open in that time, and the honest clients of that address were refused.
 */
export const RAW_SLACK = 2;

/** engine.io's `allowRequest`. */
export type AllowRequest = (
  req: { headers: Record<string, string | string[] | undefined>; socket: { remoteAddress?: string | undefined } },
  fn: (err: string | null | undefined, success: boolean) => void,
) => void;

/** What engine.io tells of a new connection. */
interface EngineConnection {
  request: { headers: Record<string, string | string[] | undefined> };
  remoteAddress: string;
  once(e: 'close', l: () => void): void;
}

/**
 * Counts connections per client address and refuses those the server should not take: `allowRequest` goes
 * in the socket.io server's options (the hard bound on raw websockets), then `attach` on the server.
 */
export function admitConnections(a: AdmissionOptions): { allowRequest: AllowRequest; attach(io: ServerIo): void } {
  const { opts } = a;
  const allowedOrigins = new Set(opts.allowedOrigins);

  /** Open engine.io connections by client address, counted from the websocket's opening to its close. */
  const perIp = new Map<string, number>();
  let engineClients = (): number => 0;
  const allowRequest: AllowRequest = (req, fn) => {
    const ip = clientIp(req.headers, req.socket.remoteAddress ?? '', opts.trustProxy);
    const overIp = opts.maxConnectionsPerIp > 0 && (perIp.get(ip) ?? 0) >= RAW_SLACK * opts.maxConnectionsPerIp;
    const overAll = opts.maxConnections > 0 && engineClients() >= RAW_SLACK * opts.maxConnections;
    if (!overIp && !overAll) return fn(null, true);
    a.onRefused(overIp ? 'TooManyConnections' : 'ServerFull');
    fn(overIp ? 'too many connections from this address' : 'the server is full', false);
  };
  const attach = (io: ServerIo): void => {
    engineClients = () => io.engine.clientsCount;
    io.engine.on('connection', (conn: EngineConnection) => {
      const ip = clientIp(conn.request.headers, conn.remoteAddress, opts.trustProxy);
      perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
      // An address leaves the map with its last connection: the map never holds more than the open connections.
      conn.once('close', () => {
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left > 0) perIp.set(ip, left);
        else perIp.delete(ip);
      });
    });

    io.use((socket, next) => {
      const refuse = (reason: SignalingErrorReason, message: string): void => {
        a.onRefused(reason);
        a.logger.debug({ reason }, 'connection refused');
        const err = new Error(message) as Error & { data: ConnectRefusal };
        err.data = { reason };
        next(err);
        setImmediate(() => socket.conn.close());
      };
      if (a.isDraining()) return refuse('Draining', 'the server is shutting down; connect to another one');
      const origin = socket.handshake.headers.origin;
      if (allowedOrigins.size > 0 && origin !== undefined && !allowedOrigins.has(origin)) {
        return refuse('OriginNotAllowed', 'pages of this origin may not connect to this server');
      }
      if (opts.maxConnections > 0 && a.connections() >= opts.maxConnections) {
        return refuse('ServerFull', 'the server has all the connections it accepts');
      }
      // This connection is already among its address's count.
      const fromIp = perIp.get(clientIp(socket.handshake.headers, socket.handshake.address, opts.trustProxy)) ?? 0;
      if (opts.maxConnectionsPerIp > 0 && fromIp > opts.maxConnectionsPerIp) {
        return refuse(
          'TooManyConnections',
          `this address has ${opts.maxConnectionsPerIp} connections, the most the server accepts from one address`,
        );
      }
      next();
    });
  };
  return { allowRequest, attach };
}

/** The client's address: the socket's, or with `trustProxy` the last X-Forwarded-For entry (the one our proxy added). */
export function clientIp(
  headers: Record<string, string | string[] | undefined>,
  address: string,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const header = headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header[header.length - 1] : header;
    const last = value?.split(',').pop()?.trim();
    if (last !== undefined && last.length > 0 && last.length <= 64) return last;
  }
  return address;
}
