/** The public shapes of messaging: what a send takes, what a broadcast returns, what arrives. */
import type { MessagingError } from './errors.js';
import type { JsonObject } from './protocol/json.js';
import type { RemoteParticipant } from './RemoteParticipant.js';

/** Options of {@link MessagingClient.sendMessage}. */
export interface SendMessageOptions {
  /** The recipient, or its id. */
  to: RemoteParticipant | string;
  /** What kind of message this is, for the receiver to switch on; a non-empty string. */
  type: string;
  /** The message itself: a JSON object. */
  message: JsonObject;
  /** Optional bytes carried with the message, up to `maxAttachmentBytes` (sent in chunks when larger than one frame). */
  attachment?: Uint8Array;
  /**
   * When true, an absent recipient is not an error: the call resolves and the message is dropped.
   * @default false
   */
  ignoreOffline?: boolean;
  /** Called as the attachment is handed to the channel, chunk by chunk (once for a message sent whole). */
  onProgress?: (progress: SendProgress) => void;
  /** Aborts the send: unsent chunks are not sent, the recipient drops what it got, the call rejects with `Aborted`. */
  signal?: AbortSignal;
}

/** Options of {@link MessagingClient.broadcastMessage}. */
export interface BroadcastMessageOptions {
  /** What kind of message this is; a non-empty string. */
  type: string;
  /** The message itself: a JSON object. */
  message: JsonObject;
  /** Optional bytes carried with the message, up to `maxAttachmentBytes` (sent in chunks when larger than one frame). */
  attachment?: Uint8Array;
  /** Called as the attachment is handed to the channels; the byte counts are summed over the recipients. */
  onProgress?: (progress: SendProgress) => void;
  /** Aborts the broadcast: what is unsent to each recipient is not sent, and the call rejects with `Aborted`. */
  signal?: AbortSignal;
}

/** How much of an attachment has been handed to the data channel. */
export interface SendProgress {
  /** Attachment bytes handed to the channel so far. */
  sentBytes: number;
  /** Attachment bytes in all (for a broadcast: times the recipients). */
  totalBytes: number;
}

/** Who received a broadcast. */
export interface BroadcastResult {
  /** Ids of the participants that acknowledged the message. */
  delivered: string[];
  /**
   * Ids of the participants present at the call that could not take the message (a limit they announced),
   * refused it, left or timed out before acknowledging.
   */
  failed: string[];
  /** Why each of {@link failed} failed, by participant id. */
  errors: Record<string, MessagingError>;
}

/** A message received from another participant. */
export interface ReceivedMessage {
  /** Identifies this message among all received; the same as in its `attachment_progress` events. */
  messageId: string;
  /** The sender. */
  from: RemoteParticipant;
  /** The sender's id. */
  fromParticipantId: string;
  /** The sender's `type`. */
  type: string;
  /** The sender's JSON object. */
  message: JsonObject;
  /** The bytes sent with the message, if any. */
  attachment: Uint8Array | undefined;
}

/** An attachment arriving in chunks, as `attachment_progress` and `attachment_aborted` report it. */
export interface IncomingAttachment {
  /** The `messageId` its `message` event will carry. */
  messageId: string;
  /** The sender. */
  from: RemoteParticipant;
  /** The sender's id. */
  fromParticipantId: string;
  /** The sender's `type`. */
  type: string;
  /** The sender's JSON object, known from the start (a file name, say). */
  message: JsonObject;
  /** Attachment bytes received so far. */
  receivedBytes: number;
  /** Attachment bytes in all. */
  totalBytes: number;
}
