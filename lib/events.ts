import type { ProtocolError } from './errors.js';
import type { IncomingAttachment, ReceivedMessage } from './MessagingClient.js';
import type { JsonObject } from './protocol/json.js';
import type { RemoteParticipant } from './RemoteParticipant.js';

/** Events of `room.messaging`. */
export interface MessagingEvents {
  /** A message from another participant arrived whole. */
  message: (message: ReceivedMessage) => void;
  /**
   * An attachment sent in chunks started arriving (`receivedBytes` 0) or more of it arrived. Its `message`
   * event, with the same `messageId`, follows once it is whole. Only for attachments larger than one frame.
   */
  attachment_progress: (progress: IncomingAttachment) => void;
  /**
   * An attachment that was arriving will not complete: the sender cancelled it, left, or broke a limit
   * (`reason` says which). What was received is freed; no `message` event follows.
   */
  attachment_aborted: (progress: IncomingAttachment, reason: string) => void;
  /** A participant became present: its data channel is open and it has messaging enabled. */
  participant_added: (participant: RemoteParticipant) => void;
  /** A participant stopped being present: it disabled messaging, left, crashed or became unreachable. */
  participant_removed: (participant: RemoteParticipant) => void;
  /** A participant changed its attributes; `changed` holds the new values of the keys that changed (removed keys: null). */
  participant_attributes_updated: (participant: RemoteParticipant, changed: JsonObject) => void;
  /** {@link MessagingClient.enable} completed; `participants` are those present. */
  messaging_enabled: (participants: RemoteParticipant[]) => void;
  /** {@link MessagingClient.disable} completed. */
  messaging_disabled: () => void;
  /** A peer sent something that breaks the protocol; it was dropped. */
  error: (error: ProtocolError) => void;
}

/** Events of a {@link Room}. */
export interface RoomEvents {
  /**
   * The connection to the signaling server is gone. Open data channels keep working; new participants
   * cannot connect until the room connects again.
   */
  signaling_disconnected: (reason: string) => void;
  /** {@link Room.disconnect} completed. */
  disconnected: () => void;
}
