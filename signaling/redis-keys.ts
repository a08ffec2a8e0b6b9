/**
 * The Redis key layout of a fleet, all under the prefix (`redisKeyPrefix`):
 * - `room:<room>`: hash id → participant info JSON
 * - `enabled:<room>`: set of the ids with messaging enabled
 * - `gen:<room>`: hash id → "generation previous held(0|1)" of its resume tokens (why: signaling/resume.ts)
 * - `servers`: set of server ids; `alive:<id>`: set while that process lives (expiring after
 *   `fleetTimeoutMs`); `srv:<id>`: set of "participant id\nroom" it holds
 * - `parked:<id\nroom>`: the generation of a member removed without a goodbye, expiring with the token lifetime
 * - `parked-index`: sorted set of the `parked:` keys by when they were parked, to keep at most so many
 * - `adopted:<id\nroom>`: taken back with a token of an earlier epoch, for the restart window
 * - `hold:<id\nroom>`: when the member's hold for a resume ends (ms, Redis's clock), so a process that
 *   adopts a held member keeps that end; read only while `gen:` says held, expiring a minute after it
 * - `epoch`: "<uuid> <start ms>", set when missing (a Redis that lost its data starts a new epoch)
 * - `resume-key`: the fleet's shared resume key, hex
 * The sweep and resume scripts (redis-scripts.ts) build `alive:` and `srv:` keys of other servers from the
 * prefix themselves. Standalone Redis only: the sweep touches keys it discovers (no Cluster).
 */

/** The keys one process of a fleet uses, under `prefix`; `serverId` is that process's. */
export class FleetKeys {
  /** The prefix every key starts with. */
  readonly prefix: string;
  /** The id of the process these keys are for. */
  readonly serverId: string;

  constructor(prefix: string, serverId: string) {
    this.prefix = prefix;
    this.serverId = serverId;
  }

  /** Hash id → participant info JSON of `room`. */
  room(room: string): string {
    return `${this.prefix}room:${room}`;
  }

  /** Set of the ids of `room` with messaging enabled. */
  enabled(room: string): string {
    return `${this.prefix}enabled:${room}`;
  }

  /** Hash id → resume token generation of the members of `room`. */
  gen(room: string): string {
    return `${this.prefix}gen:${room}`;
  }

  /** The generation of member `ref` (see `memberRef`), parked when it was removed without a goodbye. */
  parked(ref: string): string {
    return `${this.prefix}parked:${ref}`;
  }

  /** Sorted set of the parked keys by when they were parked (ms, Redis's clock). */
  parkedIndex(): string {
    return `${this.prefix}parked-index`;
  }

  /** Set when member `ref` was taken back with a token of an earlier epoch. */
  adopted(ref: string): string {
    return `${this.prefix}adopted:${ref}`;
  }

  /** When the hold of member `ref` (see `memberRef`) for a resume ends, in ms of Redis's clock. */
  holdEnds(ref: string): string {
    return `${this.prefix}hold:${ref}`;
  }

  /** Set of the ids of the fleet's processes. */
  servers(): string {
    return `${this.prefix}servers`;
  }

  /** Set while this process lives. */
  alive(): string {
    return `${this.prefix}alive:${this.serverId}`;
  }

  /** Set of the members ("participant id\nroom") this process holds. */
  held(): string {
    return `${this.prefix}srv:${this.serverId}`;
  }

  /** The epoch of the Redis data: "<uuid> <start ms>". */
  epoch(): string {
    return `${this.prefix}epoch`;
  }

  /** The fleet's shared resume key. */
  resumeKey(): string {
    return `${this.prefix}resume-key`;
  }
}
