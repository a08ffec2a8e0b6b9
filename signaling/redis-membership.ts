/**
 * Room membership shared by a fleet of signaling processes through one Redis server. Each step that must
 * hold across the fleet (the room cap, enabling and the list of peers it returns, removal) is one Lua
 * script, so Redis runs it atomically.
 *
 * Processes announce themselves: each refreshes `alive:<server id>` (expiring after `fleetTimeoutMs`)
 * every `fleetHeartbeatMs`, and records the members it holds in `srv:<server id>`. Every heartbeat also
 * sweeps: a process whose alive key expired is dead, and one script moves its members to the sweeper, so
 * exactly one survivor adopts them and holds each for the resume grace, as it would a dropped connection of
 * its own: their clients resume on another process with no leave seen; whoever is not back in time is removed. Keys (all under the prefix): `room:<room>` (hash id → info
 * JSON), `enabled:<room>` (set of ids), `gen:<room>` (hash id → "generation previous held(0|1)" of its
 * resume tokens), `servers` (set of server ids), `alive:<id>`, `srv:<id>` (set of "participant id\nroom"),
 * `parked:<id\nroom>` (the generation of a member removed without a goodbye, expiring with the token
 * lifetime), `adopted:<id\nroom>` (taken back with a token of an earlier epoch, for the restart window) and
 * `epoch` ("<uuid> <start ms>", set when missing: a Redis that lost its data starts a new epoch). Why the
 * generations: signaling/resume.ts. Standalone Redis only: the sweep touches keys it discovers (no Cluster).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import type { ParticipantInfo } from '../lib/protocol/signaling.js';
import { checkParticipantInfo } from '../lib/protocol/signaling-checks.js';
import type { ServerLogger } from './options-serving.js';
import type {
  AddResult,
  LostMember,
  MembershipStoreOptions,
  MemberState,
  MembershipStore,
  ResumeGrant,
  ResumeResult,
} from './membership.js';
import { byJoinTime, memberRef } from './membership.js';

/** How long one store command may take before the request fails with `Unavailable`. */
const COMMAND_TIMEOUT_MS = 3000;
/** Most commands queued by the adapter's stream readers while Redis is away. */
const QUEUE_MAX_LENGTH = 10_000;

/** A Redis client as the store and the socket.io adapter use it. */
export type RedisClient = RedisClientType;

/**
 * Creates and starts connecting a client (it keeps retrying; `isReady` says when it can be used).
 * Commands fail at once while Redis is away instead of queueing, so requests get `Unavailable` quickly
 * and memory stays bounded; the copies the socket.io adapter makes for its blocking stream reads do
 * queue, because the adapter re-issues a failed read at once and would spin otherwise.
 */
export function connectRedis(url: string, logger: ServerLogger): RedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: QUEUE_MAX_LENGTH,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  }) as RedisClient;
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (overrides?: object) => duplicate({ ...overrides, disableOfflineQueue: false });
  let up = false;
  // The URL may hold a password: it is never logged.
  client.on('error', (err: Error) => {
    if (up) logger.warn({ err: { message: err.message } }, 'redis connection error');
    up = false;
  });
  client.on('ready', () => {
    up = true;
    logger.info({}, 'redis ready');
  });
  client.connect().catch((err: Error) => logger.error({ err: { message: err.message } }, 'redis connect failed'));
  return client;
}

/**
 * Removes a member: KEYS room hash, enabled set, server's member set, generation hash, parked key; ARGV id,
 * member ref, '1' to park its generation (no goodbye) or '0', park ms. Returns {existed, ids to tell...}.
 */
const REMOVE = `
local out = {redis.call('HDEL', KEYS[1], ARGV[1])}
local gen = redis.call('HGET', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if out[1] == 1 and ARGV[3] == '1' and gen then redis.call('SET', KEYS[5], string.match(gen, '^%S+'), 'PX', ARGV[4]) end
local wasEnabled = redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[2])
if wasEnabled == 1 then
  for _, pid in ipairs(redis.call('SMEMBERS', KEYS[2])) do table.insert(out, pid) end
end
return out`;

/** Appends to `out` the info of each enabled member (KEYS[2]) of the room (KEYS[1]) but ARGV[1], and returns it. */
const APPEND_OTHER_ENABLED_INFOS = `
for _, pid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if pid ~= ARGV[1] then
    local info = redis.call('HGET', KEYS[1], pid)
    if info then table.insert(out, info) end
  end
end
return out`;

const SCRIPTS = {
  // KEYS: room hash, server's member set, generation hash. ARGV: id, info JSON, max (0: none), member ref, generation.
  add: `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'IdInUse' end
local max = tonumber(ARGV[3])
if max > 0 and redis.call('HLEN', KEYS[1]) >= max then return 'RoomFull' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5] .. ' - 0')
redis.call('SADD', KEYS[2], ARGV[4])
return 'ok'`,
  // KEYS: room hash, enabled set. ARGV: id.
  get: `
local info = redis.call('HGET', KEYS[1], ARGV[1])
if not info then return false end
return {info, redis.call('SISMEMBER', KEYS[2], ARGV[1])}`,
  // KEYS: room hash, enabled set. ARGV: id. Returns {changed, info of each other enabled member...}.
  enable: `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local out = {redis.call('SADD', KEYS[2], ARGV[1])}
${APPEND_OTHER_ENABLED_INFOS}`,
  // KEYS: enabled set. ARGV: id. Returns {changed, ids of the enabled members left...}.
  disable: `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return {0} end
local out = {1}
for _, pid in ipairs(redis.call('SMEMBERS', KEYS[1])) do table.insert(out, pid) end
return out`,
  // KEYS and ARGV: as REMOVE's.
  remove: REMOVE,
  // KEYS: room hash, enabled set, servers set, this server's member set, generation hash, parked key, adopted
  // key, epoch key. ARGV: id, info JSON, max (0: none), member ref, '1' to enable or '0', key prefix, token
  // generation, token epoch, next generation, now ms, restart window ms, epoch value to set when missing.
  // Checks the token's generation (see signaling/resume.ts), takes the member over from whichever process
  // held it (or adds it back), rotates its generation, sets its messaging state. Returns {'RoomFull'},
  // {'Stale'} or {result, changed, info of each other enabled member...}.
  resume: `
redis.call('SET', KEYS[8], ARGV[12], 'NX')
local result = 'resumed'
local prev = ARGV[7]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  local parked = redis.call('GET', KEYS[6])
  if parked then
    if parked ~= ARGV[7] then return {'Stale'} end
  else
    local epoch, started = string.match(redis.call('GET', KEYS[8]), '^(%S+) (%d+)$')
    if ARGV[8] == epoch or tonumber(ARGV[10]) - tonumber(started) > tonumber(ARGV[11]) then return {'Stale'} end
    if redis.call('EXISTS', KEYS[7]) == 1 then return {'Stale'} end
  end
  local max = tonumber(ARGV[3])
  if max > 0 and redis.call('HLEN', KEYS[1]) >= max then return {'RoomFull'} end
  if parked then redis.call('DEL', KEYS[6]) else redis.call('SET', KEYS[7], '1', 'PX', math.max(1, tonumber(ARGV[11]))) end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  result = 'created'
else
  local gen, before, held = string.match(redis.call('HGET', KEYS[5], ARGV[1]) or '', '^(%S+) (%S+) (%S+)$')
  if ARGV[7] ~= gen and not (held == '1' and ARGV[7] == before) then return {'Stale'} end
  prev = gen
  for _, sid in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('SREM', ARGV[6] .. 'srv:' .. sid, ARGV[4]) end
end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[9] .. ' ' .. prev .. ' 0')
redis.call('SADD', KEYS[4], ARGV[4])
local changed
if ARGV[5] == '1' then changed = redis.call('SADD', KEYS[2], ARGV[1]) else changed = redis.call('SREM', KEYS[2], ARGV[1]) end
local out = {result, changed}
${APPEND_OTHER_ENABLED_INFOS}`,
  // KEYS and ARGV: as REMOVE's. Like remove, but only when this process still holds the member.
  removeIfHeld: `
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then return {0} end${REMOVE}`,
  // KEYS: enabled set, generation hash. ARGV: id. Marks the member held; the other enabled members, when
  // this one is enabled.
  hold: `
local gen = redis.call('HGET', KEYS[2], ARGV[1])
if gen then redis.call('HSET', KEYS[2], ARGV[1], string.sub(gen, 1, -2) .. '1') end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return {} end
local out = {}
for _, pid in ipairs(redis.call('SMEMBERS', KEYS[1])) do if pid ~= ARGV[1] then table.insert(out, pid) end end
return out`,
  // KEYS: alive key, servers set. ARGV: server id, ttl ms. Returns 1 when this server had been dropped from the fleet.
  heartbeat: `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return redis.call('SADD', KEYS[2], ARGV[1])`,
  // KEYS: servers set, this server's member set. ARGV: key prefix. Adopts the members of every server whose
  // alive key is gone: each moves to this server's member set, so that this process holds it for the resume
  // grace (and a later sweep adopts it again if this process dies too). Returns {room, id, ...} for each.
  sweep: `
local p = ARGV[1]
local out = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', p .. 'alive:' .. sid) == 0 then
    for _, ref in ipairs(redis.call('SMEMBERS', p .. 'srv:' .. sid)) do
      local cut = string.find(ref, '\\n', 1, true)
      redis.call('SADD', KEYS[2], ref)
      table.insert(out, string.sub(ref, cut + 1))
      table.insert(out, string.sub(ref, 1, cut - 1))
    end
    redis.call('DEL', p .. 'srv:' .. sid)
    redis.call('SREM', KEYS[1], sid)
  end
end
return out`,
  // KEYS: servers set, alive key, server's member set. ARGV: server id. A clean leave.
  leave: `
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return 1`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
const SHAS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([k, v]) => [k, createHash('sha1').update(v).digest('hex')]),
) as Record<ScriptName, string>;

/** Options of a {@link RedisMembershipStore}. */
export interface RedisMembershipOptions extends MembershipStoreOptions {
  keyPrefix: string;
  heartbeatMs: number;
  timeoutMs: number;
  logger: ServerLogger;
}

/** Membership shared by every process of a fleet through Redis. */
export class RedisMembershipStore implements MembershipStore {
  /** This process's id in the fleet. */
  readonly serverId = randomUUID();
  readonly #client: RedisClient;
  readonly #o: RedisMembershipOptions;
  readonly #lostListeners: Array<(lost: LostMember[]) => void> = [];
  readonly #evictedListeners: Array<() => void> = [];
  readonly #timer: NodeJS.Timeout;
  #beating: Promise<void> = Promise.resolve();
  #beats = 0;
  #closed = false;

  constructor(client: RedisClient, options: RedisMembershipOptions) {
    this.#client = client;
    this.#o = options;
    this.#timer = setInterval(() => {
      this.#beating = this.#beat();
    }, options.heartbeatMs);
    this.#timer.unref();
    if (client.isReady) this.#beating = this.#beat();
    client.on('ready', () => {
      if (!this.#closed) this.#beating = this.#beat();
    });
  }

  get healthy(): boolean {
    return this.#client.isReady && !this.#closed;
  }

  async epoch(): Promise<string> {
    const key = this.#k('epoch');
    const timeout = { timeout: COMMAND_TIMEOUT_MS };
    await this.#client.withCommandOptions(timeout).set(key, `${randomUUID()} ${Date.now()}`, { NX: true });
    const value = await this.#client.withCommandOptions(timeout).get(key);
    const epoch = typeof value === 'string' ? value.split(' ')[0] : undefined;
    if (epoch === undefined || epoch.length === 0) throw new Error('no epoch in Redis');
    return epoch;
  }

  async add(room: string, info: ParticipantInfo, maxParticipants: number, gen: string): Promise<AddResult> {
    const r = await this.#run(
      'add',
      [this.#k('room:', room), this.#srvKey(), this.#k('gen:', room)],
      [info.id, JSON.stringify(info), String(maxParticipants), memberRef(room, info.id), gen],
    );
    if (r === 'ok' || r === 'RoomFull' || r === 'IdInUse') return r;
    throw new Error(`unexpected add reply ${String(r)}`);
  }

  async get(room: string, id: string): Promise<MemberState | undefined> {
    const r = await this.#run('get', [this.#k('room:', room), this.#k('enabled:', room)], [id]);
    if (!Array.isArray(r)) return undefined;
    const info = parseInfo(r[0]);
    return info === undefined ? undefined : { info, enabled: r[1] === 1 };
  }

  async enable(room: string, id: string): Promise<{ changed: boolean; peers: ParticipantInfo[] } | undefined> {
    const r = await this.#run('enable', [this.#k('room:', room), this.#k('enabled:', room)], [id]);
    if (!Array.isArray(r)) return undefined;
    const peers = r
      .slice(1)
      .map(parseInfo)
      .filter((p): p is ParticipantInfo => p !== undefined)
      .sort(byJoinTime);
    return { changed: r[0] === 1, peers };
  }

  async disable(room: string, id: string): Promise<{ changed: boolean; peers: string[] }> {
    const r = await this.#run('disable', [this.#k('enabled:', room)], [id]);
    const list = Array.isArray(r) ? r : [0];
    return { changed: list[0] === 1, peers: list.slice(1).map(String) };
  }

  remove(room: string, id: string, park: boolean): Promise<{ existed: boolean; peers: string[] }> {
    return this.#remove('remove', room, id, park);
  }

  async #remove(
    script: 'remove' | 'removeIfHeld',
    room: string,
    id: string,
    park: boolean,
  ): Promise<{ existed: boolean; peers: string[] }> {
    const ref = memberRef(room, id);
    const r = await this.#run(
      script,
      [
        this.#k('room:', room),
        this.#k('enabled:', room),
        this.#srvKey(),
        this.#k('gen:', room),
        this.#k('parked:', ref),
      ],
      [id, ref, park ? '1' : '0', String(this.#o.parkMs)],
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
      this.#k('room:', room),
      this.#k('enabled:', room),
      this.#k('servers'),
      this.#srvKey(),
      this.#k('gen:', room),
      this.#k('parked:', ref),
      this.#k('adopted:', ref),
      this.#k('epoch'),
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
    return this.#remove('removeIfHeld', room, id, true);
  }

  async hold(room: string, id: string): Promise<string[]> {
    const r = await this.#run('hold', [this.#k('enabled:', room), this.#k('gen:', room)], [id]);
    return Array.isArray(r) ? r.map(String) : [];
  }

  /**
   * The fleet's shared resume key: the first process to ask creates it, every process gets the same.
   * It lives as long as the Redis data.
   */
  async sharedResumeKey(): Promise<Uint8Array> {
    const key = this.#k('resume-key');
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#beating;
    if (this.#client.isReady) {
      await this.#run(
        'leave',
        [this.#k('servers'), this.#k('alive:', this.serverId), this.#srvKey()],
        [this.serverId],
      ).catch(() => {});
    }
  }

  async #beat(): Promise<void> {
    if (this.#closed || !this.#client.isReady) return;
    try {
      const dropped = await this.#run(
        'heartbeat',
        [this.#k('alive:', this.serverId), this.#k('servers')],
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
    const r = await this.#run('sweep', [this.#k('servers'), this.#srvKey()], [this.#o.keyPrefix]);
    if (!Array.isArray(r) || r.length === 0) return;
    const lost: LostMember[] = [];
    for (let i = 0; i + 1 < r.length; i += 2) lost.push({ room: String(r[i]), id: String(r[i + 1]) });
    this.#o.logger.warn({ members: lost.length }, 'adopted the participants of a dead process: held for a resume');
    for (const l of this.#lostListeners) l(lost);
  }

  async #run(name: ScriptName, keys: string[], args: string[]): Promise<unknown> {
    const client = this.#client.withCommandOptions({ timeout: COMMAND_TIMEOUT_MS });
    try {
      return await client.evalSha(SHAS[name], { keys, arguments: args });
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(SCRIPTS[name], { keys, arguments: args });
    }
  }

  #k(kind: string, name = ''): string {
    return `${this.#o.keyPrefix}${kind}${name}`;
  }

  #srvKey(): string {
    return this.#k('srv:', this.serverId);
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
