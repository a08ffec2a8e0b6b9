// Compiled against the published declarations (dist/lib/*.d.ts) by test/types/tsconfig.json, never run.
// Rooms come from Room.connect and participants from a room; a constructor that shows in the .d.ts as
// public would type-check `new Room()` and fail at run time.
import { LocalParticipant, MessagingClient, RemoteParticipant, Room } from 'roommesh';
import * as browser from 'roommesh/browser';

/** True when `new T(...)` type-checks for some arguments. */
type Constructible<T> = T extends new (...args: never[]) => unknown ? true : false;

export const roomIsNotConstructible: Constructible<typeof Room> = false;
export const browserRoomIsNotConstructible: Constructible<typeof browser.Room> = false;
export const localParticipantIsNotConstructible: Constructible<typeof LocalParticipant> = false;
export const remoteParticipantIsNotConstructible: Constructible<typeof RemoteParticipant> = false;
export const messagingClientIsNotConstructible: Constructible<typeof MessagingClient> = false;

export function usage(): void {
  // @ts-expect-error Rooms come from Room.connect.
  void new Room(undefined as never);
  // @ts-expect-error The local participant is the room's.
  void new LocalParticipant();
  // @ts-expect-error Remote participants come from room.messaging.
  void new RemoteParticipant();
  // @ts-expect-error Messaging is the room's.
  void new MessagingClient();
  // What an app does write, for contrast:
  void Room.connect({ url: 'http://127.0.0.1:8080', room: 'r', name: 'alice' }).then((room) => room.disconnect());
}
