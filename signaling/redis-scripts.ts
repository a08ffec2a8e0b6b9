/**
 * The Lua scripts of the Redis membership store, and how they run. Each step that must hold across the
 * fleet (the room cap, enabling and the list of peers it returns, removal, resume, the sweep) is one
 * script, so Redis runs it atomically. The keys each takes are laid out in redis-keys.ts.
 */
import { createHash } from 'node:crypto';
import { COMMAND_TIMEOUT_MS, type RedisClient } from './redis-client.js';

/**
 * Removes a member: KEYS room hash, enabled set, server's member set, generation hash, parked key, parked
 * index; ARGV id, member ref, '1' to park its generation (no goodbye) or '0', park ms, most parked. A parked
 * generation is listed in the index by when it was parked (Redis's clock): those older than the park time
 * leave it, and past the most parked the oldest go, their tokens with them, as in the one-process store.
 * Returns {existed, ids to tell...}.
 */
const REMOVE = `
local out = {redis.call('HDEL', KEYS[1], ARGV[1])}
local gen = redis.call('HGET', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if out[1] == 1 and ARGV[3] == '1' and gen then
  redis.call('SET', KEYS[5], string.match(gen, '^%S+'), 'PX', ARGV[4])
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[6], now, KEYS[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', string.format('%.0f', now - tonumber(ARGV[4])))
  local over = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[5])
  if over > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[6], over)
    for i = 1, #popped, 2 do redis.call('DEL', popped[i]) end
  end
end
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

/** The scripts by name, each with the KEYS and ARGV it takes. */
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
  // KEYS: room hash, enabled set, this server's member set. ARGV: id, member ref. Returns {info, enabled, here}.
  get: `
local info = redis.call('HGET', KEYS[1], ARGV[1])
if not info then return false end
return {info, redis.call('SISMEMBER', KEYS[2], ARGV[1]), redis.call('SISMEMBER', KEYS[3], ARGV[2])}`,
  // KEYS: room hash, enabled set, generation hash. ARGV: id. Returns {changed, info of each other enabled
  // member that is not held (its connection dropped: it is told of this one if it resumes)...}.
  enable: `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local out = {redis.call('SADD', KEYS[2], ARGV[1])}
for _, pid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if pid ~= ARGV[1] and string.sub(redis.call('HGET', KEYS[3], pid) or '', -2) ~= ' 1' then
    local info = redis.call('HGET', KEYS[1], pid)
    if info then table.insert(out, info) end
  end
end
return out`,
  // KEYS: enabled set. ARGV: id. Returns {changed, ids of the enabled members left...}.
  disable: `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return {0} end
local out = {1}
for _, pid in ipairs(redis.call('SMEMBERS', KEYS[1])) do table.insert(out, pid) end
return out`,
  // KEYS: room hash, enabled set, servers set, this server's member set, generation hash, parked key, adopted
  // key, epoch key, parked index. ARGV: id, info JSON, max (0: none), member ref, '1' to enable or '0', key
  // prefix, token generation, token epoch, next generation, now ms, restart window ms, epoch value to set
  // when missing.
  // Checks the token's generation (see signaling/resume.ts), takes the member over from whichever process
  // held it (or adds it back) with its record as given now, rotates its generation, sets its messaging state. Returns {'RoomFull'},
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
  if parked then redis.call('DEL', KEYS[6]); redis.call('ZREM', KEYS[9], KEYS[6]) else redis.call('SET', KEYS[7], '1', 'PX', math.max(1, tonumber(ARGV[11]))) end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  result = 'created'
else
  local gen, before, held = string.match(redis.call('HGET', KEYS[5], ARGV[1]) or '', '^(%S+) (%S+) (%S+)$')
  if ARGV[7] ~= gen and not (held == '1' and ARGV[7] == before) then return {'Stale'} end
  prev = gen
  for _, sid in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('SREM', ARGV[6] .. 'srv:' .. sid, ARGV[4]) end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('HSET', KEYS[5], ARGV[1], ARGV[9] .. ' ' .. prev .. ' 0')
redis.call('SADD', KEYS[4], ARGV[4])
local changed
if ARGV[5] == '1' then changed = redis.call('SADD', KEYS[2], ARGV[1]) else changed = redis.call('SREM', KEYS[2], ARGV[1]) end
local out = {result, changed}
${APPEND_OTHER_ENABLED_INFOS}`,
  // KEYS and ARGV: as REMOVE's. Removes the member only while this process has it: one that resumed on
  // another process is that process's to remove (a goodbye or an expired hold of a stale connection here
  // must not remove it there).
  removeIfOurs: `
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then return {0} end${REMOVE}`,
  // KEYS: enabled set, generation hash, hold-end key, this server's member set. ARGV: id, hold ms, member ref.
  // Marks the member held until hold ms from now (Redis's clock, one for the fleet); a member held already (by
  // a process that went since) keeps its end. Returns {ms left of the hold, the other enabled members when
  // this one is enabled...}; or {-1} when this server no longer has the member (it resumed on another
  // process, whose connection stands for it now: a stale connection of this one closing must not hold it).
  hold: `
if redis.call('SISMEMBER', KEYS[4], ARGV[3]) == 0 then return {-1} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local left = tonumber(ARGV[2])
local gen = redis.call('HGET', KEYS[2], ARGV[1])
local ends = gen and string.sub(gen, -2) == ' 1' and tonumber(redis.call('GET', KEYS[3]) or '')
if ends then
  left = math.max(0, ends - now)
else
  if gen then redis.call('HSET', KEYS[2], ARGV[1], string.sub(gen, 1, -2) .. '1') end
  redis.call('SET', KEYS[3], string.format('%.0f', now + left), 'PX', string.format('%.0f', left + 60000))
end
local out = {left}
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return out end
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

/** The name of a script of {@link SCRIPTS}. */
export type ScriptName = keyof typeof SCRIPTS;
const SHAS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([k, v]) => [k, createHash('sha1').update(v).digest('hex')]),
) as Record<ScriptName, string>;

/** Runs script `name` by its SHA, sending its text only when Redis does not have it (NOSCRIPT). */
export async function runScript(
  client: RedisClient,
  name: ScriptName,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const c = client.withCommandOptions({ timeout: COMMAND_TIMEOUT_MS });
  try {
    return await c.evalSha(SHAS[name], { keys, arguments: args });
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return c.eval(SCRIPTS[name], { keys, arguments: args });
  }
}
