/**
 * `tsaio/redis`: distributed primitives on Redis with tsaio's semantics — `RedisLock` (a renewed
 * lease with a fencing token, whose possible loss cancels the holding task), `RedisSemaphore` and
 * `RedisRateLimiter`. Needs the optional peer dependency `ioredis`; `import "tsaio"` never loads it.
 * @example
 * ```ts
 * // needs: redis
 * import { timeout } from "tsaio";
 * import { RedisLock } from "tsaio/redis";
 * await using lock = new RedisLock({ name: "index-example", keyPrefix: "tsaio-example:" });
 * const token = await timeout(5000, () => lock.run((lease) => lease.token));
 * console.log(typeof token); // number
 * ```
 * @module
 */
export { RedisUnavailableError, type RedisConnection, type RedisConnectionOptions } from "./connection.js";
export { RedisLease, type RedisAcquireOptions, type RedisLeaseOptions, type RedisLeaseState, type RedisLeaseStatistics } from "./lease.js";
export { RedisLock, type RedisLockOptions } from "./lock.js";
export { RedisSemaphore, type RedisSemaphoreOptions } from "./semaphore.js";
export { RedisRateLimiter, type RedisRateLimiterOptions, type RedisRateLimiterStatistics } from "./rate-limiter.js";
