import { createRequire } from 'node:module';
import { expect } from 'chai';
import { Harness, rejection, bytes, eventually, nextEvent } from '../support/harness.js';
import {
  InvalidArgumentError,
  MAX_FRAME_BYTES,
  MessagingError,
  type ReceivedMessage,
  type WebRTCImplementation,
} from '../../lib/node.js';

describe('messages', function () {
  const h = new Harness();
  afterEach(() => h.close());

  it('a direct message arrives with its type, payload and sender, and resolves on acknowledgement', async () => {
    const server = await h.server();
    const [alice, bob, carol] = await h.mesh(server, 'm1', ['alice', 'bob', 'carol']);
    const atCarol: ReceivedMessage[] = [];
    carol!.messaging.on('message', (m) => atCarol.push(m));
    const got = nextEvent(bob!.messaging, 'message');
    const bobAtAlice = alice!.messaging.getParticipantByName('bob')!;
    await alice!.messaging.sendMessage({
      to: bobAtAlice,
      type: 'chat',
      message: { text: 'hi', n: [1, 2.5, null, true] },
    });
    const [m] = await got;
    expect(m.type).to.equal('chat');
    expect(m.message).to.deep.equal({ text: 'hi', n: [1, 2.5, null, true] });
    expect(m.fromParticipantId).to.equal(alice!.localParticipant.id);
    expect(m.from).to.equal(bob!.messaging.getParticipant(alice!.localParticipant.id));
    expect(m.attachment).to.equal(undefined);
    // Sent by id as well as by participant object.
    const second = nextEvent(bob!.messaging, 'message');
    await alice!.messaging.sendMessage({ to: bob!.localParticipant.id, type: 'chat', message: { text: 'again' } });
    expect((await second)[0].message).to.deep.equal({ text: 'again' });
    expect(atCarol).to.have.length(0);
  });

  it('attachments arrive byte for byte, from 0 bytes up to the largest that fits one frame', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'm2', ['alice', 'bob']);
    const received: ReceivedMessage[] = [];
    bob!.messaging.on('message', (m) => received.push(m));
    const sizes = [0, 1, 1000, 64 * 1024, MAX_FRAME_BYTES - 64];
    for (const [i, size] of sizes.entries()) {
      await alice!.messaging.sendMessage({
        to: bob!.localParticipant.id,
        type: 'file',
        message: { i },
        attachment: bytes(size, i + 1),
      });
    }
    await eventually(() => received.length === sizes.length, 5000, 'all attachments');
    for (const [i, size] of sizes.entries()) {
      const m = received[i]!;
      expect(m.message).to.deep.equal({ i });
      expect(m.attachment).to.be.instanceOf(Uint8Array);
      expect(Buffer.from(m.attachment!).equals(Buffer.from(bytes(size, i + 1)))).to.equal(
        true,
        `attachment of ${size} bytes`,
      );
    }
  });

  it('broadcast reaches everyone present except the sender, with who received it', async () => {
    const server = await h.server();
    const rooms = await h.mesh(server, 'm3', ['alice', 'bob', 'carol', 'dave']);
    const [alice] = rooms;
    const inbox = new Map<string, ReceivedMessage[]>();
    for (const r of rooms) {
      inbox.set(r.localParticipant.name, []);
      r.messaging.on('message', (m) => inbox.get(r.localParticipant.name)!.push(m));
    }
    const attachment = bytes(5000, 7);
    const result = await alice!.messaging.broadcastMessage({
      type: 'announce',
      message: { text: 'standup in 5' },
      attachment,
    });
    expect(result.failed).to.deep.equal([]);
    expect(result.delivered.sort()).to.deep.equal(
      rooms
        .slice(1)
        .map((r) => r.localParticipant.id)
        .sort(),
    );
    // Resolution means acknowledged, so every inbox already holds it.
    for (const name of ['bob', 'carol', 'dave']) {
      const box = inbox.get(name)!;
      expect(box).to.have.length(1);
      expect(box[0]!.type).to.equal('announce');
      expect(box[0]!.from.name).to.equal('alice');
      expect(Buffer.from(box[0]!.attachment!).equals(Buffer.from(attachment))).to.equal(true);
    }
    expect(inbox.get('alice')).to.have.length(0);
  });

  it('broadcast in an empty room resolves with nobody', async () => {
    const server = await h.server();
    const alone = await h.join(server, 'm4', 'alone');
    await alone.messaging.enable();
    expect(await alone.messaging.broadcastMessage({ type: 't', message: {} })).to.deep.equal({
      delivered: [],
      failed: [],
      errors: {},
    });
  });

  it('10,000 pipelined messages arrive in the order sent, each once', async function () {
    this.timeout(60_000);
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'm5', ['alice', 'bob']);
    const seen: number[] = [];
    bob!.messaging.on('message', (m) => seen.push(m.message.i as number));
    const to = bob!.localParticipant.id;
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 10_000; i++) {
      // Every 100th without waiting for acknowledgement: both kinds share one ordered stream.
      if (i % 100 === 99) alice!.messaging.sendMessageNowait({ to, type: 'seq', message: { i } });
      else sends.push(alice!.messaging.sendMessage({ to, type: 'seq', message: { i } }));
    }
    await Promise.all(sends);
    await eventually(() => seen.length === 10_000, 10_000, 'all messages');
    expect(seen.every((v, i) => v === i)).to.equal(true);
  });

  for (const paths of ['relay-first', 'relay', 'direct'] as const) {
    it(`messages sent just before disable() are delivered and acknowledged before the goodbye (paths '${paths}')`, async () => {
      const server = await h.server();
      const [alice, bob] = await h.mesh(server, `m11-${paths}`, ['alice', 'bob'], { paths });
      const seen: number[] = [];
      bob!.messaging.on('message', (m) => seen.push(m.message.i as number));
      const to = bob!.localParticipant.id;
      const sends = Array.from({ length: 200 }, (_, i) =>
        alice!.messaging.sendMessage({ to, type: 'last words', message: { i } }),
      );
      await alice!.messaging.disable();
      const settled = await Promise.allSettled(sends);
      expect(settled.filter((s) => s.status === 'rejected')).to.deep.equal([]);
      expect(seen).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
    });
  }

  it('sendMessageNowait reports whether the recipient is present', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'm6', ['alice', 'bob']);
    const got = nextEvent(bob!.messaging, 'message');
    expect(
      alice!.messaging.sendMessageNowait({ to: bob!.localParticipant.id, type: 'cursor', message: { x: 1, y: 2 } }),
    ).to.equal(true);
    expect((await got)[0].message).to.deep.equal({ x: 1, y: 2 });
    expect(alice!.messaging.sendMessageNowait({ to: 'nobody', type: 'cursor', message: {} })).to.equal(false);
  });

  /** Bytes whose buffer was transferred away. */
  const detached = (): Uint8Array => {
    const bytes = new Uint8Array(8);
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
    return bytes;
  };

  it('refuses bad arguments at the call, before anything is sent', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'm7', ['alice', 'bob']);
    const received: ReceivedMessage[] = [];
    bob!.messaging.on('message', (m) => received.push(m));
    const to = bob!.localParticipant.id;
    const m = alice!.messaging;
    // [options, expected message, whether broadcastMessage (which has no `to`) refuses it too]
    const bad: Array<[unknown, RegExp, boolean?]> = [
      [{ to, type: '', message: {} }, /type/],
      [{ to, type: 7, message: {} }, /type/],
      [{ to, type: 'x'.repeat(257), message: {} }, /type/],
      [{ to, type: 't', message: 'text' }, /message is not a JSON object/],
      [{ to, type: 't', message: [1] }, /message is not a JSON object/],
      [{ to, type: 't', message: null }, /message is not a JSON object/],
      [{ to, type: 't', message: { when: new Date() } }, /message\.when is not a plain object/],
      [{ to, type: 't', message: { n: Number.POSITIVE_INFINITY } }, /finite/],
      [{ to, type: 't', message: { f: () => 1 } }, /function/],
      [{ to, type: 't', message: {}, attachment: 'bytes' }, /attachment/],
      [{ to, type: 't', message: {}, attachment: new ArrayBuffer(4) }, /attachment/],
      [{ to, type: 'q\uDC00', message: {} }, /type is not well-formed Unicode/],
      [{ to, type: 't', message: {}, attachment: detached() }, /attachment's buffer was transferred/],
      [
        new Proxy(
          {},
          {
            get: () => {
              throw new Error('trap');
            },
          },
        ),
        /the options cannot be read \(Error: trap\)/,
      ],
      [{ to: 42, type: 't', message: {} }, /to must be/, false],
      [{ to, type: 't', message: {}, ignoreOffline: 'yes' }, /ignoreOffline/, false],
      [null, /options/],
    ];
    for (const [i, [options, pattern, broadcastToo = true]] of bad.entries()) {
      const err = await rejection(m.sendMessage(options as never));
      expect(err, `case ${i}`).to.be.instanceOf(InvalidArgumentError);
      expect(err.message).to.match(pattern);
      expect(() => m.sendMessageNowait(options as never)).to.throw(InvalidArgumentError);
      if (broadcastToo)
        expect(await rejection(m.broadcastMessage(options as never))).to.be.instanceOf(InvalidArgumentError);
    }
    // A type that would arrive as another (U+FFFD): a request's reply then matched no request.
    const badType = await rejection(m.request({ to, type: 'q\uDC00', message: {} }));
    expect(badType).to.be.instanceOf(InvalidArgumentError);
    expect(() => bob!.messaging.handle('q\uDC00', () => ({ message: {} }))).to.throw(
      InvalidArgumentError,
      /well-formed/,
    );
    const broadcastTo = await rejection(m.broadcastMessage({ to, type: 't', message: {} } as never));
    expect(broadcastTo).to.be.instanceOf(InvalidArgumentError);
    expect(broadcastTo.message).to.match(/takes no `to`/);
    const unreadable = {
      get boom(): number {
        throw new Error('getter failed');
      },
    };
    const getter = await rejection(m.sendMessage({ to, type: 't', message: unreadable }));
    expect(getter).to.be.instanceOf(InvalidArgumentError);
    expect(getter.message).to.match(/message could not be read: getter failed/);
    // Options of Room.connect that would otherwise be ignored, or refused later by the server.
    for (const [extra, pattern] of [
      [{ timeouts: { ackTimeoutMS: 5000 } }, /timeouts\.ackTimeoutMS is not an option; the options are .*ackTimeoutMs/],
      [{ receiveLimits: { bytesPerSecnd: 1 } }, /receiveLimits\.bytesPerSecnd is not an option/],
      [{ timeouts: 5 }, /timeouts must be an object/],
      [{ iceServer: [] }, /Room.connect: iceServer is not an option; the options are .*iceServers/],
      [{ name: 'n'.repeat(129) }, /name is 129 UTF-16 code units long \(its JavaScript length\); the most is 128/],
      [{ room: 'r'.repeat(200) }, /room is 200 UTF-16 code units long/],
      [{ name: '\u{1F600}'.repeat(65) }, /name is 130 UTF-16 code units long/],
      [{ name: 'n\uD800' }, /name has an unpaired surrogate/],
      [{ url: 'not a url' }, /url "not a url" is not a URL/],
      [{ url: 'ftp://127.0.0.1/' }, /must be http\(s\) or ws\(s\), not ftp:/],
      [{ timeouts: { signalingTimeoutMs: 3e9 } }, /timeouts\.signalingTimeoutMs must be from 1 to 2147483647/],
      [{ iceServers: [{}] }, /iceServers\[0\]\.urls must be a stun:/],
      [{ iceServers: [null] }, /iceServers\[0\] must be an object/],
      [{ iceServers: [{ urls: 'turn:127.0.0.1', credential: 5 }] }, /iceServers\[0\]\.credential must be a string/],
      [{ rtcConfig: 5 }, /rtcConfig must be an object/],
      [{ wrtc: {} }, /wrtc must be a WebRTC implementation/],
      [{ logger: { debug() {}, info() {}, warn() {} } }, /logger must have debug, info, warn and error/],
      [{ attributes: { s: '€'.repeat(6000) } }, /attributes are 18008 bytes as JSON; the largest is 16384/],
    ] as Array<[Record<string, unknown>, RegExp]>) {
      const refused = await rejection(h.join(server, 'm7', 'carol', extra));
      expect(refused, JSON.stringify(extra)).to.be.instanceOf(InvalidArgumentError);
      expect(refused.message).to.match(pattern);
    }
    // An option left undefined keeps its default, inside timeouts and receiveLimits as at the top level
    // (what an app without exactOptionalPropertyTypes, or in JavaScript, may pass).
    const undefinedOptions: Record<string, unknown> = {
      timeouts: { ackTimeoutMs: undefined },
      receiveLimits: { receiveBytesPerSecond: undefined },
    };
    const defaulted = await h.join(server, 'm7', 'dave', undefinedOptions);
    expect(defaulted.localParticipant.name).to.equal('dave');
    // JSON that cannot fit one frame: bulk data belongs in an attachment.
    const tooLarge = await rejection(m.sendMessage({ to, type: 't', message: { s: 'x'.repeat(MAX_FRAME_BYTES) } }));
    expect(tooLarge).to.be.instanceOf(MessagingError);
    expect((tooLarge as MessagingError).reason).to.equal('MessageTooLarge');
    expect(tooLarge.message).to.match(/send bulk data as an attachment/);
    const tooLargeB = await rejection(m.broadcastMessage({ type: 't', message: { s: 'x'.repeat(MAX_FRAME_BYTES) } }));
    expect((tooLargeB as MessagingError).reason).to.equal('MessageTooLarge');
    // The link still works and nothing bad was delivered.
    await m.sendMessage({ to, type: 'ok', message: {} });
    expect(received.map((r) => r.type)).to.deep.equal(['ok']);
  });

  it('an unknown or absent recipient rejects with ParticipantNotFound, unless ignoreOffline', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'm8', ['alice', 'bob']);
    const err = await rejection(alice!.messaging.sendMessage({ to: 'no-such-id', type: 't', message: {} }));
    expect(err).to.be.instanceOf(MessagingError);
    expect((err as MessagingError).reason).to.equal('ParticipantNotFound');
    expect((err as MessagingError).participantId).to.equal('no-such-id');
    await alice!.messaging.sendMessage({ to: 'no-such-id', type: 't', message: {}, ignoreOffline: true });
    const bobP = alice!.messaging.getParticipantByName('bob')!;
    await bob!.messaging.disable();
    await eventually(() => alice!.messaging.remoteParticipants.length === 0, 5000, 'bob gone');
    const gone = await rejection(alice!.messaging.sendMessage({ to: bobP, type: 't', message: {} }));
    expect((gone as MessagingError).reason).to.equal('ParticipantNotFound');
    await alice!.messaging.sendMessage({ to: bobP, type: 't', message: {}, ignoreOffline: true });
  });

  it('sending before enable() rejects with NotEnabled', async () => {
    const server = await h.server();
    const alice = await h.join(server, 'm9', 'alice');
    const err = await rejection(alice.messaging.sendMessage({ to: 'x', type: 't', message: {} }));
    expect((err as MessagingError).reason).to.equal('NotEnabled');
    const berr = await rejection(alice.messaging.broadcastMessage({ type: 't', message: {} }));
    expect((berr as MessagingError).reason).to.equal('NotEnabled');
    expect(() => alice.messaging.sendMessageNowait({ to: 'x', type: 't', message: {} })).to.throw(MessagingError);
  });

  it('works with another standards-shaped WebRTC implementation (@roamhq/wrtc) on one side', async function () {
    this.timeout(30_000);
    const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as WebRTCImplementation;
    const server = await h.server();
    const alice = await h.join(server, 'm10', 'alice', { wrtc });
    const bob = await h.join(server, 'm10', 'bob');
    await alice.messaging.enable();
    await bob.messaging.enable();
    await eventually(() => alice.messaging.remoteParticipants.length === 1, 10_000, 'alice sees bob');
    const atBob = nextEvent(bob.messaging, 'message');
    await alice.messaging.sendMessage({
      to: bob.localParticipant.id,
      type: 'x',
      message: { from: 'wrtc' },
      attachment: bytes(100_000, 3),
    });
    const [m] = await atBob;
    expect(Buffer.from(m.attachment!).equals(Buffer.from(bytes(100_000, 3)))).to.equal(true);
    const atAlice = nextEvent(alice.messaging, 'message');
    await bob.messaging.sendMessage({ to: alice.localParticipant.id, type: 'y', message: { from: 'ndc' } });
    expect((await atAlice)[0].message).to.deep.equal({ from: 'ndc' });
  });
});
