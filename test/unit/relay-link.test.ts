/**
 * RelayLink over an in-memory relay (a fake signaling pipe: pure logic), and a Session over RelayLink pairs:
 * the handshake, order, end-to-end flow control with credit, tampering and a wrong key refused, close.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { DEFAULT_TIMEOUTS } from '../../lib/defaults.js';
import { RELAY_WINDOW_BYTES, RelayLink } from '../../lib/link/RelayLink.js';
import { nodeRelayAead } from '../../lib/link/node-relay-aead.js';
import { nodeRelayKdf } from '../../lib/link/node-relay-kdf.js';
import {
  generateRelayKeyPair,
  webCryptoAead,
  webCryptoKdf,
  type RelayAeadFactory,
  type RelayKdf,
  type RelayKeyPair,
} from '../../lib/link/relay-crypto.js';
import { ConnectionError } from '../../lib/errors.js';
import { type Logger, silentLogger } from '../../lib/logger.js';
import { MessageBody } from '../../lib/protocol/frames.js';
import { decodeRelayFrame, encodeRelayAccept, encodeRelayOpen } from '../../lib/protocol/relay-frames.js';
import { AttachmentBudget, type Delivery } from '../../lib/session/Inbox.js';
import { Session } from '../../lib/session/Session.js';
import { eventually, nextEvent } from '../support/harness.js';

/** One direction of the fake relay: what goes in comes out in a later turn, unless frozen or tampered. */
class Pipe {
  to: RelayLink | undefined;
  frozen = false;
  held: Uint8Array[] = [];
  sentBytes = 0;
  frames = 0;
  tamper: ((b: Uint8Array) => Uint8Array) | undefined;
  /**
   * Holds the very bytes it was given until it delivers them, as a socket does until it has written them;
   * and delivers one frame a turn, so that credit for the first comes back while later ones wait.
   */
  noCopy = false;
  /** The buffers of the frames sent, when `noCopy`. */
  readonly buffers = new Set<ArrayBufferLike>();
  send(data: Uint8Array): void | Promise<void> {
    this.sentBytes += data.byteLength;
    this.frames++;
    if (this.noCopy) this.buffers.add(data.buffer);
    const copy = this.tamper ? this.tamper(data.slice()) : this.noCopy ? data : data.slice();
    this.held.push(copy);
    if (!this.noCopy) setImmediate(() => this.flush());
    else if (this.held.length === 1) setImmediate(() => this.#trickle());
  }
  flush(): void {
    while (!this.frozen && this.held.length > 0) this.to?.handleFrame(this.held.shift() as Uint8Array);
  }
  #trickle(): void {
    this.to?.handleFrame(this.held.shift() as Uint8Array);
    if (this.held.length > 0) setImmediate(() => this.#trickle());
  }
}

/** The AES-GCM and key derivation one side runs: WebCrypto's (browsers) or node:crypto's (the Node entry). */
type Suite = { aead: RelayAeadFactory; kdf: RelayKdf };
const WEB: Suite = { aead: webCryptoAead, kdf: webCryptoKdf };
const NODE: Suite = { aead: nodeRelayAead, kdf: nodeRelayKdf };

let keys: [RelayKeyPair, RelayKeyPair];
function linkPair(options: { maxFrameBytes?: number; bKey?: string; crypto?: [Suite, Suite]; logger?: Logger } = {}): {
  a: RelayLink;
  b: RelayLink;
  ab: Pipe;
  ba: Pipe;
} {
  const ab = new Pipe();
  const ba = new Pipe();
  const common = { maxFrameBytes: options.maxFrameBytes ?? 32 * 1024, logger: options.logger ?? silentLogger };
  const a = new RelayLink({
    ...common,
    port: ab,
    keys: keys[0],
    localId: 'a',
    peerId: 'b',
    peerKey: keys[1].publicKey,
    initiator: true,
    cid: 'c1',
    ...options.crypto?.[0],
  });
  const b = new RelayLink({
    ...common,
    port: ba,
    keys: keys[1],
    localId: 'b',
    peerId: 'a',
    peerKey: options.bKey ?? keys[0].publicKey,
    initiator: false,
    cid: 'c1',
    ...options.crypto?.[1],
  });
  ab.to = b;
  ba.to = a;
  return { a, b, ab, ba };
}
const opened = (l: RelayLink): Promise<unknown> => nextEvent(l, 'open', 2000);

describe('RelayLink (over an in-memory relay)', () => {
  before(async () => {
    // One of each kind: a's is node:crypto's ECDH key (the Node entry's), b's WebCrypto's (a browser's).
    keys = await Promise.all([nodeRelayKdf.generateKeyPair(), generateRelayKeyPair()]);
  });

  it('opens both sides after the handshake and delivers messages whole and in order, both ways', async () => {
    const { a, b, ab } = linkPair();
    await Promise.all([opened(a), opened(b)]);
    // As large as on a data channel: a message over one relayed frame goes in parts.
    expect(a.maxMessageBytes).to.equal(256 * 1024);
    const got: number[] = [];
    b.on('data', (d) => got.push(d[0] as number, d.byteLength, d[d.byteLength - 1] as number));
    const size = (i: number): number => (i % 10 === 0 ? 100_000 + i : 1 + (i % 50));
    for (let i = 0; i < 200; i++) a.write(new Uint8Array(size(i)).fill(i));
    await eventually(() => got.length === 600, 2000, 'every message');
    expect(got).to.deep.equal(Array.from({ length: 200 }, (_, i) => [i, size(i), i]).flat());
    // What crossed the relay does not contain the plaintext.
    expect(ab.sentBytes).to.be.greaterThan(0);
    const back = nextEvent(a, 'data', 2000);
    b.write(new TextEncoder().encode('pong'));
    expect(new TextDecoder().decode((await back)[0])).to.equal('pong');
  });

  it('packs messages into full frames: many small ones share a frame, a large one spans frames', async () => {
    const { a, b, ab } = linkPair({ maxFrameBytes: 4096 });
    await Promise.all([opened(a), opened(b)]);
    const got: number[] = [];
    b.on('data', (d) => got.push(d.byteLength));
    const framesBefore = ab.frames;
    for (let i = 0; i < 100; i++) a.write(new Uint8Array(30).fill(i)); // 100 × (4 + 30) bytes of stream
    a.write(new Uint8Array(10_000));
    await eventually(() => got.length === 101, 2000, 'every message');
    expect(got).to.deep.equal([...Array<number>(100).fill(30), 10_000]);
    // (3,400 + 10,004) bytes of stream in frames of 4,096 less 42: 4 frames, none part-empty but the last.
    expect(ab.frames - framesBefore).to.equal(Math.ceil((100 * 34 + 10_004) / (4096 - 42)));
  });

  it('a message that fits one frame is never cut in two: it starts a frame and arrives as a view of it', async () => {
    const { a, b, ab } = linkPair({ maxFrameBytes: 4096 });
    await Promise.all([opened(a), opened(b)]);
    // A frame of 4,096 less 42 (header, tag and the kind) holds the message's length and its bytes.
    expect(a.unitMessageBytes).to.equal(4096 - 42 - 4);
    const got: Uint8Array[] = [];
    b.on('data', (d) => got.push(d));
    const framesBefore = ab.frames;
    a.write(new Uint8Array(30).fill(1));
    a.write(new Uint8Array(a.unitMessageBytes).fill(2));
    a.write(new Uint8Array(30).fill(3));
    await eventually(() => got.length === 3, 2000, 'every message');
    expect(got.map((d) => [d.byteLength, d[0]])).to.deep.equal([
      [30, 1],
      [a.unitMessageBytes, 2],
      [30, 3],
    ]);
    // The first frame goes short; the large message fills the second alone, so it is not put back together
    // in a buffer of its own: it is a view of its frame, after the kind and its length.
    expect(ab.frames - framesBefore).to.equal(3);
    expect(got[1]?.byteOffset).to.equal(5);
  });

  for (const [label, crypto] of [
    ['node:crypto to WebCrypto', [NODE, WEB]],
    ['WebCrypto to node:crypto', [WEB, NODE]],
    ['node:crypto both ways', [NODE, NODE]],
  ] as Array<[string, [Suite, Suite]]>) {
    it(`${label}: the same cipher and keys, so messages go both ways`, async () => {
      const { a, b } = linkPair({ crypto });
      await Promise.all([opened(a), opened(b)]);
      const got: number[] = [];
      b.on('data', (d) => got.push(d.byteLength, d[0] as number));
      for (let i = 0; i < 20; i++) a.write(new Uint8Array(i % 5 === 0 ? 100_000 : 10).fill(i));
      await eventually(() => got.length === 40, 2000, 'every message');
      expect(got).to.deep.equal(Array.from({ length: 20 }, (_, i) => [i % 5 === 0 ? 100_000 : 10, i]).flat());
      const back = nextEvent(a, 'data', 2000);
      b.write(new TextEncoder().encode('pong'));
      expect(new TextDecoder().decode((await back)[0])).to.equal('pong');
    });
  }

  it('flow control: a frozen receiver stops the sender at the window; credit makes it writable again', async () => {
    const { a, b, ab } = linkPair();
    await Promise.all([opened(a), opened(b)]);
    ab.frozen = true;
    const chunk = new Uint8Array(16 * 1024);
    let written = 0;
    while (a.writable) {
      a.write(chunk);
      written += chunk.byteLength;
    }
    expect(written).to.equal(RELAY_WINDOW_BYTES);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.writable).to.equal(false);
    expect(ab.held.length).to.be.at.most(RELAY_WINDOW_BYTES / chunk.byteLength + 1);
    const writable = nextEvent(a, 'writable', 2000);
    ab.frozen = false;
    ab.flush();
    await writable;
    expect(a.writable).to.equal(true);
  });

  it('a bulk transfer written as credit returns goes in full frames only; the last part goes when writing stops', async () => {
    // As a session sends an attachment: 64 KiB chunks while writable, again on each 'writable'.
    const { a, b, ab } = linkPair({ maxFrameBytes: 63 * 1024 });
    await Promise.all([opened(a), opened(b)]);
    const chunk = new Uint8Array(64 * 1024).fill(9);
    const chunks = 200; // 12.5 MiB: 25 windows, so the window fills and credit returns many times
    let sent = 0;
    const pump = (): void => {
      while (sent < chunks && a.writable) {
        a.write(chunk);
        sent++;
      }
    };
    a.on('writable', pump);
    let got = 0;
    b.on('data', (d) => (got += d.byteLength));
    const framesBefore = ab.frames;
    const bytesBefore = ab.sentBytes;
    pump();
    await eventually(() => got === chunks * chunk.byteLength, 5000, 'every chunk');
    // The stream (each chunk and its length) in frames of 63 KiB less 42: the fewest frames it fits in.
    const streamBytes = chunks * (4 + chunk.byteLength);
    expect(ab.frames - framesBefore).to.equal(Math.ceil(streamBytes / (63 * 1024 - 42)));
    expect(ab.sentBytes - bytesBefore).to.equal(streamBytes + (ab.frames - framesBefore) * 42);
    // Credit came back for all but less than a quarter window (credit goes in quarters): writable again.
    await eventually(() => a.bufferedBytes < RELAY_WINDOW_BYTES / 4, 2000, 'credited');
    expect(a.writable).to.equal(true);
  });

  for (const [label, crypto] of [
    ['node:crypto', [NODE, NODE]],
    ['WebCrypto', [WEB, NODE]],
  ] as Array<[string, [Suite, Suite]]>) {
    it(`${label}: a bulk transfer seals into a few buffers, each taken again only once the peer credited its frame`, async () => {
      // The pipe holds the sender's own buffers until it delivers them: one sealed into again too early
      // would reach the receiver changed, fail its tag and close the link.
      const frameBytes = 63 * 1024;
      const { a, b, ab } = linkPair({ maxFrameBytes: frameBytes, crypto });
      ab.noCopy = true;
      await Promise.all([opened(a), opened(b)]);
      const unit = a.unitMessageBytes; // a session's chunks on this link: one per frame
      const chunks = 100; // ~6 MiB: the window fills and credit returns many times
      let sent = 0;
      const pump = (): void => {
        while (sent < chunks && a.writable) a.write(new Uint8Array(unit).fill(sent++));
      };
      a.on('writable', pump);
      const wrong: number[] = [];
      let got = 0;
      b.on('data', (d) => {
        if (d.byteLength !== unit || d.some((x) => x !== (got & 0xff))) wrong.push(got);
        got++;
      });
      let closed = false;
      a.on('close', () => (closed = true));
      const framesBefore = ab.frames;
      pump();
      await eventually(() => got === chunks || closed, 5000, 'every chunk');
      expect({ got, wrong, closed }).to.deep.equal({ got: chunks, wrong: [], closed: false });
      expect(ab.frames - framesBefore).to.equal(chunks);
      // A window of frames in flight and one more, and half a window's spare ones; small frames (the
      // handshake) have buffers of their own: not a buffer per frame.
      const spare = Math.ceil(RELAY_WINDOW_BYTES / 2 / frameBytes) + 1;
      expect(ab.buffers.size).to.be.at.most(Math.ceil(RELAY_WINDOW_BYTES / frameBytes) + 1 + spare + 2);
    });
  }

  it('a tampered frame closes the link and is never delivered; so does a peer with the wrong key', async () => {
    const { a, b, ab } = linkPair();
    await Promise.all([opened(a), opened(b)]);
    const got: Uint8Array[] = [];
    b.on('data', (d) => got.push(d));
    ab.tamper = (x) => {
      x[x.byteLength - 1] = (x[x.byteLength - 1] as number) ^ 1;
      return x;
    };
    const closed = nextEvent(b, 'close', 2000);
    a.write(new Uint8Array([1, 2, 3]));
    expect((await closed)[0]).to.match(/BadSeal/);
    expect(got).to.have.length(0);

    const other = await generateRelayKeyPair();
    const w = linkPair({ bKey: other.publicKey });
    await opened(w.b);
    const wClosed = nextEvent(w.a, 'close', 2000);
    w.b.write(new Uint8Array([9]));
    expect((await wClosed)[0]).to.match(/BadSeal/);
  });

  it('node:crypto derives at once: each side opens inside the frame that completes the handshake', async () => {
    const { a, b, ab, ba } = linkPair({ crypto: [NODE, NODE] });
    ab.frozen = true;
    ba.frozen = true;
    await eventually(() => ab.held.length === 1, 2000, 'the open frame');
    let bOpened = false;
    b.once('open', () => (bOpened = true));
    ab.flush = () => {}; // delivered by hand below
    b.handleFrame(ab.held.shift() as Uint8Array);
    // The acceptor answered and opened in the same call: no turn of the event loop in between.
    expect(bOpened).to.equal(true);
    expect(b.isOpen).to.equal(true);
    await eventually(() => ba.held.length >= 1, 2000, 'the accept frame');
    a.handleFrame(ba.held.shift() as Uint8Array);
    expect(a.isOpen).to.equal(true);
    // A peer key that is no P-256 point fails the link, synchronously, without throwing out.
    const bad = linkPair({ crypto: [NODE, NODE], bKey: 'AAAA' });
    bad.ab.frozen = true;
    await eventually(() => bad.ab.held.length === 1, 2000, 'the open frame');
    const closed = nextEvent(bad.b, 'close', 2000);
    bad.b.handleFrame(bad.ab.held.shift() as Uint8Array);
    expect((await closed)[0]).to.match(/cannot derive relay keys/);
  });

  it('close reaches the peer; a message over maxMessageBytes closes the link', async () => {
    const { a, b } = linkPair();
    await Promise.all([opened(a), opened(b)]);
    const closed = nextEvent(b, 'close', 2000);
    a.close('done');
    expect((await closed)[0]).to.equal('closed by peer');
    const c = linkPair();
    await opened(c.a);
    expect(c.a.write(new Uint8Array(256 * 1024 + 1))).to.equal(false);
    expect(c.a.isOpen).to.equal(false);
  });

  it('a port that cannot send (the signaling connection is gone) closes the link, leaving no rejection behind', async () => {
    const gone = (): Promise<void> => Promise.reject(new Error('relay: not connected to the signaling server'));
    const link = new RelayLink({
      port: { send: gone },
      keys: keys[0],
      localId: 'a',
      peerId: 'b',
      peerKey: keys[1].publicKey,
      initiator: true,
      cid: 'c1',
      maxFrameBytes: 32 * 1024,
      logger: silentLogger,
    });
    const [reason] = await nextEvent(link, 'close', 2000);
    expect(reason).to.match(/cannot seal or send a relayed frame: .*not connected/);
    // An open link whose port fails mid-stream closes too, after its earlier frames, and later writes do nothing.
    const { a, b, ab } = linkPair();
    await Promise.all([opened(a), opened(b)]);
    ab.send = gone;
    const closed = nextEvent(a, 'close', 2000);
    a.write(new Uint8Array([1]));
    a.write(new Uint8Array([2]));
    expect((await closed)[0]).to.match(/cannot seal or send a relayed frame/);
    expect(a.write(new Uint8Array([3]))).to.equal(false);
  });

  it('a refusal because the peer left, or a lost signaling connection, closes the link without a warning; others warn', async () => {
    const warned: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (obj) => void warned.push(JSON.stringify(obj)) };
    for (const reason of ['PeerNotEnabled', 'UnknownParticipant']) {
      const { a, b } = linkPair({ logger });
      await Promise.all([nextEvent(a, 'open'), nextEvent(b, 'open')]);
      const closed = nextEvent(a, 'close');
      a.handleRefused(reason); // the peer left normally; its frames and the server's word crossed
      expect((await closed)[0]).to.include(reason);
    }
    expect(warned).to.deep.equal([]);
    // The signaling connection dropped: every relayed link goes, and the room says so once.
    const { a, b, ab } = linkPair({ logger });
    await Promise.all([nextEvent(a, 'open'), nextEvent(b, 'open')]);
    ab.send = () => Promise.reject(ConnectionError.disconnected('relay'));
    const gone = nextEvent(a, 'close');
    a.write(new Uint8Array(10));
    await gone;
    expect(warned).to.deep.equal([]);
    const { a: c, b: d } = linkPair({ logger });
    await Promise.all([nextEvent(c, 'open'), nextEvent(d, 'open')]);
    c.handleRefused('RelayRateLimited'); // a gap in the stream this side did not expect
    expect(warned).to.have.length(1);
  });

  it("node:crypto: the acceptor's accept and its first sealed frame travel in one event, and the opener takes both", async () => {
    const { a, b, ab, ba } = linkPair({ crypto: [NODE, NODE] });
    // The acceptor's first sealed frame, written as a session writes its hello when the link opens.
    b.once('open', () => b.write(new TextEncoder().encode('hello from b')));
    const got = nextEvent(a, 'data', 2000);
    await Promise.all([opened(a), opened(b)]);
    expect(new TextDecoder().decode((await got)[0])).to.equal('hello from b');
    expect(ba.frames, 'accept and sealed frame in one').to.equal(1);
    expect(ab.frames).to.equal(1);
    // Alone, a turn later, when the acceptor writes nothing.
    const quiet = linkPair({ crypto: [NODE, NODE] });
    await Promise.all([opened(quiet.a), opened(quiet.b)]);
    expect(quiet.ba.frames).to.equal(1);
  });

  it('an accept frame carries only a sealed frame of its own link after it; anything else is refused', () => {
    const id = new Uint8Array(16).fill(7);
    const nonce = new Uint8Array(16).fill(9);
    const sealed = new Uint8Array(25 + 17).fill(1);
    sealed[0] = 3;
    sealed.set(id, 1);
    const both = decodeRelayFrame(encodeRelayAccept(id, nonce, sealed));
    expect(both).to.deep.include({ kind: 'accept', nonce, sealed });
    expect(decodeRelayFrame(encodeRelayAccept(id, nonce))).to.deep.include({ kind: 'accept', sealed: undefined });
    const otherLink = sealed.slice();
    otherLink[1] = 8;
    expect(decodeRelayFrame(encodeRelayAccept(id, nonce, otherLink))).to.match(/something other than a sealed frame/);
    expect(decodeRelayFrame(encodeRelayAccept(id, nonce, encodeRelayOpen(id, 's')))).to.match(/something other/);
    expect(decodeRelayFrame(encodeRelayAccept(id, nonce).subarray(0, 32))).to.equal('accept frame of the wrong size');
  });

  it('the open frame names the session; a malformed one is refused', () => {
    const id = new Uint8Array(16).fill(7);
    const open = decodeRelayFrame(encodeRelayOpen(id, 'session-1'));
    expect(open).to.deep.include({ kind: 'open', cid: 'session-1' });
    expect(decodeRelayFrame(encodeRelayOpen(id, 'x').subarray(0, 17))).to.equal('open frame of the wrong size');
    const bad = encodeRelayOpen(id, 'ab');
    bad[17] = 0xff;
    expect(decodeRelayFrame(bad)).to.match(/not UTF-8/);
    expect(() => encodeRelayOpen(id, 'x'.repeat(65))).to.throw(RangeError);
  });

  it('a Session over a RelayLink pair: messages and an 8 MiB attachment arrive, hash compared', async () => {
    const { a, b } = linkPair();
    const session = (link: RelayLink, id: string): Session =>
      new Session({
        participant: { id: id === 'a' ? 'b' : 'a', name: id === 'a' ? 'bob' : 'alice', joinedAtMs: 0 },
        cid: 'relay',
        link,
        timeouts: DEFAULT_TIMEOUTS,
        maxAttachmentBytes: 64 << 20,
        attachmentBudget: new AttachmentBudget(1 << 30),
        receiveRate: { bytesPerSecond: 1 << 30, burstBytes: 1 << 30 },
        decodeBudget: { msPerSecond: 1000, burstMs: 1000 },
        localAttributes: () => ({ me: id }),
        logger: silentLogger,
      });
    const sa = session(a, 'a');
    const sb = session(b, 'b');
    try {
      await Promise.all([nextEvent(sa, 'ready', 3000), nextEvent(sb, 'ready', 3000)]);
      const received: Delivery[] = [];
      sb.on('message', (d) => received.push(d));
      const sizes: number[] = [];
      b.on('data', (d) => sizes.push(d.byteLength));
      let progress = 0;
      sb.on('progress', () => progress++);
      // Over a relayed frame but under 64 KiB: whole, as on a data channel (no progress), in two relayed frames.
      await sa.sendMessage(new MessageBody('w', { n: 0 }), new Uint8Array(60_000), true);
      expect(progress).to.equal(0);
      sizes.length = 0;
      const big = new Uint8Array(8 << 20).map((_, i) => (i * 31) & 0xff);
      await sa.sendMessage(new MessageBody('hi', { n: 1 }), undefined, true);
      await sa.sendMessage(new MessageBody('file', { n: 2 }), big, true);
      await eventually(() => received.length === 3, 10_000, 'every message');
      expect(received.map((d) => d.payload.n)).to.deep.equal([0, 1, 2]);
      const hash = (x: Uint8Array): string => createHash('sha256').update(x).digest('hex');
      expect(hash(received[2]!.attachment as Uint8Array)).to.equal(hash(big));
      // Chunk frames are cut to fit one relayed frame each (a 64 KiB one spans two of these 32 KiB frames).
      expect(Math.max(...sizes)).to.be.within(b.unitMessageBytes - 32, b.unitMessageBytes);
    } finally {
      sa.close('test over');
      sb.close('test over');
    }
  });
});
