/** What a present participant's session delivers, as the events of `room.messaging` (requests to their answering). */
import type { MessagingEvents } from '../events.js';
import type { Logger } from '../logger.js';
import type { RemoteParticipant } from '../RemoteParticipant.js';
import { type AnyHandler, handleCall } from '../requests/answering.js';
import type { Requests } from '../requests/Requests.js';
import type { IncomingTransfer } from '../session/Inbox.js';
import type { Session } from '../session/Session.js';
import type { IncomingAttachment, MessageMapOf, ReceivedMessage } from '../types.js';
import type { Emit } from '../util/TypedEmitter.js';

/** What {@link hearMessages} passes things on to. @internal */
export interface IncomingDeps<M extends MessageMapOf<M>> {
  /** Emits an event of `room.messaging`. */
  emit: Emit<MessagingEvents<M>>;
  /** The request bookkeeping: requests and replies go there, not to `message`. */
  requests: Requests<AnyHandler>;
  logger: Logger;
  /** This side's `maxAttachmentBytes`: a handler's reply carries no larger attachment, as no send does. */
  maxAttachmentBytes: number;
}

/** Turns what `session` delivers from `participant` into `message`, `attachment_progress` and `attachment_aborted`. @internal */
export function hearMessages<M extends MessageMapOf<M>>(
  session: Session,
  participant: RemoteParticipant,
  deps: IncomingDeps<M>,
): void {
  const { cid } = session;
  session.on('message', (d) => {
    if (d.call !== undefined) {
      handleCall(deps.requests, session, participant, d, d.call, deps);
      return;
    }
    deps.emit('message', {
      messageId: `${cid}:${d.seq}`,
      from: participant,
      fromParticipantId: participant.id,
      type: d.type,
      message: d.payload,
      attachment: d.attachment,
    } as ReceivedMessage<M>);
  });
  const incoming = (t: IncomingTransfer): IncomingAttachment<M> =>
    ({
      messageId: `${cid}:${t.seq}`,
      from: participant,
      fromParticipantId: participant.id,
      type: t.type,
      message: t.payload,
      receivedBytes: t.receivedBytes,
      totalBytes: t.totalBytes,
    }) as IncomingAttachment<M>;
  // A request's or reply's attachment is its handler's or caller's business, not a message's.
  session.on('progress', (t) => {
    if (t.call === undefined) deps.emit('attachment_progress', incoming(t));
  });
  session.on('aborted', (t, reason) => {
    if (t.call === undefined) deps.emit('attachment_aborted', incoming(t), reason);
  });
}
