/**
 * The Lua scripts of `tsaio/redis`. Each one is idempotent for its caller: an attempt names a random
 * owner id, and an attempt that finds its own owner already there (it ran before the connection died
 * and is retried) answers as the first run did. Keys of one primitive share a `{hash tag}`, so a
 * script's keys stay in one Redis Cluster slot.
 *
 * Internal: not part of the package's public API.
 * @module
 */
import { createHash } from "node:crypto";
import type { Script } from "./connection.js";

function s(lua: string): Script {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/**
 * Lock acquire. KEYS: lease, fence counter. ARGV: owner, leaseMs. The lease's value is
 * `<token>:<owner>`; the token is INCR of the fence counter, issued in the same round trip.
 * Returns {1, token} or {0, ms left on the holder's lease}.
 */
export const LOCK_ACQUIRE = s(`
local v = redis.call('GET', KEYS[1])
if v then
  local sep = string.find(v, ':', 1, true)
  if string.sub(v, sep + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(string.sub(v, 1, sep - 1))}
  end
  return {0, redis.call('PTTL', KEYS[1])}
end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], t .. ':' .. ARGV[1], 'PX', ARGV[2])
return {1, t}
`);

/** Lock renew. KEYS: lease. ARGV: value, leaseMs. 1 if the lease is still this one. */
export const LOCK_RENEW = s(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** Lock release. KEYS: lease. ARGV: value, channel. Deletes and publishes only if the lease is still this one. */
export const LOCK_RELEASE = s(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0
`);

const NOW = `
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
`;

/**
 * Semaphore acquire. KEYS: holders (a sorted set: member `<token>:<owner>`, score its expiry on
 * Redis's clock), fence counter. ARGV: owner, leaseMs, limit. Expired holders are dropped first.
 * Returns {1, token} or {0, ms until the first holder's lease runs out}.
 */
export const SEM_ACQUIRE = s(`${NOW}
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local suffix = ':' .. ARGV[1]
for _, m in ipairs(members) do
  if string.sub(m, -#suffix) == suffix then
    redis.call('ZADD', KEYS[1], now + lease, m)
    if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
    return {1, tonumber(string.sub(m, 1, #m - #suffix))}
  end
end
if #members < tonumber(ARGV[3]) then
  local t = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now + lease, t .. suffix)
  if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
  return {1, t}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now}
`);

/** Semaphore renew. KEYS: holders. ARGV: member, leaseMs. 1 if the member still holds an unexpired permit. */
export const SEM_RENEW = s(`${NOW}
local lease = tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[1])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return 1
`);

/** Semaphore release. KEYS: holders. ARGV: member, channel. Publishes when it removed the member. */
export const SEM_RELEASE = s(`
local n = redis.call('ZREM', KEYS[1], ARGV[1])
if n == 1 then redis.call('PUBLISH', ARGV[2], 'released') end
return n
`);

/**
 * Rate limiter (a sliding window log). KEYS: log (a sorted set: member an acquisition's owner id,
 * score its time on Redis's clock). ARGV: owner, limit, windowMs. Returns {1, 0} when allowed (the
 * acquisition is logged), else {0, ms until the oldest entry leaves the window}.
 */
export const RATE_ACQUIRE = s(`
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + tonumber(tm[2]) / 1000
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {1, 0} end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window))
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.ceil(tonumber(first[2]) + window - now)}
`);
