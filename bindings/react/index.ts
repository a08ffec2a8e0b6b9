/**
 * roommesh/react: React bindings for roommesh. `<RoomProvider>` joins a room (once, StrictMode or not), and
 * the hooks below it read participants, messages and the signaling status. React is an optional peer
 * dependency; this entry imports roommesh by its package name, so an app has one copy of the library.
 */
export { RoomProvider, DEFAULT_ROOM_PROVIDER_PROPS } from './room-provider.js';
export type { RoomProviderProps } from './room-provider.js';
export type { RoomState, SignalingStatus } from './connections.js';
export {
  useRoom,
  useSignalingStatus,
  useMessaging,
  useParticipants,
  useMessageListener,
  useMessages,
  DEFAULT_USE_MESSAGES_OPTIONS,
} from './hooks.js';
export type { ReceivedMessageOf, UseMessagesOptions } from './hooks.js';
