/** Errors roommesh raises. Each has a `reason` a program can switch on; messages are written in one place here. */

/** Base class of every error roommesh raises. */
export class RoomMeshError extends Error {
  // Spelled out in every class rather than taken from the constructor: an app's minifier renames classes.
  override name = 'RoomMeshError';
  /** A stable string naming what went wrong. */
  readonly reason: string;

  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** Why an argument was refused. */
export type InvalidArgumentReason = 'InvalidArgument';

/** An API call got an argument it cannot use; nothing was sent. */
export class InvalidArgumentError extends RoomMeshError {
  override name = 'InvalidArgumentError';
  declare readonly reason: InvalidArgumentReason;

  constructor(message: string) {
    super('InvalidArgument', message);
  }
}

/** Why connecting to or talking with the signaling server failed. */
export type ConnectionErrorReason = 'Unreachable' | 'Timeout' | 'Refused' | 'Disconnected';

/** Connecting to or talking with the signaling server failed. */
export class ConnectionError extends RoomMeshError {
  override name = 'ConnectionError';
  declare readonly reason: ConnectionErrorReason;
  /** The server's own reason, when the server refused a request. */
  readonly serverReason: string | undefined;

  constructor(reason: ConnectionErrorReason, message: string, options?: { cause?: unknown; serverReason?: string }) {
    super(reason, message, options);
    this.serverReason = options?.serverReason;
  }

  /** The signaling server could not be reached. */
  static unreachable(url: string, cause?: unknown): ConnectionError {
    return new ConnectionError('Unreachable', `cannot reach the signaling server at ${url}`, { cause });
  }

  /** The signaling server did not answer in time. */
  static timeout(what: string, ms: number): ConnectionError {
    return new ConnectionError('Timeout', `${what}: no answer from the signaling server within ${ms} ms`);
  }

  /** The signaling server answered a request with an error. */
  static refused(what: string, serverReason: string, message: string): ConnectionError {
    return new ConnectionError('Refused', `${what} refused by the signaling server (${serverReason}): ${message}`, {
      serverReason,
    });
  }

  /** The connection to the signaling server is gone. */
  static disconnected(what: string): ConnectionError {
    return new ConnectionError('Disconnected', `${what}: not connected to the signaling server`);
  }
}

/** Why a message was not delivered. */
export type MessagingErrorReason =
  | 'ParticipantNotFound'
  | 'ParticipantLeft'
  | 'Timeout'
  | 'NotEnabled'
  | 'MessageTooLarge'
  | 'Aborted'
  | 'Refused'
  | RequestErrorReason;

/** A message could not be sent or was not acknowledged. */
export class MessagingError extends RoomMeshError {
  override name = 'MessagingError';
  declare readonly reason: MessagingErrorReason;
  /** The participant the message was for, when there was one. */
  readonly participantId: string | undefined;

  constructor(reason: MessagingErrorReason, message: string, participantId?: string) {
    super(reason, message);
    this.participantId = participantId;
  }

  /** No present participant has this id. */
  static participantNotFound(id: string): MessagingError {
    return new MessagingError('ParticipantNotFound', `participant ${id} is not present`, id);
  }

  /** The caller named a participant by the object of an earlier presence (it left; it may be back as another). */
  static earlierPresence(id: string): MessagingError {
    return new MessagingError(
      'ParticipantNotFound',
      `this RemoteParticipant of ${id} is from an earlier presence (it left); a participant back under the same id is a new object: use getParticipant('${id}')`,
      id,
    );
  }

  /** The participant left before acknowledging the message. */
  static participantLeft(id: string): MessagingError {
    return new MessagingError('ParticipantLeft', `participant ${id} left before acknowledging the message`, id);
  }

  /** The participant did not acknowledge in time. */
  static timeout(id: string, ms: number): MessagingError {
    return new MessagingError('Timeout', `participant ${id} did not acknowledge the message within ${ms} ms`, id);
  }

  /** Messaging is not enabled on this room. */
  static notEnabled(what: string): MessagingError {
    return new MessagingError('NotEnabled', `${what}: messaging is not enabled: call room.messaging.enable() first`);
  }

  /** The message without its attachment (type and JSON) does not fit in one frame. */
  static tooLarge(bytes: number, max: number, participantId?: string): MessagingError {
    return new MessagingError(
      'MessageTooLarge',
      `type and message encode to ${bytes} bytes; the largest is ${max} (send bulk data as an attachment)`,
      participantId,
    );
  }

  /** The attachment is above this participant's or the recipient's limit. */
  static attachmentTooLarge(bytes: number, max: number, participantId?: string): MessagingError {
    const whose =
      participantId === undefined ? 'maxAttachmentBytes is' : `participant ${participantId} accepts at most`;
    return new MessagingError('MessageTooLarge', `attachment is ${bytes} bytes; ${whose} ${max}`, participantId);
  }

  /** The send's AbortSignal fired before the recipient acknowledged. */
  static aborted(participantId?: string): MessagingError {
    return new MessagingError('Aborted', 'the send was aborted before the recipient acknowledged it', participantId);
  }

  /** The recipient refused the message (one of its limits). */
  static refused(participantId: string, reason: string): MessagingError {
    return new MessagingError('Refused', `participant ${participantId} refused the message (${reason})`, participantId);
  }
}

/**
 * Why a request got no reply: the peer has no handler for its type (`NoHandler`), the handler threw
 * (`HandlerFailed`), the peer has too many of this participant's requests in hand (`Busy`), no reply came
 * within `timeoutMs` (`Timeout`), or the peer left or its channel failed first (`ParticipantLeft`).
 */
export type RequestErrorReason = 'NoHandler' | 'HandlerFailed' | 'Busy' | 'Timeout' | 'ParticipantLeft';

/**
 * A request reached, or was sent toward, its participant but brought no reply. A {@link MessagingError},
 * so one `switch (err.reason)` covers every way `request()` fails.
 */
export class RequestError extends MessagingError {
  override name = 'RequestError';
  declare readonly reason: RequestErrorReason;
  /** The request's `type`. */
  readonly requestType: string;
  /** For `HandlerFailed`: the message of the error the peer's handler threw (never its stack); else undefined. */
  readonly handlerMessage: string | undefined;

  constructor(
    reason: RequestErrorReason,
    message: string,
    participantId: string,
    requestType: string,
    handlerMessage?: string,
  ) {
    super(reason, message, participantId);
    this.requestType = requestType;
    this.handlerMessage = handlerMessage;
  }

  /** The peer has no handler for this type. */
  static noHandler(participantId: string, type: string): RequestError {
    return new RequestError(
      'NoHandler',
      `participant ${participantId} handles no '${type}' requests`,
      participantId,
      type,
    );
  }

  /** The peer's handler threw; `handlerMessage` is what it said. */
  static handlerFailed(participantId: string, type: string, handlerMessage: string): RequestError {
    return new RequestError(
      'HandlerFailed',
      `participant ${participantId} failed to handle a '${type}' request: ${handlerMessage}`,
      participantId,
      type,
      handlerMessage,
    );
  }

  /** The peer already has as many of this participant's requests in hand as it takes. */
  static busy(participantId: string, type: string): RequestError {
    return new RequestError(
      'Busy',
      `participant ${participantId} refused a '${type}' request: too many requests from this participant in hand`,
      participantId,
      type,
    );
  }

  /** No reply within the request's timeout. */
  static replyTimeout(participantId: string, type: string, ms: number): RequestError {
    return new RequestError(
      'Timeout',
      `participant ${participantId} did not reply to a '${type}' request within ${ms} ms`,
      participantId,
      type,
    );
  }

  /** The peer left, or its channel failed, before replying. */
  static leftBeforeReply(participantId: string, type: string): RequestError {
    return new RequestError(
      'ParticipantLeft',
      `participant ${participantId} left before replying to a '${type}' request`,
      participantId,
      type,
    );
  }
}

/** Why a peer's frame was refused. */
export type ProtocolErrorReason = 'BadFrame' | 'UnexpectedFrame' | 'LimitExceeded' | 'TooManyErrors';

/** A peer sent something that does not follow the data-channel protocol. Reported through the `error` event. */
export class ProtocolError extends RoomMeshError {
  override name = 'ProtocolError';
  declare readonly reason: ProtocolErrorReason;
  /** The peer that sent it. */
  readonly participantId: string;

  constructor(reason: ProtocolErrorReason, participantId: string, message: string) {
    super(reason, `participant ${participantId}: ${message}`);
    this.participantId = participantId;
  }
}
