/**
 * `RedisLock`: a mutual-exclusion lease in Redis, across processes and machines, with a fencing
 * token and tsaio's cancellation semantics. See lease.ts for the lease model (renewal, the local
 * expiry that cancels the holder, waiting by pub/sub).
 * @module
 */
import type { Redis } from "ioredis";
import { InvalidStateError } from "../errors.js";
import type { DescribeOptions } from "../internal/describe.js";
import { checkName } from "./connection.js";
import { type AttemptReply, LeasedPrimitive, leaseConfig, type RedisAcquireOptions, RedisLease, type RedisLeaseOptions } from "./lease.js";
import { LOCK_ACQUIRE, LOCK_RELEASE, LOCK_RENEW } from "./scripts.js";
import { describe } from "../internal/validate.js";

/** Options of `new RedisLock()`. */
export interface RedisLockOptions extends RedisLeaseOptions {
  /** The lock's name: every RedisLock of this name (same Redis, same `keyPrefix`) excludes the others. */
  name: string;
}

/**
 * A lock held in Redis: one holder at a time across every process using the same name. Its lease is
 * renewed in the background; **when it may be lost** (a renewal refused, or none confirmed for
 * `leaseMs − marginMs` — measured locally, so also while Redis is unreachable) the task that
 * acquired it is cancelled with a message saying so, and the lease's `signal` aborts.
 *
 * Each acquisition gets a **fencing token**, strictly increasing per name, issued in the same round
 * trip as the acquire: pass it to the resource you protect, which refuses a token smaller than the
 * largest it has seen — so a holder that was paused past its lease cannot write after the next one.
 *
 * `acquire`, `run` and `hold` are cancellation points and take `{ signal, timeout }`. Waiters sleep
 * until a release message (Redis pub/sub) or the holder's lease runs out; they do not poll. Fairness
 * is best-effort: every waiter woken by a release attempts, the first to reach Redis wins.
 * @example
 * ```ts
 * // needs: redis
 * import { RedisLock } from "tsaio/redis";
 * await using lock = new RedisLock({ name: "nightly-report", keyPrefix: "tsaio-example:", leaseMs: 5000 });
 * const first = await lock.run(async (lease) => {
 *   console.log(lease.state, lock.held()); // held true
 *   return lease.token; // the fencing token: give it to what you write to
 * });
 * const second = await lock.run((lease) => lease.token);
 * console.log(second > first, lock.held()); // true false
 * ```
 */
export class RedisLock extends LeasedPrimitive {
  /** @internal */ readonly _what = "RedisLock";
  /** @internal */ readonly _key: string;
  /** @internal */ readonly _fence: string;
  /** @internal */ readonly _chan: string;
  /** @internal The lease this object holds (until released, also after a loss). */
  _current: RedisLease | null = null;

  constructor(options: RedisLockOptions) {
    if (options === null || typeof options !== "object") throw new TypeError(`RedisLock: \`options\` must be an object with a \`name\`, got ${describe(options)}`);
    checkName(options.name, "RedisLock");
    const config = leaseConfig(options, "RedisLock");
    super(options.name, config);
    const base = `${config.keyPrefix}lock:{${options.name}}`;
    this._key = base;
    this._fence = `${base}:fence`;
    this._chan = `${base}:released`;
  }

  /**
   * Waits until the lock is free and takes it: resolves to the {@link RedisLease} (its `token` is the
   * fencing token). A cancellation point; `signal` cancels the wait (`CancelledError`), `timeout`
   * (ms) ends it with `TimeoutError`; fails with `RedisUnavailableError` when Redis does not answer
   * within `connectTimeout`. Not reentrant: a second acquire by the holder waits.
   */
  acquire(options?: RedisAcquireOptions): Promise<RedisLease> {
    return this._acquire(options, "acquire");
  }

  /** `acquire()`, for `await using lease = await lock.hold()`: the lease is released at scope end. */
  hold(options?: RedisAcquireOptions): Promise<RedisLease> {
    return this._acquire(options, "hold");
  }

  /** Acquires, runs `fn(lease)` in the calling task, and releases however it ends. */
  run<R>(fn: (lease: RedisLease) => R | PromiseLike<R>, options?: RedisAcquireOptions): Promise<Awaited<R>> {
    return this._run(fn, options);
  }

  /**
   * Releases the lease this object holds (also after it was lost: Redis is then left alone unless it
   * still has this very lease). Rejects with `InvalidStateError` if this object holds none.
   */
  release(): Promise<void> {
    const lease = this._current;
    if (lease === null) return Promise.reject(new InvalidStateError(`RedisLock.release: ${JSON.stringify(this.name)} is not held by this RedisLock`));
    return lease.release();
  }

  /** The lease this object holds (`"held"`, or `"lost"` until released), or null. */
  get lease(): RedisLease | null {
    return this._current;
  }

  /** Whether this object holds the lock (its lease is `"held"`). Asks nothing of Redis. */
  held(): boolean {
    return this._current !== null && this._current.state === "held";
  }

  /** @internal */
  get _channel(): string {
    return this._chan;
  }

  /** @internal */
  _attemptScript(c: Redis, owner: string): Promise<AttemptReply> {
    return this._link.evalScript<AttemptReply>(c, LOCK_ACQUIRE, [this._key, this._fence], [owner, this._config.leaseMs]);
  }

  /** @internal */
  _renewScript(c: Redis, lease: RedisLease): Promise<number> {
    return this._link.evalScript<number>(c, LOCK_RENEW, [this._key], [`${lease.token}:${lease._owner}`, this._config.leaseMs]);
  }

  /** @internal */
  _releaseScript(c: Redis, owner: string, token: number): Promise<number> {
    return this._link.evalScript<number>(c, LOCK_RELEASE, [this._key], [`${token}:${owner}`, this._chan]);
  }

  /** @internal */
  override _onAcquired(lease: RedisLease): void {
    this._current = lease;
  }

  /** @internal */
  override _onReleased(lease: RedisLease): void {
    if (this._current === lease) this._current = null;
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    const l = this._current;
    const state = l === null ? "unheld" : `${l.state} token=${l.token}${l.task === null ? "" : ` by ${l.task.name}`}`;
    return `<RedisLock ${o.redact ? "" : `${JSON.stringify(this.name)} `}${state} ${this._stateText()}>`;
  }
}
