/**
 * Every limit of the signaling server against a real server: when hit, the client gets a typed error,
 * the refusal is counted in /metrics, and everyone else keeps working.
 */
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { ConnectionError, Room, silentLogger } from '../../lib/node.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import type { SignalingServer, SignalingServerOptions } from '../../signaling/server.js';
import { Harness } from '../support/harness.js';
import { httpGet, until } from '../support/processes.js';
import { ack, closeRawClients, rawConnect } from '../support/raw-client.js';

const offer = { type: 'offer', sdp: 'v=0\r\n' };

describe('signaling server limits', function () {
  this.timeout(20_000);
  const h = new Harness();
  const start = (o: SignalingServerOptions): Promise<SignalingServer> => h.server(o);
  const member = async (
    s: SignalingServer,
    room: string,
    name: string,
    headers?: Record<string, string>,
  ): Promise<{ s: Socket; id: string }> => {
    const sock = await rawConnect(s.url, headers);
    const j = await ack(sock, 'join', { v: SIGNALING_VERSION, room, name });
    expect(j.ok, JSON.stringify(j)).to.equal(true);
    expect((await ack(sock, 'enable_messaging')).ok).to.equal(true);
    return { s: sock, id: j.data.self.id as string };
  };
  /** The value of a metric line, e.g. rejected('RoomFull'); 0 when absent. */
  const metric = async (s: SignalingServer, line: string): Promise<number> => {
    const body = (await httpGet(s.port, '/metrics')).body;
    const found = body.split('\n').find((l) => l.startsWith(`${line} `));
    return found === undefined ? 0 : Number(found.slice(line.length + 1));
  };
  const rejected = (s: SignalingServer, reason: string): Promise<number> =>
    metric(s, `roommesh_rejections_total{reason="${reason}"}`);
  /** A signal from a to b goes through and arrives. */
  const relays = async (a: { s: Socket }, b: { s: Socket; id: string }): Promise<void> => {
    const got = new Promise((resolve) => b.s.once('signal', resolve));
    const r = await ack(a.s, 'signal', { to: b.id, cid: 'ok', data: offer });
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    await got;
  };

  /**
   * A bare websocket speaking engine.io/socket.io by hand, that ignores a refusal: the server must close
   * it itself, so a client that does not leave holds nothing. Resolves with the refusal packet once closed.
   */
  const refusedAndClosed = (s: SignalingServer, headers: Record<string, string> = {}): Promise<string> => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`, { headers });
    const packets: string[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`the server did not close the refused connection; got ${JSON.stringify(packets)}`));
      }, 5000);
      ws.on('message', (data) => {
        const text = String(data);
        packets.push(text);
        if (text.startsWith('0')) ws.send('40'); // engine.io open: ask to connect to the main namespace
      });
      ws.on('close', () => {
        clearTimeout(timer);
        resolve(packets.find((p) => p.startsWith('44')) ?? '');
      });
      ws.on('error', reject);
    });
  };

  afterEach(async () => {
    closeRawClients();
    await h.close();
  });

  it('maxConnections: one more connection is refused with ServerFull (Refused through the library); the others keep working', async () => {
    const s = await start({ maxConnections: 2 });
    const a = await member(s, 'r', 'a');
    const b = await member(s, 'r', 'b');
    const err = (await rawConnect(s.url).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { data?: { reason: string } };
    expect(err?.data?.reason).to.equal('ServerFull');
    const lib = await Room.connect({ url: s.url, room: 'r', name: 'c', logger: silentLogger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(lib).to.be.instanceOf(ConnectionError);
    expect(lib).to.deep.include({ reason: 'Refused', serverReason: 'ServerFull' });
    await relays(a, b);
    expect(await refusedAndClosed(s)).to.match(/^44\{.*"reason":"ServerFull"/);
    expect(await rejected(s, 'ServerFull')).to.equal(3);
    // A place freed is a place taken.
    a.s.disconnect();
    await until(() => s.stats().connections === 1, 5000, 'a to go');
    await member(s, 'r', 'd');
  });

  it('maxConnectionsPerIp: one more connection from an address is refused with TooManyConnections; other addresses connect; a closed one frees a slot', async () => {
    const s = await start({ maxConnectionsPerIp: 2, trustProxy: true });
    const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip });
    const a = await member(s, 'ip', 'a', from('192.0.2.1'));
    await rawConnect(s.url, from('192.0.2.1')); // never joins: it holds a slot all the same
    const err = (await rawConnect(s.url, from('192.0.2.1')).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { data?: { reason: string } };
    expect(err?.data?.reason).to.equal('TooManyConnections');
    expect(await refusedAndClosed(s, from('192.0.2.1'))).to.match(/^44\{.*"reason":"TooManyConnections"/);
    const b = await member(s, 'ip', 'b', from('192.0.2.2'));
    await relays(a, b);
    expect(await rejected(s, 'TooManyConnections')).to.equal(2);
    a.s.disconnect();
    await until(() => s.stats().connections === 2, 5000, 'a to go');
    await member(s, 'ip', 'c', from('192.0.2.1'));
  });

  it('maxConnectionsPerIp counts the socket address without trustProxy', async () => {
    const s = await start({ maxConnectionsPerIp: 3 });
    for (let i = 0; i < 3; i++) await rawConnect(s.url, { 'x-forwarded-for': `192.0.2.${i}` });
    const err = (await rawConnect(s.url, { 'x-forwarded-for': '192.0.2.9' }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { data?: { reason: string } };
    expect(err?.data?.reason).to.equal('TooManyConnections');
  });

  it('maxParticipantsPerRoom: one more join is refused with RoomFull; other rooms and the members are not affected', async () => {
    const s = await start({ maxParticipantsPerRoom: 2 });
    const a = await member(s, 'full', 'a');
    const b = await member(s, 'full', 'b');
    const c = await rawConnect(s.url);
    const r = await ack(c, 'join', { v: SIGNALING_VERSION, room: 'full', name: 'c' });
    expect(r.error?.reason, JSON.stringify(r)).to.equal('RoomFull');
    expect((await ack(c, 'join', { v: SIGNALING_VERSION, room: 'other', name: 'c' })).ok).to.equal(true); // the same connection may still join another room
    await relays(a, b);
    expect(await rejected(s, 'RoomFull')).to.equal(1);
    expect(await metric(s, 'roommesh_joins_total{result="RoomFull"}')).to.equal(1);
  });

  it('signalsPerSecond / signalBurst: a token bucket per connection refuses the excess with SignalRateLimited and refills', async () => {
    const s = await start({ signalsPerSecond: 1, signalBurst: 5 });
    const a = await member(s, 'sig', 'a');
    const b = await member(s, 'sig', 'b');
    // Sent at once, so they meet the bucket together: 5 pass, the rest are refused (plus one per second elapsed).
    const t0 = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ack(a.s, 'signal', { to: b.id, cid: `c${i}`, data: offer })),
    );
    const elapsedS = (Date.now() - t0) / 1000;
    const ok = replies.filter((r) => r.ok).length;
    expect(ok).to.be.within(5, 5 + Math.ceil(elapsedS));
    expect(ok).to.be.below(10);
    for (const r of replies.filter((x) => !x.ok)) expect(r.error?.reason).to.equal('SignalRateLimited');
    // b's own bucket is untouched.
    await relays(b, a);
    // a's bucket refills at 1 per second.
    await until(
      async () => (await ack(a.s, 'signal', { to: b.id, cid: 'later', data: offer })).ok,
      3000,
      'a token to come back',
    );
    expect(await rejected(s, 'SignalRateLimited')).to.be.at.least(2);
  });

  it('togglesPerSecond / toggleBurst: enable/disable past a token bucket per connection are refused with ToggleRateLimited and not told to the room', async () => {
    const s = await start({ togglesPerSecond: 1, toggleBurst: 4 });
    const a = await member(s, 'tog', 'a'); // one token taken
    const b = await member(s, 'tog', 'b');
    const told: string[] = [];
    b.s.on('peer_enabled', () => told.push('enabled'));
    b.s.on('peer_disabled', () => told.push('disabled'));
    const t0 = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ack(a.s, i % 2 === 0 ? 'disable_messaging' : 'enable_messaging')),
    );
    const elapsedS = (Date.now() - t0) / 1000;
    const ok = replies.filter((r) => r.ok).length;
    expect(ok).to.be.within(3, 3 + Math.ceil(elapsedS));
    for (const r of replies.filter((x) => !x.ok)) expect(r.error?.reason).to.equal('ToggleRateLimited');
    // b's own bucket is untouched; its reply comes after every event told to it before, and those are
    // only the toggles that went through.
    expect((await ack(b.s, 'disable_messaging')).ok).to.equal(true);
    expect(told.length).to.be.at.most(ok);
    expect(await rejected(s, 'ToggleRateLimited')).to.equal(20 - ok);
    await until(async () => (await ack(a.s, 'enable_messaging')).ok, 3000, 'a token to come back');
  });

  it('joinsPerSecondPerIp / joinBurstPerIp: too many joins from one address are refused with JoinRateLimited; other addresses join', async () => {
    // trustProxy: the address comes from X-Forwarded-For (documentation addresses, never contacted).
    const s = await start({ joinsPerSecondPerIp: 1, joinBurstPerIp: 3, trustProxy: true });
    const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': `203.0.113.99, ${ip}` });
    for (let i = 0; i < 3; i++) await member(s, 'j', `a${i}`, from('192.0.2.1'));
    const over = await rawConnect(s.url, from('192.0.2.1'));
    const r = await ack(over, 'join', { v: SIGNALING_VERSION, room: 'j', name: 'a3' });
    expect(r.error?.reason, JSON.stringify(r)).to.equal('JoinRateLimited');
    await member(s, 'j', 'b', from('192.0.2.2'));
    expect(await rejected(s, 'JoinRateLimited')).to.equal(1);
  });

  it('without trustProxy, X-Forwarded-For is ignored: the socket address is limited', async () => {
    const s = await start({ joinsPerSecondPerIp: 1, joinBurstPerIp: 2 });
    await member(s, 'j', 'a', { 'x-forwarded-for': '192.0.2.1' });
    await member(s, 'j', 'b', { 'x-forwarded-for': '192.0.2.2' });
    const over = await rawConnect(s.url, { 'x-forwarded-for': '192.0.2.3' });
    expect((await ack(over, 'join', { v: SIGNALING_VERSION, room: 'j', name: 'c' })).error?.reason).to.equal(
      'JoinRateLimited',
    );
  });

  it('allowedOrigins: a page of another origin is refused with OriginNotAllowed on the handshake; listed origins and clients without Origin connect', async () => {
    const s = await start({ allowedOrigins: ['https://app.example'] });
    const err = (await rawConnect(s.url, { origin: 'https://evil.example' }).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { data?: { reason: string } };
    expect(err?.data?.reason).to.equal('OriginNotAllowed');
    const a = await member(s, 'o', 'a', { origin: 'https://app.example' });
    const b = await member(s, 'o', 'b'); // Node client: no Origin header
    await relays(a, b);
    expect(await rejected(s, 'OriginNotAllowed')).to.equal(1);
    expect(await refusedAndClosed(s, { origin: 'https://evil.example' })).to.match(/"reason":"OriginNotAllowed"/);
  });

  it('maxPayloadBytes: a larger event is refused with PayloadTooLarge; a smaller one goes through', async () => {
    const s = await start({ maxPayloadBytes: 3072 });
    const a = await member(s, 'p', 'a');
    const b = await member(s, 'p', 'b');
    const big = await ack(a.s, 'signal', { to: b.id, cid: 'c', data: { type: 'offer', sdp: 'x'.repeat(3500) } });
    expect(big.error?.reason).to.equal('PayloadTooLarge');
    expect(
      (await ack(a.s, 'signal', { to: b.id, cid: 'c', data: { type: 'offer', sdp: 'x'.repeat(1500) } })).ok,
    ).to.equal(true);
    expect(await rejected(s, 'PayloadTooLarge')).to.equal(1);
    // The payload sizes are in the histogram: the 3.5 KB event counts in no bucket up to 1 KiB but in the 4 KiB one.
    expect(await metric(s, 'roommesh_event_payload_bytes_bucket{le="4096"}')).to.be.greaterThan(
      await metric(s, 'roommesh_event_payload_bytes_bucket{le="1024"}'),
    );
  });

  for (const count of ['0xa', '1e1'])
    it(`maxPayloadBytes: a binary event whose attachment count is written ${count} (10 to socket.io's parser) is charged all 10 attachments`, async () => {
      const s = await start({ maxPayloadBytes: 3072 });
      const b = await member(s, 'p', 'b');
      // A client speaking engine.io and socket.io packets itself, to write the count as it likes.
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
      const replies = new Map<number, unknown>();
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const text = String(data);
        if (text.startsWith('0')) ws.send('40');
        const m = /^43(\d+)(.*)$/s.exec(text);
        if (m !== null) replies.set(Number(m[1]), (JSON.parse(m[2]!) as unknown[])[0]);
      });
      await until(() => ws.readyState === WebSocket.OPEN, 5000, 'the websocket');
      const call = async (id: number, packet: string, binaries: Uint8Array[] = []): Promise<unknown> => {
        ws.send(packet);
        for (const bin of binaries) ws.send(bin);
        await until(() => replies.has(id), 5000, `the reply to ${packet.slice(0, 40)}`);
        return replies.get(id);
      };
      await until(
        async () => {
          const joined = await call(1, `421["join",${JSON.stringify({ v: SIGNALING_VERSION, room: 'p', name: 'a' })}]`);
          return (joined as { ok?: boolean }).ok === true;
        },
        5000,
        'the join',
      );
      expect(await call(2, '422["enable_messaging"]')).to.include({ ok: true });
      // 10 attachments of 1,000 bytes: 10 KB in all, over the 3,072 allowed.
      const header = `45${count}-3["relay",${JSON.stringify({ to: b.id, data: { _placeholder: true, num: 0 } })}]`;
      const reply = (await call(
        3,
        header,
        Array.from({ length: 10 }, () => new Uint8Array(1000).fill(7)),
      )) as {
        error?: { reason: string };
      };
      ws.close();
      expect(reply.error?.reason).to.equal('PayloadTooLarge');
    });

  it('websockets that never join are bounded too: past twice maxConnectionsPerIp the upgrade itself is refused', async () => {
    const s = await start({ maxConnectionsPerIp: 2 });
    // Raw websockets that open engine.io and never ask for the namespace: no middleware sees them.
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => {
        const ws = new WebSocket(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
        return new Promise<{ ws: WebSocket; opened: boolean }>((resolve) => {
          ws.once('message', () => resolve({ ws, opened: true }));
          ws.once('unexpected-response', () => resolve({ ws, opened: false }));
          ws.once('error', () => resolve({ ws, opened: false }));
        });
      }),
    );
    expect(outcomes.filter((o) => o.opened).length).to.equal(4);
    expect(await rejected(s, 'TooManyConnections')).to.equal(6);
    for (const o of outcomes) o.ws.terminate();
    // Gone, they free the address: a client joins as usual.
    await until(
      () =>
        member(s, 'raw', 'a').then(
          () => true,
          () => false,
        ),
      5000,
      'a client of that address to join once they are gone',
    );
  });

  it('too many events waiting on one connection are refused with TooManyRequests, and that connection recovers', async () => {
    const s = await start({ togglesPerSecond: 0 }); // the queue limit alone, not the toggle bucket
    const a = await member(s, 'q', 'a');
    const errors: Array<{ reason: string }> = [];
    a.s.on('request_error', (e: { reason: string }) => errors.push(e));
    // Sent in one go, these arrive faster than they are handled: the queue fills.
    for (let i = 0; i < 400; i++) a.s.emit('enable_messaging');
    await until(() => errors.length > 0, 5000, 'a TooManyRequests refusal');
    expect(errors.every((e) => e.reason === 'TooManyRequests')).to.equal(true);
    await until(async () => (await ack(a.s, 'enable_messaging')).ok, 5000, 'the connection to work again');
    expect(await rejected(s, 'TooManyRequests')).to.equal(errors.length);
  });

  it('joinTimeoutMs: a connection that does not join in time is closed; one that joined stays', async () => {
    const s = await start({ joinTimeoutMs: 1000 });
    const idle = await rawConnect(s.url);
    const gone = new Promise((r) => idle.once('disconnect', r));
    const a = await member(s, 't', 'a');
    expect(await gone).to.equal('io server disconnect');
    // Well past the timeout: the member is still connected and served.
    await until(() => s.stats().connections === 1, 5000, 'the idle connection to be closed');
    await new Promise((r) => setTimeout(r, 1100));
    expect(a.s.connected).to.equal(true);
    expect((await ack(a.s, 'enable_messaging')).ok).to.equal(true);
    expect(await rejected(s, 'NotJoined')).to.equal(1);
  });

  it('rooms per connection is one: a second join is AlreadyJoined', async () => {
    const s = await start({});
    const c = await rawConnect(s.url);
    expect((await ack(c, 'join', { v: SIGNALING_VERSION, room: 'x', name: 'a' })).ok).to.equal(true);
    expect((await ack(c, 'join', { v: SIGNALING_VERSION, room: 'y', name: 'a' })).error?.reason).to.equal(
      'AlreadyJoined',
    );
    expect(await rejected(s, 'AlreadyJoined')).to.equal(1);
  });
});
