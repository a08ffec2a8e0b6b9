/** Argument checks of the messaging API: a bad argument is an {@link InvalidArgumentError}, and nothing is sent. */
import { InvalidArgumentError, MessagingError } from './errors.js';
import { MAX_TYPE_LENGTH } from './protocol/frames.js';
import { checkJsonObject, isWellFormedText } from './protocol/json.js';
import { RemoteParticipant } from './RemoteParticipant.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './requests/Requests.js';
import type { BroadcastMessageOptions, RequestOptions, SendMessageOptions } from './types.js';
import { isDetached } from './util/bytes.js';
import { MAX_TIMER_MS } from './util/schedule.js';

/** Checks the fields a send and a broadcast share; returns them without any other property. */
export function checkMessageFields(
  options: BroadcastMessageOptions,
  what: string,
  maxAttachmentBytes: number,
): BroadcastMessageOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError(`${what}: expected an options object`);
  let type: unknown;
  let message: BroadcastMessageOptions['message'];
  let attachment: BroadcastMessageOptions['attachment'];
  let onProgress: BroadcastMessageOptions['onProgress'];
  let signal: BroadcastMessageOptions['signal'];
  try {
    // A getter (or a proxy) that throws: the options cannot be read.
    ({ type, message, attachment, onProgress, signal } = options);
  } catch (err) {
    throw new InvalidArgumentError(`${what}: the options cannot be read (${String(err).slice(0, 200)})`);
  }
  checkType(type, what);
  const problem = checkJsonObject(message, 'message');
  if (problem !== undefined) throw new InvalidArgumentError(`${what}: ${problem}`);
  if (attachment !== undefined && !(attachment instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what}: attachment must be a Uint8Array`);
  }
  if (attachment !== undefined && isDetached(attachment)) {
    throw new InvalidArgumentError(`${what}: attachment's buffer was transferred (detached): it has no bytes left`);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function')
    throw new InvalidArgumentError(`${what}: onProgress must be a function`);
  if (signal !== undefined && !isAbortSignal(signal))
    throw new InvalidArgumentError(`${what}: signal must be an AbortSignal`);
  if (attachment !== undefined && attachment.byteLength > maxAttachmentBytes) {
    throw MessagingError.attachmentTooLarge(attachment.byteLength, maxAttachmentBytes);
  }
  const out: BroadcastMessageOptions = { type, message };
  if (attachment !== undefined) out.attachment = attachment;
  if (onProgress !== undefined) out.onProgress = onProgress;
  if (signal !== undefined) out.signal = signal;
  return out;
}

/**
 * Checks a message type: a non-empty string of at most {@link MAX_TYPE_LENGTH} characters, well-formed
 * Unicode (an unpaired surrogate arrives as U+FFFD: another type, and a request's reply then matched none).
 */
function checkType(type: unknown, what: string): asserts type is string {
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH)
    throw new InvalidArgumentError(`${what}: type must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters`);
  if (!isWellFormedText(type))
    throw new InvalidArgumentError(`${what}: type is not well-formed Unicode (unpaired surrogate)`);
}

function isAbortSignal(v: unknown): v is AbortSignal {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as AbortSignal).aborted === 'boolean' &&
    typeof (v as AbortSignal).addEventListener === 'function'
  );
}

/** A send's checked fields, with its recipient's id and, when it was named by object, that object. */
export type CheckedSend = BroadcastMessageOptions & { id: string; participant: RemoteParticipant | undefined };

/** Checks a send's options, and resolves its recipient to an id. */
export function checkSendOptions(options: SendMessageOptions, what: string, maxAttachmentBytes: number): CheckedSend {
  const fields = checkMessageFields(options, what, maxAttachmentBytes) as CheckedSend;
  const to = options.to;
  const participant = to instanceof RemoteParticipant ? to : undefined;
  const id = participant === undefined ? to : participant.id;
  if (typeof id !== 'string' || id.length === 0)
    throw new InvalidArgumentError(`${what}: to must be a RemoteParticipant or a participant id`);
  if (options.ignoreOffline !== undefined && typeof options.ignoreOffline !== 'boolean') {
    throw new InvalidArgumentError(`${what}: ignoreOffline must be a boolean`);
  }
  fields.id = id;
  fields.participant = participant;
  return fields;
}

/** Checks a request's options: those of a send, and `timeoutMs` (a positive number of ms, or Infinity). */
export function checkRequestOptions(
  options: RequestOptions,
  maxAttachmentBytes: number,
): CheckedSend & { timeoutMs: number } {
  const fields = checkSendOptions(options, 'request', maxAttachmentBytes) as ReturnType<typeof checkRequestOptions>;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Timers take at most 2^31 - 1 ms; a longer one fires at once.
  const ok = timeoutMs === Infinity || (typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS);
  if (!ok)
    throw new InvalidArgumentError(`request: timeoutMs must be from 1 to ${MAX_TIMER_MS} milliseconds, or Infinity`);
  // Added, not spread into a copy: V8 gives every `{ ...fields, timeoutMs }` a hidden class of its own, in the
  // old generation, with a young descriptor array that scavenges then keep (README, "The latency tail").
  fields.timeoutMs = timeoutMs;
  return fields;
}
