/** The server's options for where it listens and what connections it takes, with their defaults and checks. */
import { MIN_RELAY_FRAME_BYTES } from '../lib/protocol/signaling.js';

/** Where the server listens and which connections it takes, and how much of each. */
export interface ConnectionOptions {
  /**
   * TCP port to listen on; 0 picks a free one.
   * @default 8080
   */
  port?: number;
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Origins (`https://app.example.com`) whose pages may connect, checked on the socket.io handshake;
   * empty allows any. Clients that send no Origin header (Node, native apps) are always allowed.
   * @default []
   */
  allowedOrigins?: string[];
  /**
   * Take the client's IP address from the last `X-Forwarded-For` entry (set it when exactly one reverse
   * proxy sits in front of the server); otherwise the socket's address is used.
   * @default false
   */
  trustProxy?: boolean;
  /**
   * Largest event accepted, in bytes: a larger one is refused with `PayloadTooLarge` and the connection
   * stays. One larger than 4 × this is not even read: the connection is closed. At least 3072: the
   * smallest relayed frame (`MIN_RELAY_FRAME_BYTES`, 2048) and the event around it.
   * @default 65536
   */
  maxPayloadBytes?: number;
  /**
   * Connections this process accepts at once; more are refused with `ServerFull`.
   * @default 10000
   */
  maxConnections?: number;
  /**
   * Connections this process accepts at once from one IP address (the `trustProxy` address when set);
   * more are refused with `TooManyConnections`, so one address cannot take every connection slot.
   * 50 leaves room for a household or office behind one NAT, each person with a few tabs.
   * @default 50
   */
  maxConnectionsPerIp?: number;
  /**
   * Bytes the server holds for one connection that its client has not read yet (engine.io's queued
   * packets plus the websocket's unwritten bytes); past this the connection is dropped (`SlowConsumer`
   * in the rejections metric), so a client that stops reading cannot grow the server without bound.
   * 4 MiB is over twice the largest honest burst: joining a full room of 50, each peer's offer of up to
   * 32 KiB of SDP and its candidates arrive at once (about 1.7 MiB).
   * @default 4194304
   */
  maxUnreadOutputBytes?: number;
}

/** Defaults of {@link ConnectionOptions}. */
export const CONNECTION_DEFAULTS = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  allowedOrigins: [] as string[],
  trustProxy: false,
  maxPayloadBytes: 64 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerIp: 50,
  maxUnreadOutputBytes: 4 * 1024 * 1024,
});

/** Inclusive ranges of the integer {@link ConnectionOptions}. */
export const CONNECTION_RANGES = Object.freeze({
  port: [0, 65535],
  maxPayloadBytes: [MIN_RELAY_FRAME_BYTES + 1024, 16 * 1024 * 1024],
  maxConnections: [0, 1_000_000],
  maxConnectionsPerIp: [0, 1_000_000],
  maxUnreadOutputBytes: [0, 1024 * 1024 * 1024],
} satisfies Partial<Record<keyof ConnectionOptions, [number, number]>>);

/** Checks the address, the proxy flag and the origins; calls `fail` for the first bad one. */
export function checkConnectionOptions(
  o: ConnectionOptions & Required<Pick<ConnectionOptions, keyof typeof CONNECTION_DEFAULTS>>,
  fail: (key: keyof ConnectionOptions, message: string) => never,
): void {
  if (typeof o.host !== 'string' || o.host.length === 0) fail('host', 'must be a non-empty address');
  if (typeof o.trustProxy !== 'boolean') fail('trustProxy', 'must be true or false');
  if (!Array.isArray(o.allowedOrigins) || !o.allowedOrigins.every((x) => typeof x === 'string' && x.length > 0))
    fail('allowedOrigins', 'must be a list of non-empty strings');
  for (const origin of o.allowedOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin)
      fail(
        'allowedOrigins',
        `must list origins like https://app.example.com (scheme, host, optional port; no path), got "${origin}"`,
      );
  }
}
