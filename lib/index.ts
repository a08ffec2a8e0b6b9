/**
 * roommesh: participant-to-participant messages in a room, over WebRTC data channels, found through a
 * socket.io signaling server. This is the platform-neutral entry (browsers); Node resolves `lib/node.ts`.
 */
export { Room } from './Room.js';
export { MessagingClient } from './MessagingClient.js';
export type {
  SendMessageOptions,
  SendMessageFields,
  BroadcastMessageOptions,
  BroadcastMessageFields,
  BroadcastResult,
  ReceivedMessage,
  ReceivedMessageFields,
  SendProgress,
  IncomingAttachment,
  IncomingAttachmentFields,
  MessageMap,
  MessageMapOf,
  TypedMessage,
  RequestOptions,
  RequestFields,
  RequestReply,
  IncomingRequest,
  ReplyContent,
  ReplyOf,
  RequestHandler,
} from './types.js';
export { DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUESTS_IN_HAND_PER_PEER } from './requests/Requests.js';
export { RemoteParticipant } from './RemoteParticipant.js';
export { LocalParticipant, MAX_ATTRIBUTES_BYTES } from './LocalParticipant.js';
export {
  RoomMeshError,
  InvalidArgumentError,
  ConnectionError,
  MessagingError,
  RequestError,
  ProtocolError,
} from './errors.js';
export type {
  ConnectionErrorReason,
  MessagingErrorReason,
  RequestErrorReason,
  ProtocolErrorReason,
  InvalidArgumentReason,
} from './errors.js';
export type { MessagingEvents, RoomEvents, AttachmentAbortReason } from './events.js';
export type { ReceiveLimits, RoomTimeouts } from './defaults.js';
export type { RoomOptions } from './options.js';
export type { PathPolicy, LinkState } from './mesh/paths.js';
export type { WebRTCImplementation } from './link/webrtc.js';
export { DEFAULT_TIMEOUTS, DEFAULT_RECEIVE_LIMITS } from './defaults.js';
export { DEFAULT_ROOM_OPTIONS, MAX_ATTACHMENT_BYTES_LIMIT } from './options.js';
export type { Logger } from './logger.js';
export { defaultLogger, silentLogger } from './logger.js';
export type { JsonObject, JsonValue } from './protocol/json.js';
export type { IceServer } from './protocol/signaling.js';
export { MAX_FRAME_BYTES, CHUNK_FRAME_BYTES, MAX_CONCURRENT_TRANSFERS, MAX_TYPE_LENGTH } from './protocol/frames.js';
