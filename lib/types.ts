/** The public shapes of messaging: what a send takes, what a broadcast returns, what arrives. */
import type { MessagingError } from './errors.js';
import type { JsonObject } from './protocol/json.js';
import type { RemoteParticipant } from './RemoteParticipant.js';

/**
 * Message types and their payloads, as an app declares them once to type its messages, e.g.
 * `type Msgs = { chat: { text: string }; cursor: { x: number; y: number } }` (a `type` alias: an
 * interface has no index signature, so it is not a JSON object to TypeScript). The default, this open
 * map, lets any type carry any JSON object. Types only: nothing is checked on arrival at run time.
 */
export type MessageMap = Record<string, JsonObject>;

/** What a map `M` must be: every type's payload a JSON object. */
export type MessageMapOf<M> = { [K in keyof M]: JsonObject };

/** One `type` of map `M` with its `message`; a union over the types, so that a check on `type` narrows `message`. */
export type TypedMessage<M extends MessageMapOf<M> = MessageMap> = {
  [K in keyof M & string]: {
    /** What kind of message this is, for the receiver to switch on; a non-empty string. */
    type: K;
    /** The message itself: a JSON object. */
    message: M[K];
  };
}[keyof M & string];

/** The fields of {@link SendMessageOptions} besides `type` and `message`. */
export interface SendMessageFields {
  /** The recipient, or its id. An object reaches only the presence it stands for (README, *Presence*). */
  to: RemoteParticipant | string;
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

/** Options of {@link MessagingClient.sendMessage}: a recipient, and a `type` with its `message` from map `M`. */
export type SendMessageOptions<M extends MessageMapOf<M> = MessageMap> = SendMessageFields & TypedMessage<M>;

/** The fields of {@link BroadcastMessageOptions} besides `type` and `message`. */
export interface BroadcastMessageFields {
  /** Optional bytes carried with the message, up to `maxAttachmentBytes` (sent in chunks when larger than one frame). */
  attachment?: Uint8Array;
  /** Called as the attachment is handed to the channels; the byte counts are summed over the recipients. */
  onProgress?: (progress: SendProgress) => void;
  /** Aborts the broadcast: what is unsent to each recipient is not sent, and the call rejects with `Aborted`. */
  signal?: AbortSignal;
}

/** Options of {@link MessagingClient.broadcastMessage}: a `type` with its `message` from map `M`. */
export type BroadcastMessageOptions<M extends MessageMapOf<M> = MessageMap> = BroadcastMessageFields & TypedMessage<M>;

/** The fields of {@link RequestOptions} besides `type` and `message`. */
export interface RequestFields {
  /** The participant to ask, or its id. An object reaches only the presence it stands for. */
  to: RemoteParticipant | string;
  /** Optional bytes carried with the request, up to `maxAttachmentBytes`, chunked like a message's. */
  attachment?: Uint8Array;
  /**
   * How long to wait for the reply, from the call (sending the attachment included); then the call rejects
   * with `Timeout`. `Infinity` waits until the reply, the participant leaving, or `signal`.
   * @default 10000
   */
  timeoutMs?: number;
  /** Called as the request's attachment is handed to the channel. */
  onProgress?: (progress: SendProgress) => void;
  /** Aborts the request: the call rejects with `Aborted`, and a reply that comes later is dropped. */
  signal?: AbortSignal;
}

/** Options of {@link MessagingClient.request}, for a request of type `K` of map `M`. */
export type RequestOptions<
  M extends MessageMapOf<M> = MessageMap,
  K extends keyof M & string = keyof M & string,
> = RequestFields & {
  /** What is asked: the type a handler was registered for at the recipient. */
  type: K;
  /** The request itself: a JSON object. */
  message: M[K];
};

/** The reply payload of requests of type `K`: `R[K]` when the reply map `R` names `K`, else any JSON object. */
export type ReplyOf<R, K> = K extends keyof R ? R[K] : JsonObject;

/** What {@link MessagingClient.request} resolves with. */
export interface RequestReply<T extends JsonObject = JsonObject> {
  /** The handler's reply. */
  message: T;
  /** The bytes the handler sent with its reply, if any. */
  attachment: Uint8Array | undefined;
  /** Who replied. */
  from: RemoteParticipant;
}

/** A request as a handler registered with {@link MessagingClient.handle} gets it. */
export interface IncomingRequest<K extends string = string, T extends JsonObject = JsonObject> {
  /** Who asks. */
  from: RemoteParticipant;
  /** The asker's id. */
  fromParticipantId: string;
  /** The request's type. */
  type: K;
  /** The request itself. */
  message: T;
  /** The bytes sent with the request, if any. */
  attachment: Uint8Array | undefined;
}

/** What a request handler returns (or resolves with): the reply, and optional bytes. */
export interface ReplyContent<T extends JsonObject = JsonObject> {
  /** The reply: a JSON object. */
  message: T;
  /** Optional bytes carried with the reply, chunked like a message's. */
  attachment?: Uint8Array;
}

/** A request handler for type `K` of map `M`, replying with `R`'s payload for `K`. */
export type RequestHandler<
  M extends MessageMapOf<M> = MessageMap,
  R extends MessageMapOf<R> = MessageMap,
  K extends keyof M & string = keyof M & string,
> = (request: IncomingRequest<K, M[K]>) => ReplyContent<ReplyOf<R, K>> | Promise<ReplyContent<ReplyOf<R, K>>>;

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

/** The fields of {@link ReceivedMessage} besides `type` and `message`. */
export interface ReceivedMessageFields {
  /** Identifies this message among all received; the same as in its `attachment_progress` events. */
  messageId: string;
  /** The sender. */
  from: RemoteParticipant;
  /** The sender's id. */
  fromParticipantId: string;
  /** The bytes sent with the message, if any. */
  attachment: Uint8Array | undefined;
}

/** A message received from another participant; with a map `M`, checking `type` narrows `message`. */
export type ReceivedMessage<M extends MessageMapOf<M> = MessageMap> = ReceivedMessageFields & TypedMessage<M>;

/** The fields of {@link IncomingAttachment} besides `type` and `message`. */
export interface IncomingAttachmentFields {
  /** The `messageId` its `message` event will carry. */
  messageId: string;
  /** The sender. */
  from: RemoteParticipant;
  /** The sender's id. */
  fromParticipantId: string;
  /** Attachment bytes received so far. */
  receivedBytes: number;
  /** Attachment bytes in all. */
  totalBytes: number;
}

/** An attachment arriving in chunks, as `attachment_progress` and `attachment_aborted` report it. */
export type IncomingAttachment<M extends MessageMapOf<M> = MessageMap> = IncomingAttachmentFields & TypedMessage<M>;
