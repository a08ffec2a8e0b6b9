/** `<RoomProvider>`: joins a room for the components below it, once, however often React mounts it. */
import { createContext, createElement, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { Room, type RoomOptions } from 'roommesh';
import { Connection, ConnectionRegistry, connectionKey, type RoomState } from './connections.js';

/** The props of {@link RoomProvider}. */
export interface RoomProviderProps {
  /**
   * What `Room.connect` gets. A new (url, room, name, token) leaves the old room and joins the new one; the
   * other options are read when joining, so changing only them does nothing until the key changes.
   */
  options: RoomOptions;
  /**
   * Enable messaging as soon as the room is joined (once per connection, StrictMode or not). Set to false
   * later, messaging is disabled once no provider of the connection wants it (others see this participant
   * leave); true again enables it.
   * @default true
   */
  enableMessaging?: boolean;
  /**
   * How long the last provider of a connection waits after unmounting before it leaves the room, in ms. A
   * provider mounting with the same key in that time takes the connection over: StrictMode's remount, which
   * is synchronous, needs only 0; a larger value also bridges a route change that unmounts and remounts later.
   * @default 0
   */
  disconnectDelayMs?: number;
  /** The components that use the room. */
  children?: ReactNode;
}

/** The defaults of {@link RoomProviderProps}. */
export const DEFAULT_ROOM_PROVIDER_PROPS = Object.freeze({ enableMessaging: true, disconnectDelayMs: 0 });

/** The connections of this page, shared by every provider (one join per key). */
const registry = new ConnectionRegistry((options) => Room.connect(options));

const CONNECTING: RoomState = Object.freeze({ room: undefined, status: 'connecting', error: undefined });
const noSubscribe = (): (() => void) => () => {};
const connectingSnapshot = (): RoomState => CONNECTING;

/** What the hooks read; undefined outside any provider. @internal */
export const RoomContext = createContext<RoomState | undefined>(undefined);

/**
 * Joins a room for its children and leaves it when unmounted. Safe under StrictMode: the double mount
 * joins once and leaks nothing. Nothing joins during server-side rendering (effects do not run there).
 * @example
 * <RoomProvider options={{ url: 'https://signal.example.com', room: 'design-review', name: 'alice' }}>
 *   <Participants />
 * </RoomProvider>
 */
export function RoomProvider(props: RoomProviderProps): ReactNode {
  const enableMessaging = props.enableMessaging ?? DEFAULT_ROOM_PROVIDER_PROPS.enableMessaging;
  const disconnectDelayMs = props.disconnectDelayMs ?? DEFAULT_ROOM_PROVIDER_PROPS.disconnectDelayMs;
  const key = connectionKey(props.options);
  // The effect joins with the options of the render that changed the key, not a stale closure's.
  const options = useRef(props.options);
  options.current = props.options;
  const [connection, setConnection] = useState<Connection | undefined>(undefined);

  useEffect(() => {
    const c = registry.acquire(options.current);
    setConnection(c);
    return () => c.release(disconnectDelayMs);
  }, [key, disconnectDelayMs]);

  useEffect(() => {
    if (enableMessaging && connection !== undefined && connection.key === key)
      return connection.wantMessaging(disconnectDelayMs);
    return undefined;
  }, [connection, enableMessaging, key, disconnectDelayMs]);

  // Until the effect has run for this key, the previous key's connection is not this provider's.
  const current = connection?.key === key ? connection : undefined;
  const state = useSyncExternalStore(
    current?.subscribe ?? noSubscribe,
    current?.getSnapshot ?? connectingSnapshot,
    current?.getSnapshot ?? connectingSnapshot,
  );
  return createElement(RoomContext.Provider, { value: state }, props.children);
}
