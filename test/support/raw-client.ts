/**
 * Raw clients of the signaling server, for tests that speak its protocol by hand: socket.io clients
 * (rawConnect, ack) with the few steps every server suite takes (join, participant, settle), and a bare
 * websocket (wireConnect) for floods. Every server suite uses these; none keeps its own copy.
 */
import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import type { SignalingServer } from '../../signaling/server.js';
import { type Harness, eventually } from './harness.js';

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
 * Opens a websocket-only client (no reconnection) and resolves once it is connected, or rejects with the
 * connect_error (which carries the refusal's `data`), also when not connected within `timeoutMs`
 * (socket.io's default: 20 s). Untracked clients (`track` false) are the caller's to close; tests that
 * measure memory keep none alive.
 */
export function rawConnect(
  url: string,
  headers?: Record<string, string>,
  track = true,
  timeoutMs?: number,
): Promise<Socket> {
  const s = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    ...(headers ? { extraHeaders: headers } : {}),
    ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
  });
  if (track) rawClients.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

/** A tracked {@link rawConnect} that must connect within 5 s. */
export function connect(url: string, headers?: Record<string, string>): Promise<Socket> {
  return rawConnect(url, headers, true, 5000);
}

/** Closes every client opened through {@link rawConnect}, without running their listeners. */
export function closeRawClients(): void {
  for (const s of rawClients.splice(0)) {
    s.removeAllListeners();
    s.close();
  }
}

/**
 * Emits with an acknowledgement and resolves with the server's reply; rejects after 10 s (generous, as
 * suites run side by side).
 */
export function ack(s: Socket, event: string, ...args: unknown[]): Promise<WireReply> {
  return ackWithin(10_000, s, event, ...args);
}

/** {@link ack} with its own timeout. */
export function ackWithin(timeoutMs: number, s: Socket, event: string, ...args: unknown[]): Promise<WireReply> {
  return (s.timeout(timeoutMs) as any).emitWithAck(event, ...args) as Promise<WireReply>;
}

/** Expects a refusal with this reason and a non-empty message. */
export function expectRefused(reply: WireReply, reason: string): void {
  expect(reply.ok, JSON.stringify(reply)).to.equal(false);
  expect(reply.error?.reason).to.equal(reason);
  expect(reply.error?.message).to.be.a('string').that.is.not.empty;
  expect(reply).to.not.have.property('data');
}

/** Joins a room on `s` and returns the server's description of self. */
export async function join(s: Socket, room: string, name: string): Promise<Info> {
  const r = await ack(s, 'join', { v: SIGNALING_VERSION, room, name });
  expect(r.ok, JSON.stringify(r)).to.equal(true);
  return r.data.self as Info;
}

/** Connects (within 5 s), joins and (optionally) enables messaging. */
export async function participant(
  url: string,
  room: string,
  name: string,
  enable = true,
): Promise<{ s: Socket; info: Info }> {
  const s = await connect(url);
  const info = await join(s, room, name);
  if (enable) {
    const r = await ack(s, 'enable_messaging');
    expect(r.ok, JSON.stringify(r)).to.equal(true);
  }
  return { s, info };
}

/** The first argument of the next `event` on `s` (rejects after `timeoutMs`). */
export function next(s: Socket, event: string, timeoutMs = 2000): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
    }, timeoutMs);
    const listener = (arg: unknown): void => {
      clearTimeout(timer);
      s.off(event, listener);
      resolve(arg);
    };
    s.on(event, listener);
  });
}

/**
 * A bounded wait, used only where a test checks that something does NOT arrive: there is no event
 * to wait on, so we give the server this long to (wrongly) send it.
 */
export const QUIET_MS = 200;
/** Waits {@link QUIET_MS} (or `ms`). */
export function quiet(ms = QUIET_MS): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** After a test: close its clients and wait until the server has forgotten all of them. */
export async function settle(server: SignalingServer): Promise<void> {
  closeRawClients();
  await eventually(
    () => {
      const st = server.stats();
      return st.rooms === 0 && st.participants === 0 && st.connections === 0;
    },
    5000,
    `server to drop every client (stats ${JSON.stringify(server.stats())})`,
  );
}

/** An offer with a minimal SDP. */
export const offer = (sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n'): { type: 'offer'; sdp: string } => ({
  type: 'offer',
  sdp,
});

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

/**
 * The hooks of a suite of raw clients against one server, which most server suites share: the server
 * starts before the suite with no per-IP join limit (server-limits tests it) and no grace for dropped
 * connections (these suites watch removals; resuming has its own tests); each test's leftovers settle after
 * it; every raw client and the server close after the suite. `use` receives the server once it runs.
 */
export function rawClientSuite(h: Harness, use: (server: SignalingServer) => void): void {
  let server: SignalingServer | undefined;
  before(async () => {
    const started = await h.server({ joinsPerSecondPerIp: 0, resumeGraceMs: 0 });
    server = started;
    use(started);
  });
  afterEach(async () => {
    if (server !== undefined) await settle(server);
  });
  after(async () => {
    closeRawClients();
    await h.close();
  });
}
