/**
 * A send that throws at once, not as a rejection (a session whose sizes changed since it was checked: a
 * peer's SDP announced a tiny channel, then its link fell back to the relay), fails alone: a broadcast goes
 * on to the other recipients, and a request's failure answer that cannot go either is logged, not left as an
 * unhandled rejection, which ends a Node process. Found by a review written as a hostile peer. The sessions
 * here stand in for real ones: what is tested is how these two functions treat a throw.
 */
import { expect } from 'chai';
import { MessagingError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/logger.js';
import { broadcast } from '../../lib/messaging/broadcast.js';
import type { Present } from '../../lib/messaging/Presence.js';
import { CallKind, MessageBody } from '../../lib/protocol/frames.js';
import type { RemoteParticipant } from '../../lib/RemoteParticipant.js';
import { handleCall } from '../../lib/requests/answering.js';
import { Requests } from '../../lib/requests/Requests.js';
import type { Session } from '../../lib/session/Session.js';

/** A ready session to `id` whose sends resolve, or throw MessageTooLarge at once. */
function session(id: string, throws: boolean): Session {
  return {
    cid: `cid-${id}`,
    isReady: true,
    participant: { id, name: id, joinedAtMs: 0 },
    peerLimits: { maxAttachmentBytes: 1024, maxFrameBytes: 262144 },
    link: { maxMessageBytes: undefined },
    check: () => {},
    sendMessage: () => {
      if (throws) throw MessagingError.tooLarge(600, 512, id);
      return Promise.resolve();
    },
    reportProtocolError: () => {},
  } as unknown as Session;
}

describe('a send that throws at once', () => {
  it('fails its broadcast recipient alone: the others are sent to, and the broadcast resolves', async () => {
    const recipients: Array<[string, Present]> = ['a', 'b', 'c'].map((id) => [
      id,
      { session: session(id, id === 'b'), participant: { id } as unknown as RemoteParticipant },
    ]);
    const result = await broadcast(recipients, new MessageBody('note', { text: 'x' }), {});
    expect(result.delivered).to.deep.equal(['a', 'c']);
    expect(result.failed).to.deep.equal(['b']);
    expect(result.errors.b?.reason).to.equal('MessageTooLarge');
  });

  it('a request whose answer and failure answer both cannot go is logged, not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', listener);
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_fields: unknown, message: string) => void warnings.push(message) };
    try {
      const requests = new Requests<(r: unknown) => unknown>();
      requests.handle('sum', () => ({ message: { sum: 3 } }));
      const from = { id: 'b' } as unknown as RemoteParticipant;
      const d = { seq: 1, type: 'sum', payload: {}, attachment: undefined };
      handleCall(
        requests,
        session('b', true),
        from,
        d,
        { kind: CallKind.Request, id: 1 },
        {
          logger,
          maxAttachmentBytes: 1024,
        },
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).to.deep.equal([]);
      expect(warnings).to.deep.equal(['a reply was not sent', 'a request was not answered']);
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});
