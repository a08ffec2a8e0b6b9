import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  CHUNK_FRAME_BYTES,
  InvalidArgumentError,
  MAX_CONCURRENT_TRANSFERS,
  MessagingError,
  Room,
  silentLogger,
  type IncomingAttachment,
  type ReceivedMessage,
  type SendProgress,
} from '../../lib/node.js';
import { CHUNK_OVERHEAD_BYTES, FrameKind, encodeFrame } from '../../lib/protocol/frames.js';
import { nextFromChild, startTransferChild, stopChild, type ChildParticipant } from '../support/child.js';
import { Harness, rejection, eventually, nextEvent, patterned } from '../support/harness.js';

const MiB = 1024 * 1024;

const same = (a: Uint8Array | undefined, b: Uint8Array): boolean =>
  a !== undefined &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** What a receiving room saw: messages, and progress/aborts by message id. */
function watch(room: Room): {
  messages: ReceivedMessage[];
  progress: IncomingAttachment[];
  aborted: Array<[IncomingAttachment, string]>;
} {
  const seen = {
    messages: [] as ReceivedMessage[],
    progress: [] as IncomingAttachment[],
    aborted: [] as Array<[IncomingAttachment, string]>,
  };
  room.messaging.on('message', (m) => seen.messages.push(m));
  room.messaging.on('attachment_progress', (p) => seen.progress.push({ ...p }));
  room.messaging.on('attachment_aborted', (p, reason) => seen.aborted.push([{ ...p }, reason]));
  return seen;
}

/** The largest attachment that still travels in one frame with this type, payload and a one-byte seq. */
function largestWhole(type: string, payload: { i: number }): number {
  const overhead = encodeFrame({
    kind: FrameKind.Message,
    seq: 1,
    type,
    payload,
    attachment: new Uint8Array(0),
  }).byteLength;
  let n = CHUNK_FRAME_BYTES - overhead - 5; // the byte string head grows from 1 to 5 bytes on the way
  while (
    encodeFrame({ kind: FrameKind.Message, seq: 1, type, payload, attachment: new Uint8Array(n + 1) }).byteLength <=
    CHUNK_FRAME_BYTES
  )
    n++;
  return n;
}

describe('attachments of any size', function () {
  this.timeout(60_000);
  const h = new Harness();
  const children: ChildParticipant[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => stopChild(c)));
    await h.close();
  });

  it('round-trip byte for byte at every boundary: 0 B, 1 B, one frame, one frame + 1, whole chunks, 10 MiB, 100 MiB', async () => {
    const server = await h.server();
    // The data channel's boundaries: on a relayed link chunks are cut smaller (to fit one relayed frame), so
    // the progress events counted below depend on the path; relay-first would race the move to direct.
    const [alice, bob] = await h.mesh(server, 'a1', ['alice', 'bob'], { paths: 'direct' });
    const seen = watch(bob!);
    const wholeMax = largestWhole('file', { i: 2 });
    const chunkBytes = CHUNK_FRAME_BYTES - CHUNK_OVERHEAD_BYTES;
    const sizes = [0, 1, wholeMax, wholeMax + 1, 2 * chunkBytes, 2 * chunkBytes + 1, 10 * MiB, 100 * MiB];
    for (const [i, size] of sizes.entries()) {
      const attachment = patterned(size, i + 1);
      await alice!.messaging.sendMessage({ to: bob!.localParticipant.id, type: 'file', message: { i }, attachment });
      // Resolved means acknowledged, and acknowledged means whole: the message is there already.
      const m = seen.messages[i]!;
      expect(m.message).to.deep.equal({ i });
      expect(m.attachment!.byteLength, `size ${size}`).to.equal(size);
      expect(same(m.attachment, attachment), `bytes of ${size}`).to.equal(true);
      // Only attachments larger than one frame go in chunks, and only those report progress.
      const progress = seen.progress.filter((p) => p.messageId === m.messageId);
      expect(progress.length > 0, `chunked ${size}`).to.equal(size > wholeMax);
      if (size > wholeMax) {
        expect(progress.length).to.equal(1 + Math.ceil(size / chunkBytes)); // the start, then every chunk
        expect(progress[0]!.receivedBytes).to.equal(0);
        expect(progress.at(-1)!.receivedBytes).to.equal(size);
        expect(
          progress.every(
            (p) => p.totalBytes === size && p.type === 'file' && p.fromParticipantId === alice!.localParticipant.id,
          ),
        ).to.equal(true);
      }
    }
  });

  it('a small message sent during a 100 MiB transfer arrives long before the attachment completes', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'a2', ['alice', 'bob']);
    const seen = watch(bob!);
    const to = bob!.localParticipant.id;
    const big = patterned(100 * MiB, 9);
    const order: string[] = [];
    const bigSend = alice!.messaging
      .sendMessage({ to, type: 'big', message: {}, attachment: big })
      .then(() => order.push('big acked'));
    await nextEvent(bob!.messaging, 'attachment_progress', 10_000, (p) => p.receivedBytes > 0);
    await alice!.messaging.sendMessage({ to, type: 'small', message: { text: 'hi' } });
    order.push('small acked');
    const small = seen.messages.find((m) => m.type === 'small');
    expect(small, 'small message delivered').to.not.equal(undefined);
    const bigProgress = seen.progress.filter((p) => p.type === 'big').at(-1)!;
    expect(bigProgress.receivedBytes, 'received of the big one when the small one was acknowledged').to.be.below(
      50 * MiB,
    );
    await bigSend;
    expect(order).to.deep.equal(['small acked', 'big acked']);
    expect(seen.messages.map((m) => m.type)).to.deep.equal(['small', 'big']);
    expect(same(seen.messages[1]!.attachment, big)).to.equal(true);
  });

  it('attachments sent at once share the channel: their chunks interleave, and later ones wait for a slot', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'a3', ['alice', 'bob']);
    const seen = watch(bob!);
    const to = bob!.localParticipant.id;
    const files = Array.from({ length: MAX_CONCURRENT_TRANSFERS + 2 }, (_, i) => patterned(4 * MiB, 20 + i));
    await Promise.all(
      files.map((attachment, i) => alice!.messaging.sendMessage({ to, type: `f${i}`, message: {}, attachment })),
    );
    // The first ones progressed side by side: f1 was under way before f0 was whole.
    const firstOfF1 = seen.progress.findIndex((p) => p.type === 'f1' && p.receivedBytes > 0);
    const lastOfF0 = seen.progress.map((p) => p.type).lastIndexOf('f0');
    expect(firstOfF1).to.be.within(0, lastOfF0);
    // The one beyond the limit started only once one of the first had completed.
    const startOfLast = seen.progress.findIndex((p) => p.type === `f${MAX_CONCURRENT_TRANSFERS}`);
    const firstDone = Math.min(
      ...[0, 1, 2, 3].map((i) =>
        seen.progress.findIndex((p) => p.type === `f${i}` && p.receivedBytes === p.totalBytes),
      ),
    );
    expect(startOfLast).to.be.above(firstDone);
    for (const [i, f] of files.entries())
      expect(same(seen.messages.find((m) => m.type === `f${i}`)?.attachment, f), `f${i}`).to.equal(true);
  });

  it('reports progress to the sender, and to a broadcaster summed over the recipients', async () => {
    const server = await h.server();
    const rooms = await h.mesh(server, 'a4', ['alice', 'bob', 'carol', 'dave']);
    const [alice, bob] = rooms;
    const attachment = patterned(5 * MiB, 4);
    const direct: SendProgress[] = [];
    await alice!.messaging.sendMessage({
      to: bob!.localParticipant.id,
      type: 'f',
      message: {},
      attachment,
      onProgress: (p) => direct.push(p),
    });
    expect(direct.length).to.be.above(10);
    expect(
      direct.every((p, i) => p.totalBytes === 5 * MiB && (i === 0 || p.sentBytes >= direct[i - 1]!.sentBytes)),
    ).to.equal(true);
    expect(direct.at(-1)).to.deep.equal({ sentBytes: 5 * MiB, totalBytes: 5 * MiB });
    const seen = rooms.slice(1).map((r) => watch(r));
    const summed: SendProgress[] = [];
    const result = await alice!.messaging.broadcastMessage({
      type: 'all',
      message: { name: 'f.bin' },
      attachment,
      onProgress: (p) => summed.push(p),
    });
    expect(result.failed).to.deep.equal([]);
    expect(result.delivered).to.have.length(3);
    expect(summed.at(-1)).to.deep.equal({ sentBytes: 15 * MiB, totalBytes: 15 * MiB });
    expect(summed.every((p, i) => i === 0 || p.sentBytes >= summed[i - 1]!.sentBytes)).to.equal(true);
    for (const s of seen) {
      expect(s.messages).to.have.length(1);
      expect(same(s.messages[0]!.attachment, attachment)).to.equal(true);
      expect(s.progress.at(-1)!.messageId).to.equal(s.messages[0]!.messageId);
      expect(s.progress[0]!.message).to.deep.equal({ name: 'f.bin' }); // known from the start, for a progress bar's label
    }
  });

  it("refuses at the call an attachment above the sender's limit or the recipient's, before anything is sent", async () => {
    const server = await h.server();
    const alice = await h.join(server, 'a5', 'alice', { maxAttachmentBytes: 1 * MiB });
    const bob = await h.join(server, 'a5', 'bob', { maxAttachmentBytes: 100_000 });
    const carol = await h.join(server, 'a5', 'carol');
    for (const r of [alice, bob, carol]) await r.messaging.enable();
    await eventually(() => alice.messaging.remoteParticipants.length === 2, 10_000, 'alice sees both');
    const atBob = watch(bob);
    const atCarol = watch(carol);
    const to = bob.localParticipant.id;
    const own = await rejection(
      alice.messaging.sendMessage({ to, type: 'f', message: {}, attachment: new Uint8Array(1 * MiB + 1) }),
    );
    expect((own as MessagingError).reason).to.equal('MessageTooLarge');
    expect(own.message).to.equal(`attachment is ${MiB + 1} bytes; maxAttachmentBytes is ${MiB}`);
    const theirs = await rejection(
      alice.messaging.sendMessage({ to, type: 'f', message: {}, attachment: new Uint8Array(100_001) }),
    );
    expect((theirs as MessagingError).reason).to.equal('MessageTooLarge');
    expect(theirs.message).to.equal(`attachment is 100001 bytes; participant ${to} accepts at most 100000`);
    expect((theirs as MessagingError).participantId).to.equal(to);
    // Exactly at the limit is fine.
    await alice.messaging.sendMessage({ to, type: 'ok', message: {}, attachment: patterned(100_000, 3) });
    expect(atBob.messages.map((m) => m.type)).to.deep.equal(['ok']);
    expect(atBob.progress.every((p) => p.type === 'ok')).to.equal(true);
    expect(atCarol.messages).to.have.length(0);
    // Above the sender's own limit, a broadcast is refused whole.
    const all = await rejection(
      alice.messaging.broadcastMessage({ type: 'f', message: {}, attachment: new Uint8Array(1 * MiB + 1) }),
    );
    expect((all as MessagingError).reason).to.equal('MessageTooLarge');
    expect(atCarol.messages).to.have.length(0);
  });

  it('a broadcast reaches those who can take it; a recipient that accepts no attachments fails alone', async () => {
    const server = await h.server();
    const alice = await h.join(server, 'a5b', 'alice');
    const none = await h.join(server, 'a5b', 'none', { maxAttachmentBytes: 0 });
    const carol = await h.join(server, 'a5b', 'carol');
    for (const r of [alice, none, carol]) await r.messaging.enable();
    await eventually(() => alice.messaging.remoteParticipants.length === 2, 10_000, 'alice sees both');
    const atNone = watch(none);
    const atCarol = watch(carol);
    const noneId = none.localParticipant.id;
    const attachment = patterned(200_000, 4);
    const result = await alice.messaging.broadcastMessage({ type: 'f', message: { name: 'f.bin' }, attachment });
    expect(result.delivered).to.deep.equal([carol.localParticipant.id]);
    expect(result.failed).to.deep.equal([noneId]);
    const err = result.errors[noneId]!;
    expect(err).to.be.instanceOf(MessagingError);
    expect(err.reason).to.equal('MessageTooLarge');
    expect(err.participantId).to.equal(noneId);
    expect(err.message).to.equal(`attachment is 200000 bytes; participant ${noneId} accepts at most 0`);
    expect(atCarol.messages).to.have.length(1);
    expect(same(atCarol.messages[0]!.attachment, attachment)).to.equal(true);
    // Without an attachment it reaches both.
    const plain = await alice.messaging.broadcastMessage({ type: 'hi', message: {} });
    expect(plain.delivered.sort()).to.deep.equal([noneId, carol.localParticipant.id].sort());
    expect(atNone.messages.map((m) => m.type)).to.deep.equal(['hi']);
  });

  it('aborting a send stops it: the sender rejects with Aborted, the receiver is told and frees it, the link goes on', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'a6', ['alice', 'bob']);
    const seen = watch(bob!);
    const to = bob!.localParticipant.id;
    // Aborted mid-transfer.
    const controller = new AbortController();
    const send = rejection(
      alice!.messaging.sendMessage({
        to,
        type: 'big',
        message: {},
        attachment: patterned(100 * MiB, 5),
        signal: controller.signal,
      }),
    );
    await nextEvent(bob!.messaging, 'attachment_progress', 10_000, (p) => p.receivedBytes > 2 * MiB);
    controller.abort();
    const err = await send;
    expect((err as MessagingError).reason).to.equal('Aborted');
    const [aborted, reason] = await nextEvent(bob!.messaging, 'attachment_aborted', 5000);
    expect(aborted.type).to.equal('big');
    expect(aborted.receivedBytes).to.be.below(100 * MiB);
    expect(reason).to.equal('Cancelled');
    // Already aborted: refused at once, nothing sent.
    const pre = await rejection(
      alice!.messaging.sendMessage({ to, type: 'never', message: {}, signal: AbortSignal.abort() }),
    );
    expect((pre as MessagingError).reason).to.equal('Aborted');
    // Aborted while waiting for a transfer slot: it never leaves, and what follows it still arrives.
    const slow = new AbortController();
    const busy = Array.from({ length: MAX_CONCURRENT_TRANSFERS }, (_, i) =>
      alice!.messaging.sendMessage({ to, type: `busy${i}`, message: {}, attachment: patterned(4 * MiB, i) }),
    );
    const waiting = rejection(
      alice!.messaging.sendMessage({
        to,
        type: 'waiting',
        message: {},
        attachment: patterned(4 * MiB, 9),
        signal: slow.signal,
      }),
    );
    const after = alice!.messaging.sendMessage({ to, type: 'after', message: {} });
    slow.abort();
    expect(((await waiting) as MessagingError).reason).to.equal('Aborted');
    await Promise.all([...busy, after]);
    const types = seen.messages.map((m) => m.type);
    expect(types).to.include.members(['busy0', 'busy1', 'busy2', 'busy3', 'after']);
    expect(types).to.not.include.members(['big', 'never', 'waiting']);
    expect(seen.progress.some((p) => p.type === 'waiting')).to.equal(false);
    expect(bob!.messaging.getParticipant(alice!.localParticipant.id)).to.not.equal(undefined);
  });

  it('a sender leaving mid-transfer: the receiver is told and frees the bytes; the send rejects with ParticipantLeft', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'a7', ['alice', 'bob']);
    // Large enough that the rest cannot arrive during disconnect()'s one-second drain, even at the
    // ~100 MiB/s node-datachannel reaches on loopback (100 MiB sometimes did, and the send resolved).
    const send = rejection(
      alice!.messaging.sendMessage({
        to: bob!.localParticipant.id,
        type: 'big',
        message: {},
        attachment: patterned(250 * MiB, 6),
      }),
    );
    await nextEvent(bob!.messaging, 'attachment_progress', 10_000, (p) => p.receivedBytes > 1 * MiB);
    const aborted = nextEvent(bob!.messaging, 'attachment_aborted', 5000);
    const removed = nextEvent(bob!.messaging, 'participant_removed', 5000);
    await alice!.disconnect();
    expect(((await send) as MessagingError).reason).to.equal('ParticipantLeft');
    const [p, reason] = await aborted;
    expect(p.type).to.equal('big');
    expect(reason).to.equal('ParticipantLeft');
    await removed;
  });

  it('a receiver killed mid-transfer (SIGKILL) rejects the send with ParticipantLeft', async () => {
    const server = await h.server();
    // Allocated before joining: touching 200 MiB of fresh memory stalls the event loop for a moment.
    const attachment = patterned(200 * MiB, 7);
    const alice = await h.join(server, 'a8', 'alice', {
      timeouts: { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 3000 },
    });
    await alice.messaging.enable();
    const victim = await startTransferChild(server.url, 'a8', 'victim');
    children.push(victim);
    await eventually(() => alice.messaging.getParticipant(victim.id) !== undefined, 10_000, 'alice sees the victim');
    let killed = false;
    const err = await rejection(
      alice.messaging.sendMessage({
        to: victim.id,
        type: 'big',
        message: {},
        attachment,
        onProgress: ({ sentBytes }) => {
          if (!killed && sentBytes > 5 * MiB) {
            killed = true;
            victim.proc.kill('SIGKILL');
          }
        },
      }),
    );
    expect(killed).to.equal(true);
    expect((err as MessagingError).reason).to.equal('ParticipantLeft');
  });

  it("the sender's memory stays bounded while it pushes 1 GiB to a slow peer", async function () {
    this.timeout(180_000);
    const server = await h.server();
    // This test is about memory, not failure detection: a generous heartbeat keeps a loaded machine's
    // pauses from being taken for a dead peer.
    const heartbeatTimeoutMs = 20_000;
    const receiver = await startTransferChild(server.url, 'a9', 'receiver', { heartbeatTimeoutMs });
    children.push(receiver);
    const size = 1024 * MiB;
    const sender = await startTransferChild(server.url, 'a9', 'sender', {
      attachment: { bytes: size, seed: 11 },
      heartbeatTimeoutMs,
    });
    children.push(sender);
    const received = nextFromChild<{ bytes: number; sha256: string }>(receiver, 'received', 170_000);
    const sent = nextFromChild<{ ok: boolean; error?: string; peakRssBytes: number; baseRssBytes: number }>(
      sender,
      'sent',
      170_000,
    );
    sender.proc.send({ send: { to: receiver.id } });
    // A slow peer: the receiver is frozen for 1 s out of every 2 while the bytes flow.
    let done = false;
    void sent.finally(() => (done = true));
    const freezer = (async () => {
      while (!done) {
        await new Promise((r) => setTimeout(r, 1000));
        if (done) break;
        receiver.proc.kill('SIGSTOP');
        await new Promise((r) => setTimeout(r, 1000));
        receiver.proc.kill('SIGCONT');
      }
    })();
    const result = await sent;
    await freezer;
    expect(result.ok, result.error).to.equal(true);
    const got = await received;
    expect(got.bytes).to.equal(size);
    expect(got.sha256).to.equal(patternedSha256(size, 11));
    const growthMiB = (result.peakRssBytes - result.baseRssBytes) / MiB;
    expect(growthMiB, 'sender RSS growth beyond the attachment itself, MiB').to.be.below(96);
  });

  it('checks the new options at the call', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'a10', ['alice', 'bob']);
    const to = bob!.localParticipant.id;
    for (const bad of [{ onProgress: 'yes' }, { signal: {} }, { signal: 'stop' }]) {
      const err = await rejection(alice!.messaging.sendMessage({ to, type: 't', message: {}, ...bad } as never));
      expect(err, JSON.stringify(bad)).to.be.instanceOf(InvalidArgumentError);
      expect(
        await rejection(alice!.messaging.broadcastMessage({ type: 't', message: {}, ...bad } as never)),
      ).to.be.instanceOf(InvalidArgumentError);
    }
    for (const maxAttachmentBytes of [-1, 1.5, 2 ** 32, Number.NaN, '1' as unknown as number]) {
      const err = await rejection(
        Room.connect({ url: server.url, room: 'a10', name: 'x', logger: silentLogger, maxAttachmentBytes }),
      );
      expect(err, String(maxAttachmentBytes)).to.be.instanceOf(InvalidArgumentError);
      expect(err.message).to.match(/maxAttachmentBytes must be an integer from 0 to 4294967295/);
    }
  });
});

/** SHA-256 of `patterned(n, seed)`, without allocating n bytes. */
function patternedSha256(n: number, seed: number): string {
  const block = patterned(Math.min(n, 65_537), seed);
  const hash = createHash('sha256');
  let left = n;
  while (left >= block.byteLength) {
    hash.update(block);
    left -= block.byteLength;
  }
  hash.update(block.subarray(0, left));
  return hash.digest('hex');
}
