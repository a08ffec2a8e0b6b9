/**
 * The answering side of request/reply on one session: a request arriving runs its handler and its answer
 * goes back; a reply arriving settles the request it answers. The bookkeeping is {@link Requests}'.
 */
import { MessagingError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type Call, CallKind, MessageBody } from '../protocol/frames.js';
import type { RemoteParticipant } from '../RemoteParticipant.js';
import type { Delivery } from '../session/Inbox.js';
import type { Session } from '../session/Session.js';
import type { IncomingRequest } from '../types.js';
import { type Answer, type Requests, runHandler, truncate } from './Requests.js';

/** A request handler as the bookkeeping holds it, whatever its app-declared types. @internal */
export type AnyHandler = (request: IncomingRequest) => unknown;

/** A request arrived (run its handler, answer) or a reply did (settle its request). @internal */
export function handleCall(
  requests: Requests<AnyHandler>,
  session: Session,
  from: RemoteParticipant,
  d: Delivery,
  call: Call,
  limits: { logger: Logger; maxAttachmentBytes: number },
): void {
  const { logger } = limits;
  const { cid } = session;
  if (call.kind !== CallKind.Request) {
    const result = requests.reply(cid, d.type, call, d.payload, d.attachment);
    if (result.kind === 'violation') session.reportProtocolError(result.detail);
    return;
  }
  const admission = requests.admit(from.id, d.type);
  if (admission.kind === 'refuse') {
    answer(session, d.type, call.id, { kind: 'failure', reason: admission.reason, text: '' }, limits);
    return;
  }
  const request: IncomingRequest = {
    from,
    fromParticipantId: from.id,
    type: d.type,
    message: d.payload,
    attachment: d.attachment,
  };
  void runHandler(() => admission.handler(request)).then((result) => {
    admission.done();
    if (result.kind === 'failure')
      logger.warn({ participant: from.id, type: d.type, detail: result.text }, 'a request handler failed');
    answer(session, d.type, call.id, result, limits);
  });
}

/**
 * Sends the answer to request `id`, unless the asker is gone; a reply that cannot go (too large for the asker,
 * or an attachment above this side's own `maxAttachmentBytes`, as for any send) becomes `HandlerFailed`.
 */
function answer(
  session: Session,
  type: string,
  id: number,
  result: Answer,
  { logger, maxAttachmentBytes }: { logger: Logger; maxAttachmentBytes: number },
): void {
  if (!session.isReady) return;
  if (result.kind === 'reply') {
    try {
      const bytes = result.attachment?.byteLength ?? 0;
      if (bytes > maxAttachmentBytes) throw MessagingError.attachmentTooLarge(bytes, maxAttachmentBytes);
      const body = new MessageBody(type, result.payload, { kind: CallKind.Reply, id });
      session.sendMessage(body, result.attachment, false);
      return;
    } catch (err) {
      const text = `the reply cannot be sent: ${err instanceof Error ? err.message : String(err)}`;
      logger.warn({ participant: session.participant.id, type, detail: text }, 'a reply was not sent');
      result = { kind: 'failure', reason: 'HandlerFailed', text: truncate(text) };
    }
  }
  const failure: Call = { kind: CallKind.Failure, id, reason: result.reason, text: result.text };
  try {
    session.sendMessage(new MessageBody(type, {}, failure), undefined, false);
  } catch (err) {
    // Not even the failure fits what the asker takes: it times out. This runs in a promise's callback,
    // where a throw would be an unhandled rejection (found by a review).
    const detail = `the failure answer cannot be sent either: ${err instanceof Error ? err.message : String(err)}`;
    logger.warn({ participant: session.participant.id, type, detail }, 'a request was not answered');
  }
}
