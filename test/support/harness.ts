/** Test helpers: real signaling servers and real Node participants, and waiting on them without fixed sleeps. */
import { createSignalingServer, type SignalingServer, type SignalingServerOptions } from '../../signaling/server.js';
import { Room, silentLogger, type RoomOptions } from '../../lib/node.js';
import type { TypedEmitter } from '../../lib/util/TypedEmitter.js';

type EventsOf<T> = T extends { eventMapType?: infer E } ? NonNullable<E> : never;

/** Everything a test starts, so `after` can stop it all. */
export class Harness {
  readonly servers: SignalingServer[] = [];
  readonly rooms: Room[] = [];

  async server(options: SignalingServerOptions = {}): Promise<SignalingServer> {
    const server = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: false, ...options });
    this.servers.push(server);
    return server;
  }

  async join(server: SignalingServer, room: string, name: string, extra: Partial<RoomOptions> = {}): Promise<Room> {
    const r = await Room.connect({ url: server.url, room, name, logger: silentLogger, ...extra });
    this.rooms.push(r);
    return r;
  }

  /** Joins `names` to one room and enables messaging on all of them, one after another. */
  async mesh(
    server: SignalingServer,
    room: string,
    names: string[],
    extra: Partial<RoomOptions> = {},
  ): Promise<Room[]> {
    const rooms: Room[] = [];
    for (const name of names) {
      const r = await this.join(server, room, name, extra);
      await r.messaging.enable();
      rooms.push(r);
    }
    await eventually(
      () => rooms.every((r) => r.messaging.remoteParticipants.length === names.length - 1),
      10_000,
      'full mesh',
    );
    return rooms;
  }

  async close(): Promise<void> {
    await Promise.all(this.rooms.splice(0).map((r) => r.disconnect().catch(() => {})));
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
  }
}

/** Resolves once `check` returns true, polling; rejects after `timeoutMs` naming `what`. */
export async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The next emission of `event` on `emitter` (optionally the first that satisfies `filter`). */
export function nextEvent<T extends TypedEmitter<any>, K extends keyof EventsOf<T>>(
  emitter: T,
  event: K,
  timeoutMs = 10_000,
  filter: (...args: Parameters<EventsOf<T>[K]>) => boolean = () => true,
): Promise<Parameters<EventsOf<T>[K]>> {
  type E = EventsOf<T>;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(event)}`));
    }, timeoutMs);
    const listener = ((...args: Parameters<E[K]>): void => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    }) as E[K];
    emitter.on(event, listener);
  });
}

/** Deterministic pseudo-random bytes, so failures reproduce. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Large deterministic bytes, fast: a pseudo-random block of 65,537 bytes repeated. The odd period never
 * lines up with frame or chunk boundaries, so misplaced or missing chunks still change the bytes.
 */
export function patterned(n: number, seed = 1): Uint8Array {
  const out = Buffer.allocUnsafe(n);
  if (n > 0) out.fill(bytes(Math.min(n, 65_537), seed));
  return new Uint8Array(out.buffer, out.byteOffset, n);
}

/** The error `p` rejects with; fails when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}
