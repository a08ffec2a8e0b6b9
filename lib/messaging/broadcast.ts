/** One message to every present participant: who may take it, progress summed over all, and who received it. */
import { MessagingError } from '../errors.js';
import type { MessageBody } from '../protocol/frames.js';
import type { Session } from '../session/Session.js';
import type { BroadcastMessageOptions, BroadcastResult } from '../types.js';
import type { Present } from './Presence.js';

/**
 * Sends `body` (encoded once; each session only puts its seq in front) to each ready session of `recipients`,
 * and resolves, once each has acknowledged or left, with who received it. Rejects with `Aborted` when `signal` aborted a send.
 * @internal
 */
export async function broadcast(
  recipients: Iterable<[string, Present]>,
  body: MessageBody,
  { attachment, onProgress, signal }: Pick<BroadcastMessageOptions, 'attachment' | 'onProgress' | 'signal'>,
): Promise<BroadcastResult> {
  const result: BroadcastResult = { delivered: [], failed: [], errors: {} };
  // A recipient whose announced limits cannot take it fails alone (one participant announcing tiny limits
  // must not veto the broadcast for everyone). Recipients with limits already found fine share that check.
  const fine = new Set<string>();
  const targets: Session[] = [];
  for (const [id, { session: s }] of recipients) {
    if (!s.isReady) continue;
    const limits = s.peerLimits;
    const key = `${limits?.maxAttachmentBytes}/${limits?.maxFrameBytes}/${s.link.maxMessageBytes}`;
    const err = fine.has(key) ? undefined : checkSession(s, body, attachment);
    if (err === undefined) {
      fine.add(key);
      targets.push(s);
    } else {
      result.failed.push(id);
      result.errors[id] = err;
    }
  }
  let report: ((i: number) => (sentBytes: number) => void) | undefined;
  if (onProgress !== undefined && attachment !== undefined) {
    const sent = targets.map(() => 0);
    let sum = 0;
    const totalBytes = attachment.byteLength * targets.length;
    report = (i) => (sentBytes) => {
      sum += sentBytes - (sent[i] as number);
      sent[i] = sentBytes;
      onProgress({ sentBytes: sum, totalBytes });
    };
  }
  // A send that throws (a session whose sizes changed since its check) fails its recipient alone; the others
  // are still sent to, and every promise is awaited (found by a review: the throw skipped the rest, and the
  // sends already made were left with no handler, so one of them failing ended a Node process).
  const sends = targets.map((s, i) => {
    try {
      return s.sendMessage(body, attachment, true, report?.(i), signal);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
  const settled = await Promise.allSettled(sends);
  if (settled.some((s) => s.status === 'rejected' && (s.reason as MessagingError).reason === 'Aborted'))
    throw MessagingError.aborted();
  settled.forEach((s, i) => {
    const id = (targets[i] as Session).participant.id;
    if (s.status === 'fulfilled') {
      result.delivered.push(id);
    } else {
      result.failed.push(id);
      result.errors[id] = s.reason as MessagingError;
    }
  });
  return result;
}

/** The error {@link Session.check} throws for this message on this session's link, if any. */
function checkSession(s: Session, body: MessageBody, attachment: Uint8Array | undefined): MessagingError | undefined {
  try {
    s.check(body, attachment);
    return undefined;
  } catch (err) {
    if (err instanceof MessagingError) return err;
    throw err;
  }
}
