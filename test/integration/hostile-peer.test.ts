import { expect } from 'chai';
import { Encoder } from 'cbor-x';
import { DEFAULT_TIMEOUTS, ProtocolError, nodeDataChannelWebRTC, silentLogger } from '../../lib/node.js';
import { PeerLink } from '../../lib/internal/PeerLink.js';
import { MAX_PROTOCOL_ERRORS, Session } from '../../lib/internal/Session.js';
import { FrameKind, encodeFrame } from '../../lib/protocol/frames.js';
import { bytes, eventually, nextEvent } from '../support/harness.js';

/** A real data channel: `raw` is a bare link the test writes bytes to, `session` is roommesh's receiving side. */
async function rawPair(): Promise<{ raw: PeerLink; session: Session; errors: ProtocolError[]; messages: unknown[] }> {
  const wrtc = nodeDataChannelWebRTC();
  const raw = new PeerLink({ initiator: true, wrtc, rtcConfig: { iceServers: [] }, logger: silentLogger });
  const link = new PeerLink({ initiator: false, wrtc, rtcConfig: { iceServers: [] }, logger: silentLogger });
  raw.on('signal', (d) => link.signal(d));
  link.on('signal', (d) => raw.signal(d));
  const session = new Session({
    participant: { id: 'mallory', name: 'mallory', joinedAtMs: 0 },
    cid: 'c',
    initiator: false,
    attempt: 1,
    link,
    timeouts: { ...DEFAULT_TIMEOUTS },
    localAttributes: () => ({}),
    logger: silentLogger,
  });
  const errors: ProtocolError[] = [];
  const messages: unknown[] = [];
  session.on('protocol_error', (e) => errors.push(e));
  session.on('message', (type, payload) => messages.push({ type, payload }));
  await Promise.all([nextEvent(raw, 'open'), nextEvent(link, 'open')]);
  return { raw, session, errors, messages };
}

describe('a hostile peer on a real data channel', function () {
  this.timeout(20_000);
  const open: PeerLink[] = [];
  afterEach(() => {
    for (const l of open.splice(0)) l.close();
  });

  it('garbage is counted and reported, never delivered, and the link survives below the threshold', async () => {
    const { raw, session, errors, messages } = await rawPair();
    open.push(raw, session.link);
    const plain = new Encoder({ useRecords: false, tagUint8Array: false });
    // Before hello, a well-formed message is still out of place.
    raw.send(encodeFrame({ kind: FrameKind.Message, seq: 1, type: 'early', payload: {} }));
    raw.send(encodeFrame({ kind: FrameKind.Hello, attributes: {} }));
    const garbage: Uint8Array[] = [
      bytes(64, 99),
      new Uint8Array([0xff]),
      plain.encode([2, FrameKind.Ping]),
      plain.encode([1, 42]),
      plain.encode([1, FrameKind.Message, -1, 't', {}]),
      plain.encode([1, FrameKind.Message, 5, 't', {}]), // seq out of order
      plain.encode([1, FrameKind.Message, 1, 't', 'not a map']),
      plain.encode([1, FrameKind.Ack, 1_000_000]), // acknowledges what was never sent
      plain.encode({ not: 'an array' }),
    ];
    for (const g of garbage) raw.send(g);
    // A valid message after all that still arrives: the listener sees only it.
    raw.send(encodeFrame({ kind: FrameKind.Message, seq: 1, type: 'fine', payload: { ok: true } }));
    await eventually(() => messages.length === 1, 5000, 'the valid message');
    expect(messages).to.deep.equal([{ type: 'fine', payload: { ok: true } }]);
    expect(errors).to.have.length(garbage.length + 1);
    expect(errors.every((e) => e instanceof ProtocolError && e.participantId === 'mallory')).to.equal(true);
    expect(errors[0]!.reason).to.equal('UnexpectedFrame');
    expect(session.isReady).to.equal(true);
  });

  it('past the threshold the offending peer is disconnected', async () => {
    const { raw, session, errors } = await rawPair();
    open.push(raw, session.link);
    const closed = nextEvent(session, 'close');
    for (let i = 0; i < MAX_PROTOCOL_ERRORS + 5; i++) raw.send(bytes(32, i + 1));
    const [reason] = await closed;
    expect(reason).to.match(/protocol errors/);
    expect(errors.filter((e) => e.reason === 'TooManyErrors')).to.have.length(1);
    expect(errors.length).to.equal(MAX_PROTOCOL_ERRORS + 1);
  });
});
