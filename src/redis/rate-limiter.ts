/**
 * `RedisRateLimiter`: at most `limit` acquisitions per sliding `windowMs`, across processes.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import { TimeoutError } from "../errors.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { checkCount, describe } from "../internal/validate.js";
import { checkName, connectionConfig, type Link, newOwnerId, type RedisConnectionOptions, releaseLink, takeLink } from "./connection.js";
import { type AttemptReply, callFuture, type RedisAcquireOptions, settle, startAcquire, TIMED_OUT, until } from "./lease.js";
import { RATE_ACQUIRE } from "./scripts.js";

/** Options of `new RedisRateLimiter()`. */
export interface RedisRateLimiterOptions extends RedisConnectionOptions {
  /** The limiter's name: every RedisRateLimiter of this name shares the budget. */
  name: string;
  /** Acquisitions allowed per window (an integer >= 1). Every user of a name must give the same numbers. */
  limit: number;
  /** The sliding window, in ms (an integer >= 1). */
  windowMs: number;
}

/** Counters of a {@link RedisRateLimiter}. */
export interface RedisRateLimiterStatistics {
  /** Attempts sent to Redis. */
  attempts: number;
  /** Acquisitions allowed. */
  allowed: number;
  /** Times an acquire had to wait for the window to move. */
  waits: number;
}

/**
 * A rate limiter in Redis: at most `limit` acquisitions in any `windowMs` (a sliding window log
 * kept in a sorted set, timed by Redis's clock), shared by every process using the name. `acquire()`
 * waits until it is allowed: it sleeps exactly until the oldest acquisition leaves the window (the
 * script says when), then tries again — no polling in between. A cancellation point with
 * `{ signal, timeout }`; an acquire cancelled while its attempt is in flight gives the slot back.
 * Fairness among waiters is best-effort.
 * @example
 * ```ts
 * // needs: redis
 * import { RedisRateLimiter } from "tsaio/redis";
 * await using limiter = new RedisRateLimiter({ name: "github-api", limit: 2, windowMs: 200, keyPrefix: "tsaio-example:" });
 * const t0 = performance.now();
 * for (let i = 0; i < 4; i++) await limiter.acquire(); // the 3rd waits for the window to move
 * console.log(performance.now() - t0 >= 190); // true
 * ```
 */
export class RedisRateLimiter implements AsyncDisposable {
  /** The limiter's name. */
  readonly name: string;
  /** Acquisitions allowed per window. */
  readonly limit: number;
  /** The window, in ms. */
  readonly windowMs: number;
  /** @internal */ readonly _link: Link;
  /** @internal */ readonly _key: string;
  /** @internal */ readonly _stats: RedisRateLimiterStatistics = { attempts: 0, allowed: 0, waits: 0 };
  /** @internal */ _waiting = 0;
  /** @internal */ _closed = false;

  constructor(options: RedisRateLimiterOptions) {
    if (options === null || typeof options !== "object") throw new TypeError(`RedisRateLimiter: \`options\` must be an object with \`name\`, \`limit\` and \`windowMs\`, got ${describe(options)}`);
    checkName(options.name, "RedisRateLimiter");
    checkCount(options.limit, "RedisRateLimiter", "limit", 1);
    checkCount(options.windowMs, "RedisRateLimiter", "windowMs", 1);
    const config = connectionConfig(options, "RedisRateLimiter");
    this.name = options.name;
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this._key = `${config.keyPrefix}rate:{${options.name}}`;
    this._link = takeLink(config);
  }

  /**
   * Waits until one more acquisition is allowed and takes it. A cancellation point; `signal` →
   * `CancelledError`, `timeout` (ms) → `TimeoutError`; Redis unreachable for `connectTimeout` →
   * `RedisUnavailableError`.
   */
  async acquire(options?: RedisAcquireOptions): Promise<void> {
    const { signal, deadline } = startAcquire(options, "RedisRateLimiter", "acquire");
    const what = "RedisRateLimiter.acquire";
    if (this._closed) throw new Error(`${what}: ${JSON.stringify(this.name)} is closed`);
    const loop = runningLoop();
    const owner = newOwnerId();
    let inflight: Promise<AttemptReply> | null = null;
    this._waiting++;
    try {
      for (;;) {
        this._stats.attempts++;
        const p = this._link.call(what, (c) => this._link.evalScript<AttemptReply>(c, RATE_ACQUIRE, [this._key], [owner, this.limit, this.windowMs]));
        inflight = p;
        const r = await callFuture(loop, p, signal, deadline);
        if (r === TIMED_OUT) throw this._timedOut(options);
        inflight = null;
        if (r[0] === 1) {
          this._stats.allowed++;
          return;
        }
        this._stats.waits++;
        const retryIn = Math.max(1, r[1]);
        const w = await until<true>(loop, signal, deadline, (fut) => {
          const timer = setTimeout(() => settle(fut, true), retryIn);
          return () => clearTimeout(timer);
        });
        if (w === TIMED_OUT) throw this._timedOut(options);
      }
    } catch (e) {
      if (inflight !== null) this._giveBack(inflight, owner);
      throw e;
    } finally {
      this._waiting--;
    }
  }

  /** Counters: attempts, acquisitions allowed, waits. */
  statistics(): RedisRateLimiterStatistics {
    return { ...this._stats };
  }

  /** Drops its connections (shared ones close with their last user). Acquires still waiting fail. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    releaseLink(this._link);
  }

  /** `await using` support: `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal An abandoned attempt that was allowed gives its slot back. */
  _giveBack(attempt: Promise<AttemptReply>, owner: string): void {
    attempt.then(
      (r) => {
        if (r[0] !== 1 || this._link.closed) return;
        this._link
          .call("RedisRateLimiter.acquire", (c) => c.zrem(this._key, owner))
          .catch(() => {
            // Unreachable: the slot is used, and leaves the window by itself.
          });
      },
      () => {
        // The attempt failed: it took nothing.
      },
    );
  }

  /** @internal */
  _timedOut(options: RedisAcquireOptions | undefined): TimeoutError {
    return new TimeoutError(`RedisRateLimiter.acquire: ${JSON.stringify(this.name)} did not allow an acquisition within ${options?.timeout} ms`);
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    return `<RedisRateLimiter ${o.redact ? "" : `${JSON.stringify(this.name)} `}${this.limit}/${this.windowMs}ms${this._waiting > 0 ? ` waiters=${this._waiting}` : ""}${this._closed ? " closed" : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}
