/**
 * Room membership shared by a fleet of signaling processes through one Redis server (keys: redis-keys.ts,
 * the atomic steps: redis-scripts.ts).
 *
 * Processes announce themselves: each refreshes its alive key (expiring after `fleetTimeoutMs`) every
 * `fleetHeartbeatMs`, and records the members it holds. Every heartbeat also sweeps: a process whose alive
 * key expired is dead, and one script moves its members to the sweeper, so exactly one survivor adopts
 * them and holds each for the resume grace, as it would a dropped connection of its own: their clients
 * resume on another process with no leave seen; whoever is not back in time is removed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ParticipantInfo } from '../lib/protocol/signaling.js';
import { checkParticipantInfo } from '../lib/protocol/signaling-checks.js';
import type { ServerLogger } from './options-serving.js';
import type {
  AddResult,
  HoldResult,
  LostMember,
  MembershipStoreOptions,
  MemberState,
  MembershipStore,
  ResumeGrant,
  ResumeResult,
} from './membership.js';
import { MAX_PARKED, byJoinTime, memberRef } from './membership.js';
import { COMMAND_TIMEOUT_MS, type RedisClient } from './redis-client.js';
import { FleetKeys } from './redis-keys.js';
import { runScript, type ScriptName } from './redis-scripts.js';

/** Options of a {@link RedisMembershipStore}. */
export interface RedisMembershipOptions extends MembershipStoreOptions {
  keyPrefix: string;
  heartbeatMs: number;
  timeoutMs: number;
  logger: ServerLogger;
  /** Most generations kept parked, over the fleet ({@link MAX_PARKED} when left out; tests set fewer). */
  maxParked?: number;
}

/** Membership shared by every process of a fleet through Redis. */
export class RedisMembershipStore implements MembershipStore {
  /** This process's id in the fleet. */
  readonly serverId = randomUUID();
  readonly #keys: FleetKeys;
  readonly #client: RedisClient;
  readonly #o: RedisMembershipOptions;
  readonly #lostListeners: Array<(lost: LostMember[]) => void> = [];
  readonly #evictedListeners: Array<() => void> = [];
  readonly #timer: NodeJS.Timeout;
  #beating: Promise<void> = Promise.resolve();
  #beats = 0;
  #closed = false;
  /** When each command still waiting for Redis was sent, by call number: the oldest first. */
  readonly #waiting = new Map<number, number>();
  #calls = 0;
  /** The log says Redis has stopped answering (and will say when it answers again). */
  #stallTold = false;

  constructor(client: RedisClient, options: RedisMembershipOptions) {
    this.#client = client;
    this.#o = options;
    this.#keys = new FleetKeys(options.keyPrefix, this.serverId);
    this.#timer = setInterval(() => {
      this.#beating = this.#beat();
    }, options.heartbeatMs);
    this.#timer.unref();
    if (client.isReady) this.#beating = this.#beat();
    client.on('ready', () => {
      if (!this.#closed) this.#beating = this.#beat();
    });
  }

  /**
   * False while Redis is not connected, and while a command has waited longer than
   * {@link COMMAND_TIMEOUT_MS} for its answer: a Redis that is frozen, or cut off by a network that drops
   * its packets, keeps the connection up and takes commands without answering (node-redis's own command
   * timeout ends once a command is written). The heartbeat keeps a command going, so a stall shows within
   * a heartbeat and the timeout.
   */
  get healthy(): boolean {
    if (!this.#client.isReady || this.#closed) return false;
    const oldest = this.#waiting.values().next().value;
    return oldest === undefined || Date.now() - oldest < COMMAND_TIMEOUT_MS;
  }

  async epoch(): Promise<string> {
    const key = this.#keys.epoch();
    const timeout = { timeout: COMMAND_TIMEOUT_MS };
    await this.#tracked(
      this.#client.withCommandOptions(timeout).set(key, `${randomUUID()} ${Date.now()}`, { NX: true }),
    );
    const value = await this.#tracked(this.#client.withCommandOptions(timeout).get(key));
    const epoch = typeof value === 'string' ? value.split(' ')[0] : undefined;
    if (epoch === undefined || epoch.length === 0) throw new Error('no epoch in Redis');
    return epoch;
  }

  async add(room: string, info: ParticipantInfo, maxParticipants: number, gen: string): Promise<AddResult> {
    const r = await this.#run(
      'add',
      [this.#keys.room(room), this.#keys.held(), this.#keys.gen(room)],
      [info.id, JSON.stringify(info), String(maxParticipants), memberRef(room, info.id), gen],
    );
    if (r === 'ok' || r === 'RoomFull' || r === 'IdInUse') return r;
    throw new Error(`unexpected add reply ${String(r)}`);
  }

  async get(room: string, id: string): Promise<MemberState | undefined> {
    const r = await this.#run(
      'get',
      [this.#keys.room(room), this.#keys.enabled(room), this.#keys.held()],
      [id, memberRef(room, id)],
    );
    if (!Array.isArray(r)) return undefined;
    const info = parseInfo(r[0]);
    return info === undefined ? undefined : { info, enabled: r[1] === 1, here: r[2] === 1 };
  }

  async enable(room: string, id: string): Promise<{ changed: boolean; peers: ParticipantInfo[] } | undefined> {
    const r = await this.#run('enable', [this.#keys.room(room), this.#keys.enabled(room), this.#keys.gen(room)], [id]);
    if (!Array.isArray(r)) return undefined;
    const peers = r
      .slice(1)
      .map(parseInfo)
      .filter((p): p is ParticipantInfo => p !== undefined)
      .sort(byJoinTime);
    return { changed: r[0] === 1, peers };
  }

  async disable(room: string, id: string): Promise<{ changed: boolean; peers: string[] }> {
    const r = await this.#run('disable', [this.#keys.enabled(room)], [id]);
    const list = Array.isArray(r) ? r : [0];
    return { changed: list[0] === 1, peers: list.slice(1).map(String) };
  }

  remove(room: string, id: string, park: boolean): Promise<{ existed: boolean; peers: string[] }> {
    // Only while this process has it: a goodbye on a stale connection of this process must not remove a
    // member that resumed on another (the one-process store has every member).
    return this.#remove(room, id, park);
  }

  async #remove(room: string, id: string, park: boolean): Promise<{ existed: boolean; peers: string[] }> {
    const ref = memberRef(room, id);
    const r = await this.#run(
      'removeIfOurs',
      [
        this.#keys.room(room),
        this.#keys.enabled(room),
        this.#keys.held(),
        this.#keys.gen(room),
        this.#keys.parked(ref),
        this.#keys.parkedIndex(),
      ],
      [id, ref, park ? '1' : '0', String(this.#o.parkMs), String(this.#o.maxParked ?? MAX_PARKED)],
    );
    const list = Array.isArray(r) ? r : [0];
    return { existed: list[0] === 1, peers: list.slice(1).map(String) };
  }

  async resume(
    room: string,
    info: ParticipantInfo,
    maxParticipants: number,
    enabled: boolean,
    grant: ResumeGrant,
  ): Promise<ResumeResult> {
    const ref = memberRef(room, info.id);
    const keys = [
      this.#keys.room(room),
      this.#keys.enabled(room),
      this.#keys.servers(),
      this.#keys.held(),
      this.#keys.gen(room),
      this.#keys.parked(ref),
      this.#keys.adopted(ref),
      this.#keys.epoch(),
      this.#keys.parkedIndex(),
    ];
    const nowMs = Date.now();
    const r = await this.#run('resume', keys, [
      info.id,
      JSON.stringify(info),
      String(maxParticipants),
      ref,
      enabled ? '1' : '0',
      this.#o.keyPrefix,
      grant.gen,
      grant.epoch,
      grant.next,
      String(nowMs),
      String(this.#o.restartWindowMs),
      `${randomUUID()} ${nowMs}`,
    ]);
    if (Array.isArray(r) && r[0] === 'Stale') return { result: 'Stale' };
    if (!Array.isArray(r) || r[0] === 'RoomFull') return { result: 'RoomFull' };
    const result = r[0] === 'created' ? 'created' : 'resumed';
    const peers = r
      .slice(2)
      .map(parseInfo)
      .filter((p): p is ParticipantInfo => p !== undefined)
      .sort(byJoinTime);
    return { result, changed: r[1] === 1, peers };
  }

  removeIfHeld(room: string, id: string): Promise<{ existed: boolean; peers: string[] }> {
    return this.#remove(room, id, true);
  }

  async hold(room: string, id: string): Promise<HoldResult> {
    const ref = memberRef(room, id);
    const r = await this.#run(
      'hold',
      [this.#keys.enabled(room), this.#keys.gen(room), this.#keys.holdEnds(ref), this.#keys.held()],
      [id, String(this.#o.holdMs), ref],
    );
    const [left, ...peers]: unknown[] = Array.isArray(r) ? (r as unknown[]) : [];
    const leftMs = Number(left);
    if (leftMs === -1) return { peers: [], leftMs: 0, elsewhere: true };
    return {
      peers: peers.map(String),
      leftMs: Number.isFinite(leftMs) ? Math.min(Math.max(0, leftMs), this.#o.holdMs) : this.#o.holdMs,
    };
  }

  /**
   * The fleet's shared resume key: the first process to ask creates it, every process gets the same.
   * It lives as long as the Redis data.
   */
  async sharedResumeKey(): Promise<Uint8Array> {
    const key = this.#keys.resumeKey();
    await this.#client.set(key, randomBytes(32).toString('hex'), { NX: true });
    const value = await this.#client.get(key);
    if (typeof value !== 'string' || value.length < 64) throw new Error('no resume key in Redis');
    return new Uint8Array(Buffer.from(value, 'hex'));
  }

  onLost(listener: (lost: LostMember[]) => void): void {
    this.#lostListeners.push(listener);
  }

  onEvicted(listener: () => void): void {
    this.#evictedListeners.push(listener);
  }

  /**
   * Stops the heartbeat and deletes this process's alive key, and nothing else: its member set stays, so
   * the next sweep of any survivor (within its `fleetHeartbeatMs`) adopts them all. When Redis cannot be
   * told, the alive key runs out by itself and the fleet adopts them after `fleetTimeoutMs`, as it does the
   * members of a process that died: either way they are the fleet's now.
   */
  // handOver and close wait for Redis at most COMMAND_TIMEOUT_MS in all: a Redis that is frozen (or cut off
  // by a network that drops packets) never answers, and node-redis's own command timeout ends once a
  // command is written; a process closing waited for it for good, deaf to a second SIGTERM. What they could
  // not do there, the fleet does by itself: the process's alive key expires and another adopts its members.
  async handOver(): Promise<boolean> {
    if (this.#closed) return false;
    this.#closed = true;
    clearInterval(this.#timer);
    await settledWithin(
      (async () => {
        await this.#beating;
        if (this.#client.isReady) await this.#tracked(this.#client.del(this.#keys.alive()));
      })(),
      COMMAND_TIMEOUT_MS,
    );
    return true;
  }

  async close(): Promise<void> {
    if (this.#closed) return; // also after handOver: the members stay for the fleet
    this.#closed = true;
    clearInterval(this.#timer);
    await settledWithin(
      (async () => {
        await this.#beating;
        if (this.#client.isReady)
          await this.#run('leave', [this.#keys.servers(), this.#keys.alive(), this.#keys.held()], [this.serverId]);
      })(),
      COMMAND_TIMEOUT_MS,
    );
  }

  async #beat(): Promise<void> {
    if (this.#closed || !this.#client.isReady) return;
    if (!this.healthy && !this.#stallTold) {
      this.#stallTold = true;
      this.#o.logger.warn(
        { waitingMs: COMMAND_TIMEOUT_MS },
        'redis has not answered a command in time: not ready, refusing requests until it does',
      );
    }
    try {
      const dropped = await this.#run(
        'heartbeat',
        [this.#keys.alive(), this.#keys.servers()],
        [this.serverId, String(this.#o.timeoutMs)],
      );
      if (dropped === 1 && this.#beats > 0) {
        // Others took this process for dead (it was frozen, or Redis lost its data) and removed its members.
        this.#o.logger.error(
          { server: this.serverId },
          'this process was dropped from the fleet; disconnecting its clients',
        );
        for (const l of this.#evictedListeners) l();
      }
      this.#beats++;
      await this.#sweep();
    } catch (err) {
      this.#o.logger.warn({ err: { message: (err as Error).message } }, 'fleet heartbeat failed');
    }
  }

  async #sweep(): Promise<void> {
    const r = await this.#run('sweep', [this.#keys.servers(), this.#keys.held()], [this.#o.keyPrefix]);
    if (!Array.isArray(r) || r.length === 0) return;
    const lost: LostMember[] = [];
    for (let i = 0; i + 1 < r.length; i += 2) lost.push({ room: String(r[i]), id: String(r[i + 1]) });
    this.#o.logger.warn({ members: lost.length }, 'adopted the participants of a dead process: held for a resume');
    for (const l of this.#lostListeners) l(lost);
  }

  #run(name: ScriptName, keys: string[], args: string[]): Promise<unknown> {
    return this.#tracked(runScript(this.#client, name, keys, args));
  }

  /** `command`, counted among those waiting for Redis until it settles (see {@link healthy}). */
  #tracked<T>(command: Promise<T>): Promise<T> {
    const call = this.#calls++;
    this.#waiting.set(call, Date.now());
    return command.finally(() => {
      this.#waiting.delete(call);
      if (this.#stallTold && this.healthy) {
        this.#stallTold = false;
        this.#o.logger.info({}, 'redis answers again');
      }
    });
  }
}

function parseInfo(v: unknown): ParticipantInfo | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const checked = checkParticipantInfo(JSON.parse(v));
    return checked.ok ? checked.value : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects, never holds the process. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms).unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
