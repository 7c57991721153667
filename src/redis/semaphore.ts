/**
 * `RedisSemaphore`: N permits shared across processes, each permit a lease (see lease.ts).
 * @module
 */
import type { Redis } from "ioredis";
import type { DescribeOptions } from "../internal/describe.js";
import { checkCount, describe } from "../internal/validate.js";
import { checkName } from "./connection.js";
import { type AttemptReply, LeasedPrimitive, leaseConfig, type RedisAcquireOptions, type RedisLease, type RedisLeaseOptions } from "./lease.js";
import { SEM_ACQUIRE, SEM_RELEASE, SEM_RENEW } from "./scripts.js";

/** Options of `new RedisSemaphore()`. */
export interface RedisSemaphoreOptions extends RedisLeaseOptions {
  /** The semaphore's name. */
  name: string;
  /** How many holders at once (an integer >= 1). Every user of a name must give the same number. */
  permits: number;
}

/**
 * A semaphore in Redis: at most `permits` holders at once across every process using the name. Each
 * permit is a lease with the same model as {@link RedisLock}'s: renewed in the background, and when it
 * may be lost the task that acquired it is cancelled (no later than its local expiry) and its
 * `signal` aborts. Each permit has a fencing token too (strictly increasing per name).
 *
 * `acquire`, `run` and `hold` are cancellation points and take `{ signal, timeout }`; waiters are
 * woken by a release message (pub/sub) or when the first holder's lease runs out; fairness is
 * best-effort. Holders' expiry is measured on Redis's clock (`TIME`), so clients' clocks do not matter.
 * @example
 * ```ts
 * // needs: redis
 * import { gather, sleep } from "tsaio";
 * import { RedisSemaphore } from "tsaio/redis";
 * await using sem = new RedisSemaphore({ name: "api-slots", permits: 2, keyPrefix: "tsaio-example:" });
 * let inside = 0;
 * let most = 0;
 * const call = () => sem.run(async () => {
 *   most = Math.max(most, ++inside);
 *   await sleep(20);
 *   inside--;
 * });
 * await gather([call, call, call, call, call]);
 * console.log(most); // 2
 * ```
 */
export class RedisSemaphore extends LeasedPrimitive {
  /** @internal */ readonly _what = "RedisSemaphore";
  /** The number of permits. */
  readonly permits: number;
  /** @internal */ readonly _key: string;
  /** @internal */ readonly _fence: string;
  /** @internal */ readonly _chan: string;

  constructor(options: RedisSemaphoreOptions) {
    if (options === null || typeof options !== "object") throw new TypeError(`RedisSemaphore: \`options\` must be an object with a \`name\` and \`permits\`, got ${describe(options)}`);
    checkName(options.name, "RedisSemaphore");
    checkCount(options.permits, "RedisSemaphore", "permits", 1);
    const config = leaseConfig(options, "RedisSemaphore");
    super(options.name, config);
    this.permits = options.permits;
    const base = `${config.keyPrefix}sem:{${options.name}}`;
    this._key = base;
    this._fence = `${base}:fence`;
    this._chan = `${base}:released`;
  }

  /**
   * Waits for a permit: resolves to its {@link RedisLease} (release it, or `await using`). A
   * cancellation point; `signal` → `CancelledError`, `timeout` (ms) → `TimeoutError`; Redis
   * unreachable for `connectTimeout` → `RedisUnavailableError`.
   */
  acquire(options?: RedisAcquireOptions): Promise<RedisLease> {
    return this._acquire(options, "acquire");
  }

  /** `acquire()`, for `await using permit = await sem.hold()`. */
  hold(options?: RedisAcquireOptions): Promise<RedisLease> {
    return this._acquire(options, "hold");
  }

  /** Acquires a permit, runs `fn(lease)` in the calling task, and releases however it ends. */
  run<R>(fn: (lease: RedisLease) => R | PromiseLike<R>, options?: RedisAcquireOptions): Promise<Awaited<R>> {
    return this._run(fn, options);
  }

  /** Permits this object holds now. Asks nothing of Redis. */
  get held(): number {
    return this._leases.size;
  }

  /** @internal */
  get _channel(): string {
    return this._chan;
  }

  /** @internal */
  _attemptScript(c: Redis, owner: string): Promise<AttemptReply> {
    return this._link.evalScript<AttemptReply>(c, SEM_ACQUIRE, [this._key, this._fence], [owner, this._config.leaseMs, this.permits]);
  }

  /** @internal */
  _renewScript(c: Redis, lease: RedisLease): Promise<number> {
    return this._link.evalScript<number>(c, SEM_RENEW, [this._key], [`${lease.token}:${lease._owner}`, this._config.leaseMs]);
  }

  /** @internal */
  _releaseScript(c: Redis, owner: string, token: number): Promise<number> {
    return this._link.evalScript<number>(c, SEM_RELEASE, [this._key], [`${token}:${owner}`, this._chan]);
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    return `<RedisSemaphore ${o.redact ? "" : `${JSON.stringify(this.name)} `}held=${this._leases.size}/${this.permits} ${this._stateText()}>`;
  }
}
