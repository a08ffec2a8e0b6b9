import type { ConnectionError, ProtocolError } from './errors.js';
import type { IncomingAttachment, MessageMap, MessageMapOf, ReceivedMessage } from './types.js';
import type { JsonObject } from './protocol/json.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { LinkState } from './mesh/paths.js';
import type { EventNames } from './util/TypedEmitter.js';

import type { AttachmentAbortReason } from './session/session-types.js';

export type { AttachmentAbortReason };

/** Events of `room.messaging`; `M` types the messages (see {@link MessageMap}). */
export interface MessagingEvents<M extends MessageMapOf<M> = MessageMap> {
  /** A message from another participant arrived whole (requests and replies go to their handler and caller instead). */
  message: (message: ReceivedMessage<M>) => void;
  /**
   * An attachment sent in chunks started arriving (`receivedBytes` 0) or more of it arrived. Its `message`
   * event, with the same `messageId`, follows once it is whole. Only for attachments larger than one frame.
   */
  attachment_progress: (progress: IncomingAttachment<M>) => void;
  /**
   * An attachment that was arriving will not complete: the sender cancelled it (`Cancelled`), left or lost
   * its channel (`ParticipantLeft`), broke a limit of this participant (`Refused`; the `error` event says
   * how), or sent no chunk of it for `attachmentStallTimeoutMs` (`Stalled`). What was received is freed; no
   * `message` event follows.
   */
  attachment_aborted: (progress: IncomingAttachment<M>, reason: AttachmentAbortReason) => void;
  /** A participant became present: it has messaging enabled and a session with this one is up (direct or relayed). */
  participant_added: (participant: RemoteParticipant) => void;
  /** A participant stopped being present: it disabled messaging, left, crashed or became unreachable. */
  participant_removed: (participant: RemoteParticipant) => void;
  /**
   * A present participant re-joined the signaling server under a new id (the server restarted and forgot
   * everyone): `participant.id` is the new id. Its session stayed (on its data channel, or on a new relayed
   * link that proved it is the same participant); it was never removed.
   */
  participant_id_changed: (participant: RemoteParticipant, previousId: string) => void;
  /**
   * The path to a present participant changed (`participant.linkState`): it moved from the relay onto a
   * direct data channel, back to the relay, or is `reconnecting` after its path broke (show "reconnecting…"
   * rather than a leave: it is removed only if no path comes back within `relinkGraceMs`).
   */
  participant_link_changed: (participant: RemoteParticipant, state: LinkState) => void;
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
   * The connection to the signaling server dropped. Open data channels keep working; the room reconnects
   * by itself, with backoff, and resumes under the same participant id.
   */
  signaling_disconnected: (reason: string) => void;
  /** Back on the signaling server, under the same participant id; nobody saw this participant leave. */
  signaling_reconnected: () => void;
  /**
   * Back on the signaling server as a new participant id, because the server no longer knew this one (it
   * restarted without a `resumeSecret`): `room.localParticipant.id` is now `id`, messaging is enabled again
   * if it was, and every peer with an open channel follows the new id without seeing this participant leave.
   */
  signaling_rejoined: (id: string, previousId: string) => void;
  /**
   * The signaling server will not take this participant back, not even as a new participant (a join
   * refused: its auth token expired or is no longer accepted, the room is full, ...). Open channels keep
   * working, but no new channel can be set up; connect again with what the server needs.
   */
  signaling_failed: (error: ConnectionError) => void;
  /** {@link Room.disconnect} completed. */
  disconnected: () => void;
}

/** The names of {@link MessagingEvents} at run time: `room.messaging.on()` refuses any other. @internal */
export const MESSAGING_EVENT_NAMES: EventNames<MessagingEvents> = {
  message: true,
  attachment_progress: true,
  attachment_aborted: true,
  participant_added: true,
  participant_removed: true,
  participant_id_changed: true,
  participant_link_changed: true,
  participant_attributes_updated: true,
  messaging_enabled: true,
  messaging_disabled: true,
  error: true,
};

/** The names of {@link RoomEvents} at run time: `room.on()` refuses any other. @internal */
export const ROOM_EVENT_NAMES: EventNames<RoomEvents> = {
  signaling_disconnected: true,
  signaling_reconnected: true,
  signaling_rejoined: true,
  signaling_failed: true,
  disconnected: true,
};
