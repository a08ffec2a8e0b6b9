/** `roommesh request`: one request, its reply printed, its failures mapped to the command's exit codes. */
import type { JsonObject, MessagingClient, RequestReply } from '../lib/node.js';

/** What `roommesh request` asks. */
export interface RequestOptions {
  to: string;
  type: string;
  message: JsonObject;
  attachment?: Uint8Array;
  timeoutMs?: number;
}

/** Sends a request and waits for its reply (a `RequestError` or `MessagingError` when it fails). */
export function sendRequest(messaging: MessagingClient, options: RequestOptions): Promise<RequestReply> {
  return messaging.request(options);
}
