/**
 * `roommesh request`, apart from the rest: messaging.request() is being added to the library on another
 * branch. This types against the expected API through a local minimal interface and checks at run time
 * that the method is there; once the library has it, the interface can be replaced by the library's types.
 */
import type { JsonObject, MessagingClient } from '../lib/node.js';

/** The options messaging.request() is expected to take. */
export interface RequestOptions {
  to: string;
  type: string;
  message: JsonObject;
  attachment?: Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What messaging.request() is expected to resolve with. */
export interface RequestReply {
  message: JsonObject;
  attachment: Uint8Array | undefined;
  from: { id: string; name: string };
}

/** The reasons a request is expected to reject with (as `err.reason`), besides those of a send. */
export const REQUEST_FAILURE_REASONS = Object.freeze(['NoHandler', 'HandlerFailed', 'Timeout', 'ParticipantLeft']);

/** The part of the messaging client `request` needs. */
interface Requester {
  request(options: RequestOptions): Promise<RequestReply>;
}

/** This library version has no messaging.request(). */
export class RequestNotSupportedError extends Error {
  override name = 'RequestNotSupportedError';
  /** Always 'NotSupported'. */
  readonly reason = 'NotSupported';
  constructor() {
    super('request is not supported by this library version (room.messaging.request() is missing)');
  }
}

/** Sends a request and waits for its reply; throws {@link RequestNotSupportedError} without the API. */
export function sendRequest(messaging: MessagingClient, options: RequestOptions): Promise<RequestReply> {
  const candidate = (messaging as unknown as Partial<Requester>).request;
  if (typeof candidate !== 'function') return Promise.reject(new RequestNotSupportedError());
  return candidate.call(messaging, options);
}
