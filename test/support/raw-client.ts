/** Raw socket.io clients of the signaling server, for tests that speak its protocol by hand. */
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';

/** A reply as it arrives over the wire; loosely typed so tests can inspect refusals of garbage. */
export interface WireReply {
  ok: boolean;
  data?: any;
  error?: { reason: string; message: string };
}

/** A participant as the server describes it. */
export interface Info {
  id: string;
  name: string;
  joinedAtMs: number;
}

/** Every client opened through {@link rawConnect}, so a test can close them all. */
export const rawClients: Socket[] = [];

/**
 * Opens a websocket-only client (no reconnection) and resolves once it is connected. Untracked clients
 * (`track` false) are the caller's to close; tests that measure memory keep none alive.
 */
export function rawConnect(url: string, headers?: Record<string, string>, track = true): Promise<Socket> {
  const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, ...(headers ? { extraHeaders: headers } : {}) });
  if (track) rawClients.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

/** Closes every client opened through {@link rawConnect}. */
export function closeRawClients(): void {
  for (const s of rawClients.splice(0)) s.close();
}

/** Emits with an acknowledgement and resolves with the server's reply; rejects after `timeoutMs`. */
export function ack(s: Socket, event: string, ...args: unknown[]): Promise<WireReply> {
  return (s.timeout(5000) as any).emitWithAck(event, ...args) as Promise<WireReply>;
}

/** Every `event` that `s` receives from now on. */
export function record<T>(s: Socket, event: string): T[] {
  const got: T[] = [];
  s.on(event, (x: T) => got.push(x));
  return got;
}

/**
 * A bare websocket speaking engine.io/socket.io by hand, connected to the main namespace. Unlike a
 * socket.io client it keeps nothing per request (acks reuse one id), so a test can send a flood and
 * stop reading (`pauseReading`) without the test process itself growing.
 */
export interface WireClient {
  readonly ws: WebSocket;
  /** Sends `42[event, ...args]`, or `42<id>[…]` asking for an acknowledgement with id `ackId`. */
  send(event: string, args?: unknown[], ackId?: number): void;
  /** Resolves with the reply to the next request sent with `ackId`. */
  reply(ackId: number): Promise<WireReply>;
  /** Stops reading from the TCP socket: what the server sends stays in its buffers. */
  pauseReading(): void;
}

/** Opens a {@link WireClient}; resolves once the namespace connection is accepted. */
export function wireConnect(port: number, headers: Record<string, string> = {}): Promise<WireClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { headers });
  const waiting = new Map<number, (r: WireReply) => void>();
  const client: WireClient = {
    ws,
    send: (event, args = [], ackId) => ws.send(`42${ackId ?? ''}${JSON.stringify([event, ...args])}`),
    reply: (ackId) => new Promise((resolve) => waiting.set(ackId, resolve)),
    pauseReading: () => (ws as unknown as { _socket: { pause(): void } })._socket.pause(),
  };
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('0')) ws.send('40');
      else if (text === '2') ws.send('3');
      else if (text.startsWith('40')) resolve(client);
      else if (text.startsWith('44')) reject(new Error(`refused: ${text}`));
      else if (text.startsWith('43')) {
        const m = /^43(\d+)\[(.*)\]$/s.exec(text);
        const done = m === null ? undefined : waiting.get(Number(m[1]));
        if (m !== null && done !== undefined) {
          waiting.delete(Number(m[1]));
          done(JSON.parse(m[2] as string) as WireReply);
        }
      }
    });
    ws.on('error', reject);
  });
}
