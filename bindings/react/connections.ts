/**
 * One room connection per (url, room, name, token), shared by every `<RoomProvider>` that asks for it and
 * counted. A provider's effect takes a reference and its cleanup gives it back; the last one back does not
 * disconnect at once but after `disconnectDelayMs`, and a new reference in the meantime cancels that. React's
 * StrictMode (mount, unmount, mount again, synchronously, in development) therefore joins once, and an
 * unmount for good leaves the room. Nothing here renders: it is plain state with a subscribe/snapshot pair
 * for `useSyncExternalStore`.
 */
import type { Room, RoomOptions } from 'roommesh';

/** Where the connection to the signaling server stands, as {@link useSignalingStatus} reports it. */
export type SignalingStatus = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'disconnected';

/** What a provider shares with the hooks below it; a new object whenever something in it changes. */
export interface RoomState {
  /** The room once joined; undefined while connecting and when joining failed. */
  readonly room: Room | undefined;
  /** The signaling status. */
  readonly status: SignalingStatus;
  /** Why joining failed, the server refused this participant back, or enabling messaging failed. */
  readonly error: Error | undefined;
}

/** How a connection joins: `Room.connect`, or a stand-in for unit tests. @internal */
export type ConnectFn = (options: RoomOptions) => Promise<Room>;

/** The key of a connection: what identifies a participant to the server. Other options are read once, at join. */
export function connectionKey(options: RoomOptions): string {
  return JSON.stringify([options.url, options.room, options.name, options.token ?? null]);
}

const INITIAL: RoomState = Object.freeze({ room: undefined, status: 'connecting', error: undefined });

/** One shared connection: its reference count, its state and who listens to it. @internal */
export class Connection {
  #refs = 0;
  #state: RoomState = INITIAL;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Providers that want messaging enabled (effects mounted with `enableMessaging`). */
  #messagingWanted = 0;
  /** Messaging was enabled for them and not disabled since. */
  #messagingOn = false;
  #disableTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly key: string,
    private readonly registry: ConnectionRegistry,
    options: RoomOptions,
    connect: ConnectFn,
  ) {
    connect(options).then(
      (room) => this.#joined(room),
      (err: unknown) => {
        // Given up: the providers on it show the failure, and the next to mount with this key joins anew
        // (also one that mounts as another unmounts, as `<RoomProvider key={attempt}>` does in one commit).
        this.#closed = true;
        this.registry.forget(this);
        this.#set({ room: undefined, status: 'failed', error: asError(err) });
      },
    );
  }

  /** References held now (providers mounted on this connection). */
  get refs(): number {
    return this.#refs;
  }

  /** True once the connection has been given up; a closed connection is never handed out again. */
  get closed(): boolean {
    return this.#closed;
  }

  /** For `useSyncExternalStore`: listens to state changes. Stable per connection. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** For `useSyncExternalStore`: the current state, the same object until it changes. */
  readonly getSnapshot = (): RoomState => this.#state;

  /** Takes a reference; cancels a pending disconnect. */
  retain(): void {
    this.#refs++;
    if (this.#releaseTimer !== undefined) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
  }

  /** Gives a reference back; the last one schedules the disconnect after `delayMs`. */
  release(delayMs: number): void {
    if (this.#refs === 0) return;
    this.#refs--;
    if (this.#refs > 0 || this.#closed) return;
    if (this.#releaseTimer !== undefined) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      if (this.#refs === 0) this.#close();
    }, delayMs);
  }

  /**
   * A provider wants messaging: enabled once the room is joined, once however many providers ask. The
   * returned function gives the wish back; when no provider wants it any more, messaging is disabled after
   * `delayMs` (the provider's `disconnectDelayMs`), unless one asks again meanwhile: StrictMode's remount,
   * which is synchronous, or a remount that the delay bridges.
   */
  wantMessaging(delayMs: number): () => void {
    this.#messagingWanted++;
    if (this.#disableTimer !== undefined) clearTimeout(this.#disableTimer);
    this.#disableTimer = undefined;
    if (!this.#messagingOn && this.#state.room !== undefined) this.#enable(this.#state.room);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      if (--this.#messagingWanted > 0) return;
      if (this.#disableTimer !== undefined) clearTimeout(this.#disableTimer);
      this.#disableTimer = setTimeout(() => {
        this.#disableTimer = undefined;
        const room = this.#state.room;
        if (this.#messagingWanted > 0 || this.#closed || !this.#messagingOn || room === undefined) return;
        this.#messagingOn = false;
        room.messaging.disable().catch((err: unknown) => {
          if (!this.#closed) this.#set({ ...this.#state, error: asError(err) });
        });
      }, delayMs);
    };
  }

  #joined(room: Room): void {
    if (this.#closed) {
      // Every provider went away while joining: leave at once, nobody will ever see this room.
      void room.disconnect().catch(() => {});
      return;
    }
    room.on('signaling_disconnected', () => this.#set({ ...this.#state, status: 'reconnecting' }));
    room.on('signaling_reconnected', () => this.#set({ ...this.#state, status: 'connected' }));
    // Back as a new participant id (the server restarted without a resume secret): connected, and a new
    // state, so that what shows `room.localParticipant.id` renders again.
    room.on('signaling_rejoined', () => this.#set({ ...this.#state, status: 'connected' }));
    room.on('signaling_failed', (error) => this.#set({ ...this.#state, status: 'failed', error }));
    room.on('disconnected', () => {
      // Also when the app called room.disconnect() itself: the next provider to mount joins anew.
      this.registry.forget(this);
      this.#set({ ...this.#state, status: 'disconnected' });
    });
    this.#set({ room, status: room.isSignalingConnected ? 'connected' : 'reconnecting', error: undefined });
    if (this.#messagingWanted > 0) this.#enable(room);
  }

  #enable(room: Room): void {
    this.#messagingOn = true;
    room.messaging.enable().catch((err: unknown) => {
      if (!this.#closed) this.#set({ ...this.#state, error: asError(err) });
    });
  }

  #close(): void {
    this.#closed = true;
    if (this.#disableTimer !== undefined) clearTimeout(this.#disableTimer);
    this.registry.forget(this);
    void this.#state.room?.disconnect().catch(() => {});
  }

  #set(state: RoomState): void {
    this.#state = Object.freeze(state);
    for (const listener of [...this.#listeners]) listener();
  }
}

/** The connections by key. The module keeps one; unit tests make their own with a stand-in connect. @internal */
export class ConnectionRegistry {
  readonly #byKey = new Map<string, Connection>();

  constructor(private readonly connect: ConnectFn) {}

  /** The connection for these options, joined now if there is none; takes a reference to it. */
  acquire(options: RoomOptions): Connection {
    const key = connectionKey(options);
    let connection = this.#byKey.get(key);
    if (connection === undefined || connection.closed) {
      connection = new Connection(key, this, options, this.connect);
      this.#byKey.set(key, connection);
    }
    connection.retain();
    return connection;
  }

  /** Connections open or joining, for tests. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Drops a connection that has closed, unless another has taken its key since. */
  forget(connection: Connection): void {
    if (this.#byKey.get(connection.key) === connection) this.#byKey.delete(connection.key);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
