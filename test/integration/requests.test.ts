/**
 * Request and reply between participants in separate processes: attachments both ways, and every way a
 * request can fail (no handler, handler threw, timeout, busy, the peer killed mid-request, abort).
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { MAX_REQUESTS_IN_HAND_PER_PEER, MessagingError, RequestError } from '../../lib/node.js';
import type { Room } from '../../lib/node.js';
import { nextFromChild, startRpcChild, stopChild, type ChildParticipant } from '../support/child.js';
import { Harness, patterned, rejection } from '../support/harness.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('request and reply (the answering participant in its own process)', function () {
  this.timeout(30_000);
  const h = new Harness();
  let child: ChildParticipant | undefined;
  let asker: Room;

  beforeEach(async function () {
    const server = await h.server();
    const room = `rpc-${this.currentTest?.title.length ?? 0}-${Date.now()}`;
    child = await startRpcChild(server.url, room, 'answerer');
    asker = await h.join(server, room, 'asker');
    await asker.messaging.enable();
  });
  afterEach(async () => {
    await stopChild(child);
    child = undefined;
    await h.close();
  });

  it('carries an attachment in both directions, chunked, with progress, checked by SHA-256', async () => {
    const sent = patterned(300 * 1024 + 7, 5); // more than one 64 KiB frame: start + chunks, both ways
    const progress: number[] = [];
    const reply = await asker.messaging.request({
      to: child!.id,
      type: 'digest',
      message: { note: 'hash this' },
      attachment: sent,
      onProgress: ({ sentBytes }) => progress.push(sentBytes),
    });
    expect(reply.from.name).to.equal('answerer');
    expect(reply.message).to.deep.equal({ sha256: sha256(sent), bytes: sent.byteLength });
    expect(reply.attachment).to.be.instanceOf(Uint8Array);
    expect(sha256(reply.attachment!)).to.equal(sha256(sent.slice().reverse()));
    expect(progress.at(-1)).to.equal(sent.byteLength);
    // Many at once, each reply to its own request.
    const many = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) =>
        asker.messaging.request({ to: child!.id, type: 'digest', message: {}, attachment: patterned(n * 1000, n) }),
      ),
    );
    expect(many.map((r) => r.message.sha256)).to.deep.equal(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => sha256(patterned(n * 1000, n))),
    );
  });

  it('rejects with NoHandler for a type the peer does not handle', async () => {
    const err = await rejection(asker.messaging.request({ to: child!.id, type: 'nobody', message: {} }));
    expect(err).to.be.instanceOf(RequestError);
    expect(err).to.be.instanceOf(MessagingError);
    expect((err as RequestError).reason).to.equal('NoHandler');
    expect((err as RequestError).requestType).to.equal('nobody');
  });

  it("rejects with HandlerFailed carrying the handler's message, never its stack", async () => {
    const err = (await rejection(
      asker.messaging.request({ to: child!.id, type: 'fail', message: { text: 'the disk is full' } }),
    )) as RequestError;
    expect(err).to.be.instanceOf(RequestError);
    expect(err.reason).to.equal('HandlerFailed');
    expect(err.handlerMessage).to.equal('the disk is full');
    expect(err.message)
      .to.include('the disk is full')
      .and.not.include('rpc-participant')
      .and.not.match(/\n\s+at /);
    const long = (await rejection(
      asker.messaging.request({ to: child!.id, type: 'fail', message: { text: 'x'.repeat(5000) } }),
    )) as RequestError;
    expect(long.handlerMessage!.length).to.equal(1024);
  });

  it('rejects with Timeout after timeoutMs; the link stays, and a late reply is not taken for another', async () => {
    const t0 = Date.now();
    const err = (await rejection(
      asker.messaging.request({ to: child!.id, type: 'hang', message: {}, timeoutMs: 300 }),
    )) as RequestError;
    expect(err.reason).to.equal('Timeout');
    expect(Date.now() - t0).to.be.within(250, 2000);
    const ok = await asker.messaging.request({ to: child!.id, type: 'digest', message: {} });
    expect(ok.message.bytes).to.equal(0);
  });

  it(`answers Busy beyond ${MAX_REQUESTS_IN_HAND_PER_PEER} requests in hand from one peer`, async () => {
    const held = Array.from({ length: MAX_REQUESTS_IN_HAND_PER_PEER }, () =>
      asker.messaging
        .request({ to: child!.id, type: 'hang', message: {}, timeoutMs: Infinity })
        .catch((e: unknown) => e),
    );
    const err = (await rejection(
      asker.messaging.request({ to: child!.id, type: 'hang', message: {} }),
    )) as RequestError;
    expect(err.reason).to.equal('Busy');
    void held;
  });

  it('rejects with ParticipantLeft when the peer process is killed mid-request', async () => {
    const hanging = nextFromChild<number>(child!, 'hanging', 10_000);
    const pending = rejection(
      asker.messaging.request({ to: child!.id, type: 'hang', message: {}, timeoutMs: Infinity }),
    );
    expect(await hanging).to.equal(1);
    child!.proc.kill('SIGKILL');
    const err = (await pending) as RequestError;
    expect(err).to.be.instanceOf(RequestError);
    expect(err.reason).to.equal('ParticipantLeft');
  });

  it('rejects with Aborted when its signal fires, before or after the request left', async () => {
    const early = new AbortController();
    early.abort();
    const before = await rejection(
      asker.messaging.request({ to: child!.id, type: 'digest', message: {}, signal: early.signal }),
    );
    expect((before as MessagingError).reason).to.equal('Aborted');

    const late = new AbortController();
    const hanging = nextFromChild<number>(child!, 'hanging', 10_000);
    const pending = rejection(
      asker.messaging.request({ to: child!.id, type: 'hang', message: {}, signal: late.signal }),
    );
    await hanging;
    late.abort();
    expect(((await pending) as MessagingError).reason).to.equal('Aborted');
  });

  it('refuses bad arguments at the call: an unknown participant, a bad timeout', async () => {
    const missing = await rejection(asker.messaging.request({ to: 'nobody', type: 'digest', message: {} }));
    expect((missing as MessagingError).reason).to.equal('ParticipantNotFound');
    const bad = await rejection(asker.messaging.request({ to: child!.id, type: 'digest', message: {}, timeoutMs: 0 }));
    expect((bad as MessagingError).reason).to.equal('InvalidArgument');
    expect(() => asker.messaging.handle('x', () => ({ message: {} }))).to.not.throw();
    expect(() => asker.messaging.handle('x', () => ({ message: {} }))).to.throw(/already has a handler/);
  });
});
