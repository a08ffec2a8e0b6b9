/**
 * A hostile signaling server (or anyone in the middle of a plain ws:// connection), speaking engine.io and
 * socket.io packets itself: what it sends may make the client refuse it, never end the process. The client
 * runs in a child process, so that a crash is an exit code here and not the end of this test run. And a
 * server that stops answering: the client's requests fail in time instead of waiting for good.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConnectionError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/logger.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { SignalingClient } from '../../lib/signaling/SignalingClient.js';
import { until } from '../support/processes.js';

const NODE_ENTRY = fileURLToPath(new URL('../../lib/node.js', import.meta.url));

/** A server that opens engine.io and socket.io's namespace as a real one does, then answers as `hostile` says. */
async function hostileServer(
  hostile: (packet: string, ws: WebSocket) => boolean,
): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => {
    ws.send(
      `0${JSON.stringify({ sid: 's', upgrades: [], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1e6 })}`,
    );
    ws.on('message', (data) => {
      const packet = String(data);
      if (hostile(packet, ws)) return;
      if (packet === '40') ws.send('40{"sid":"n"}');
    });
  });
  return {
    url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

/** Runs Room.connect in a child process; resolves with its exit code and what it printed. */
function connectInChild(url: string): Promise<{ code: number | null; out: string }> {
  const script = `
    const { Room, silentLogger } = await import(${JSON.stringify(NODE_ENTRY)});
    try {
      await Room.connect({ url: ${JSON.stringify(url)}, room: 'r', name: 'n', logger: silentLogger, timeouts: { signalingTimeoutMs: 3000 } });
      console.log(JSON.stringify({ connected: true }));
      process.exit(0);
    } catch (e) {
      console.log(JSON.stringify({ name: e.name, reason: e.reason, serverReason: e.serverReason }));
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

/** The reply to request `packet` (`42<id>[...]`), or undefined when it is not one. */
const answer = (packet: string, reply: unknown): string | undefined => {
  const m = /^42(\d+)\[/.exec(packet);
  return m === null ? undefined : `43${m[1]}${JSON.stringify([reply])}`;
};

describe('a hostile signaling server', function () {
  this.timeout(20_000);

  const cases: Array<[string, (packet: string, ws: WebSocket) => boolean, Record<string, unknown>]> = [
    [
      'a refusal whose reason and message cannot become strings',
      (packet, ws) => {
        const reply = answer(packet, { ok: false, error: { reason: { toString: 0 }, message: { toString: 0 } } });
        if (reply !== undefined) ws.send(reply);
        return reply !== undefined;
      },
      { name: 'ConnectionError', reason: 'Refused', serverReason: 'BadReply' },
    ],
    [
      'a connection refusal (CONNECT_ERROR) whose message cannot become a string',
      (packet, ws) => {
        if (packet !== '40') return false;
        ws.send('44{"message":{"toString":0}}');
        return true;
      },
      { name: 'ConnectionError', reason: 'Unreachable' },
    ],
    [
      'a join reply without a resume token',
      (packet, ws) => {
        const reply = answer(packet, {
          ok: true,
          data: { self: { id: 'x', name: 'n', joinedAtMs: 1 }, participants: [], maxPendingEvents: 48 },
        });
        if (reply !== undefined) ws.send(reply);
        return reply !== undefined;
      },
      { name: 'ConnectionError', reason: 'Refused', serverReason: 'BadReply' },
    ],
    [
      'a join reply whose own participant is not one',
      (packet, ws) => {
        const reply = answer(packet, { ok: true, data: { self: { id: 5 }, resumeToken: 't', participants: [] } });
        if (reply !== undefined) ws.send(reply);
        return reply !== undefined;
      },
      { name: 'ConnectionError', reason: 'Refused', serverReason: 'BadReply' },
    ],
  ];
  for (const [what, hostile, expected] of cases)
    it(`${what}: Room.connect rejects with a ConnectionError, and the process lives`, async () => {
      const server = await hostileServer(hostile);
      try {
        const { code, out } = await connectInChild(server.url);
        expect(code, out).to.equal(0);
        expect(JSON.parse(out.trim().split('\n').at(-1)!) as unknown).to.deep.include(expected);
      } finally {
        await server.close();
      }
    });
});

describe('a signaling server that keeps the connection and stops answering', function () {
  this.timeout(20_000);

  it('a request times out within signalingTimeoutMs even behind a full event window, and the window frees', async () => {
    const events: string[] = [];
    const server = await hostileServer((packet, ws) => {
      const m = /^42\d*\["(\w+)"/.exec(packet);
      if (m === null) return false;
      events.push(m[1] as string);
      // The join is answered (a window of three events: a limit of four, a quarter kept spare); nothing after it.
      const reply =
        m[1] === 'join'
          ? answer(packet, {
              ok: true,
              data: {
                self: { id: 'me', name: 'n', joinedAtMs: 1 },
                resumeToken: 't',
                participants: [],
                maxPendingEvents: 4,
              },
            })
          : undefined;
      if (reply !== undefined) ws.send(reply);
      return true;
    });
    const client = await SignalingClient.connect(server.url, {
      timeoutMs: 1000,
      reconnectMaxDelayMs: 1000,
      messagingEnabled: () => true,
      logger: silentLogger,
    });
    try {
      await client.join({ v: SIGNALING_VERSION, room: 'r', name: 'n' });
      for (let i = 0; i < 3; i++) client.sendSignal('peer', `c${i}`, { type: 'offer', sdp: 'v=0' });
      const started = Date.now();
      const error = await client.enableMessaging().then(
        () => undefined,
        (e: unknown) => e,
      );
      const tookMs = Date.now() - started;
      expect(error).to.be.instanceOf(ConnectionError);
      expect((error as ConnectionError).reason).to.equal('Timeout');
      expect(tookMs).to.be.within(900, 3000);
      // The window is not held for good by the events nobody answered: a later one goes out.
      const sent = events.length;
      client.sendSignal('peer', 'later', { type: 'offer', sdp: 'v=0' });
      await until(() => events.length > sent, 3000, 'a signal after the timeouts');
      expect(events.slice(0, 4)).to.deep.equal(['join', 'signal', 'signal', 'signal']);
    } finally {
      client.close();
      await server.close();
    }
  });
});
