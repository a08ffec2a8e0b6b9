/** Raw socket.io clients of the signaling server, for tests that speak its protocol by hand. */
import { io, type Socket } from 'socket.io-client';

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
