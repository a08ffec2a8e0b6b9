/** The hooks: each reads the nearest `<RoomProvider>` and re-renders on the room events it is about. */
import { useContext, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { InvalidArgumentError } from 'roommesh';
import type { JsonObject, MessagingClient, ReceivedMessage, RemoteParticipant } from 'roommesh';
import type { RoomState, SignalingStatus } from './connections.js';
import { RoomContext } from './room-provider.js';

/**
 * A received message whose `message` the app declares as `T`. Nothing checks it: what a peer sends is
 * untrusted, so check the fields you use.
 */
export type ReceivedMessageOf<T extends JsonObject = JsonObject> = Omit<ReceivedMessage, 'message'> & { message: T };

/** Options of {@link useMessages}. */
export interface UseMessagesOptions {
  /**
   * How many of the latest messages to keep; older ones are dropped.
   * @default 100
   */
  limit?: number;
}

/** The defaults of {@link UseMessagesOptions}. */
export const DEFAULT_USE_MESSAGES_OPTIONS = Object.freeze({ limit: 100 });

const NO_PARTICIPANTS: readonly RemoteParticipant[] = Object.freeze([]);
const NO_MESSAGES: readonly never[] = Object.freeze([]);

/**
 * The room of the nearest `<RoomProvider>`, its signaling status and the last error. Throws
 * `InvalidArgumentError` outside a provider.
 * @example
 * const { room, status, error } = useRoom();
 */
export function useRoom(): RoomState {
  const state = useContext(RoomContext);
  if (state === undefined) throw new InvalidArgumentError('roommesh/react: this hook needs a <RoomProvider> above it');
  return state;
}

/** Where the connection to the signaling server stands: connecting, connected, reconnecting, failed, disconnected. */
export function useSignalingStatus(): SignalingStatus {
  return useRoom().status;
}

/**
 * `room.messaging`, to send with, once the room is joined (undefined before). The provider enables messaging
 * itself unless told not to (`enableMessaging={false}`).
 * @example
 * const messaging = useMessaging();
 * await messaging?.broadcastMessage({ type: 'chat', message: { text: 'hi' } });
 */
export function useMessaging(): MessagingClient | undefined {
  return useRoom().room?.messaging;
}

/**
 * The participants present (messaging enabled, a path open), re-rendering when one arrives, leaves,
 * changes its attributes or its path (`participant.linkState`: direct, relayed, reconnecting). A new array on each change; `participant.attributes` is a new object when they change.
 * @example
 * const participants = useParticipants();
 * return participants.map((p) => <li key={p.id}>{p.name}</li>);
 */
export function useParticipants(): readonly RemoteParticipant[] {
  const { room } = useRoom();
  const [participants, setParticipants] = useState(NO_PARTICIPANTS);
  useEffect(() => {
    if (room === undefined) return;
    const messaging = room.messaging;
    const update = (): void => setParticipants(Object.freeze(messaging.remoteParticipants));
    update();
    // The events that change what a participant shows.
    messaging.on('participant_added', update);
    messaging.on('participant_removed', update);
    messaging.on('participant_attributes_updated', update);
    messaging.on('participant_link_changed', update);
    messaging.on('participant_id_changed', update);
    messaging.on('messaging_enabled', update);
    messaging.on('messaging_disabled', update);
    return () => {
      messaging.off('participant_added', update);
      messaging.off('participant_removed', update);
      messaging.off('participant_attributes_updated', update);
      messaging.off('participant_link_changed', update);
      messaging.off('participant_id_changed', update);
      messaging.off('messaging_enabled', update);
      messaging.off('messaging_disabled', update);
      setParticipants(NO_PARTICIPANTS);
    };
  }, [room]);
  return room === undefined ? NO_PARTICIPANTS : participants;
}

/**
 * Calls `handler` for every message of `type` (every message when `type` is undefined). The latest handler is
 * called, so it may close over state without re-subscribing.
 * @example
 * useMessageListener('ping', (m) => void messaging?.sendMessage({ to: m.from, type: 'pong', message: {} }));
 */
export function useMessageListener<T extends JsonObject = JsonObject>(
  type: string | undefined,
  handler: (message: ReceivedMessageOf<T>) => void,
): void {
  const { room } = useRoom();
  const latest = useRef({ handler, type, room });
  useLayoutEffect(() => {
    latest.current = { handler, type, room };
  });
  useEffect(() => {
    if (room === undefined) return;
    // The type and the handler are the latest render's: a listener reading its own `type` handed the new
    // handler messages of the old type between the layout effect above and the next run of this one.
    const listener = (m: ReceivedMessage): void => {
      const { handler, type, room: current } = latest.current;
      if (current !== room) return; // the component has moved to another room; this one's are not for it
      if (type === undefined || m.type === type) handler(m as ReceivedMessageOf<T>);
    };
    room.messaging.on('message', listener);
    return () => void room.messaging.off('message', listener);
  }, [room]);
}

/**
 * The latest messages of `type` (all types when undefined), oldest first, at most `limit` of them; starts
 * empty, and again when the room or the type changes.
 * @example
 * const chat = useMessages<{ text: string }>('chat', { limit: 50 });
 */
export function useMessages<T extends JsonObject = JsonObject>(
  type: string | undefined,
  options: UseMessagesOptions = {},
): readonly ReceivedMessageOf<T>[] {
  const limit = options.limit ?? DEFAULT_USE_MESSAGES_OPTIONS.limit;
  if (!Number.isSafeInteger(limit) || limit <= 0)
    throw new InvalidArgumentError('useMessages: limit must be a positive integer');
  const { room } = useRoom();
  const [kept, setKept] = useState<{ room: unknown; type: string | undefined; list: ReceivedMessageOf<T>[] }>({
    room,
    type,
    list: [],
  });
  useMessageListener<T>(type, (m) =>
    setKept((prev) =>
      prev.room === room && prev.type === type
        ? { room, type, list: [...prev.list, m].slice(-limit) }
        : { room, type, list: [m] },
    ),
  );
  // The same array until a message arrives (or the room, type or limit changes), so that it can be a
  // dependency of an effect or a memo: a new one at each render made an effect that set state on it loop.
  const current = kept.room === room && kept.type === type;
  return useMemo(
    () => (!current ? NO_MESSAGES : kept.list.length <= limit ? kept.list : kept.list.slice(-limit)),
    [current, kept, limit],
  );
}
