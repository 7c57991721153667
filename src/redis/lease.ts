/**
 * What `RedisLock` and `RedisSemaphore` share: a lease in Redis renewed in the background, whose
 * possible loss cancels the task that holds it, and the acquire loop (attempt, subscribe, wait for a
 * release message or the holder's expiry, attempt again).
 *
 * ## The lease's local expiry
 * Each renewal (and the acquire itself) is *sent* at a local time `t`; when Redis confirms it, the
 * lease is known to last until at least `t + leaseMs` on Redis's side. The holder is cancelled at
 * `t + leaseMs − marginMs` of the last confirmed renewal — a local timer, armed again by each
 * confirmation, so it fires on time while Redis is unreachable and no reply can come. `marginMs`
 * absorbs the timer's lateness and the time the holder needs to stop. A renewal Redis refuses (the
 * lease is gone: it expired, or someone deleted it) cancels the holder at once.
 *
 * ## Waiting is not polling
 * A failed attempt subscribes to the primitive's channel and attempts once more (a release between
 * the two would otherwise be missed); then it waits for a release message, or until the current
 * holders' lease runs out (the script returns how long that is) in case a holder died without
 * releasing. Every waiter woken by a message attempts again, so the order in which waiters get the
 * lock is not FIFO: fairness is best-effort.
 *
 * Internal: not part of the package's public API (except the classes and types index.ts exports).
 * @module
 */
import { inspect } from "node:util";
import type { Redis } from "ioredis";
import { runningLoop } from "../context.js";
import { CancelledError, TimeoutError } from "../errors.js";
import { cancelOnAbort, Future } from "../futures.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { checkFunction, checkMs, describe } from "../internal/validate.js";
import type { Loop } from "../loop.js";
import { currentTask, type Task } from "../tasks.js";
import { abortedAtStart, startWait } from "../waiters.js";
import { connectionConfig, type ConnectionConfig, type Link, type Listener, newOwnerId, type RedisConnectionOptions, releaseLink, takeLink } from "./connection.js";

/** Options of `acquire`, `run` and `hold`. */
export interface RedisAcquireOptions {
  /** Aborting it cancels the wait: the call rejects with `CancelledError`. */
  signal?: AbortSignal;
  /** Give up after this many ms: the call rejects with `TimeoutError`. Default: wait as long as it takes. */
  timeout?: number;
}

/** Options of the leased primitives (`RedisLock`, `RedisSemaphore`). */
export interface RedisLeaseOptions extends RedisConnectionOptions {
  /** How long a lease lasts in Redis without renewal. Default 10,000 ms. */
  leaseMs?: number;
  /** How often the holder renews it. Default `leaseMs / 3`. */
  renewEveryMs?: number;
  /** The holder is cancelled `marginMs` before the lease could expire in Redis. Default `leaseMs / 10`. */
  marginMs?: number;
}

/** Counters of a leased primitive, for monitoring and for the tests that show waiters do not poll. */
export interface RedisLeaseStatistics {
  /** Acquire attempts sent to Redis. */
  attempts: number;
  /** Leases acquired. */
  acquired: number;
  /** Waits ended by a release message. */
  wakeups: number;
  /** Waits ended by the holder's lease running out (no message came). */
  expiryRetries: number;
  /** Renewals confirmed. */
  renewals: number;
  /** Leases lost (holders cancelled). */
  lost: number;
}

/** The state of a {@link RedisLease}. */
export type RedisLeaseState = "held" | "lost" | "released";

const TIMED_OUT: unique symbol = Symbol("timed out");
const RESOLVED: Promise<void> = Promise.resolve();

/** @internal The checked lease options. */
export interface LeaseConfig extends ConnectionConfig {
  leaseMs: number;
  renewEveryMs: number;
  marginMs: number;
}

function checkPositiveMs(v: unknown, fn: string, arg: string): asserts v is number | undefined {
  if (v === undefined) return;
  if (typeof v !== "number") throw new TypeError(`${fn}: \`${arg}\` must be a number of milliseconds, got ${describe(v)}`);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${fn}: \`${arg}\` must be a finite number > 0 milliseconds, got ${v}`);
}

/** @internal Checks the options of a leased primitive. */
export function leaseConfig(options: RedisLeaseOptions, fn: string): LeaseConfig {
  const c = connectionConfig(options, fn);
  const { leaseMs = 10_000 } = options;
  checkPositiveMs(leaseMs, fn, "leaseMs");
  if (leaseMs < 10) throw new RangeError(`${fn}: \`leaseMs\` must be >= 10 milliseconds, got ${leaseMs}`);
  const renewEveryMs = options.renewEveryMs ?? leaseMs / 3;
  checkPositiveMs(renewEveryMs, fn, "renewEveryMs");
  const marginMs = options.marginMs ?? leaseMs / 10;
  if (typeof marginMs !== "number") throw new TypeError(`${fn}: \`marginMs\` must be a number of milliseconds, got ${describe(marginMs)}`);
  if (!Number.isFinite(marginMs) || marginMs < 0) throw new RangeError(`${fn}: \`marginMs\` must be a finite number >= 0 milliseconds, got ${marginMs}`);
  if (renewEveryMs + marginMs >= leaseMs) {
    throw new RangeError(`${fn}: \`renewEveryMs\` + \`marginMs\` must be < \`leaseMs\` (a renewal must come before the holder is cancelled), got ${renewEveryMs} + ${marginMs} >= ${leaseMs}`);
  }
  return { ...c, leaseMs: Math.ceil(leaseMs), renewEveryMs, marginMs };
}

/** @internal Checks `{ signal, timeout }` and starts the wait (a cancellation point): the signal and the deadline. */
export function startAcquire(options: RedisAcquireOptions | undefined, owner: string, method: string): { signal: AbortSignal | undefined; deadline: number } {
  const started = startWait(options, owner, method);
  if (abortedAtStart(started)) throw started;
  const timeout = options?.timeout;
  checkMs(timeout, `${owner}.${method}`, "timeout", false);
  return { signal: started, deadline: timeout === undefined ? Infinity : performance.now() + timeout };
}

/**
 * @internal A tsaio future that `arm` settles (its return value is the clean-up, run when the future
 * is done however it ends), resolved with TIMED_OUT at `deadline` and cancelled by `signal`. Awaiting
 * it is a cancellation point.
 */
export function until<T>(loop: Loop, signal: AbortSignal | undefined, deadline: number, arm: (fut: Future<T | typeof TIMED_OUT>) => (() => void) | void): Future<T | typeof TIMED_OUT> {
  const fut = new Future<T | typeof TIMED_OUT>(loop);
  let timer: NodeJS.Timeout | undefined;
  if (deadline !== Infinity) {
    timer = setTimeout(() => settle(fut, TIMED_OUT), Math.max(0, Math.ceil(deadline - performance.now())));
  }
  const cleanup = arm(fut);
  if (signal !== undefined) cancelOnAbort(fut as Future<unknown>, signal);
  if (timer !== undefined || cleanup !== undefined) {
    fut._addEntry({
      _onDone: () => {
        if (timer !== undefined) clearTimeout(timer);
        if (cleanup !== undefined) cleanup();
      },
    });
  }
  return fut;
}

/** @internal Resolves `fut` with `v` unless it is done. */
export function settle<T>(fut: Future<T>, v: T): void {
  if (!fut.done()) fut.setResult(v);
}

/** @internal Fails `fut` with `e` unless it is done. */
export function fail(fut: Future<unknown>, e: unknown): void {
  if (!fut.done()) fut.setException(e);
}

/** @internal The call `p` as a tsaio future (a cancellation point), with the acquire's deadline. */
export function callFuture<T>(loop: Loop, p: Promise<T>, signal: AbortSignal | undefined, deadline: number): Future<T | typeof TIMED_OUT> {
  return until<T>(loop, signal, deadline, (fut) => {
    p.then(
      (v) => settle(fut, v),
      (e: unknown) => fail(fut, e),
    );
  });
}

/** @internal */
export { TIMED_OUT };

/**
 * A lease held in Redis: what `RedisLock.acquire()` and `RedisSemaphore.acquire()` return. It renews
 * itself until released; when it may be lost (a renewal refused, or none confirmed before the local
 * expiry), `signal` aborts and the task that acquired it is cancelled. `await using` releases it.
 * @example
 * ```ts
 * // needs: redis
 * import { RedisLock } from "tsaio/redis";
 * await using lock = new RedisLock({ name: "lease-example", keyPrefix: "tsaio-example:" });
 * {
 *   await using lease = await lock.hold();
 *   // lease.signal aborts if the lease may be lost: hand it to fetch(), streams…
 *   console.log(lease.state, lease.signal.aborted); // held false
 * }
 * console.log(lock.held()); // false
 * ```
 */
export class RedisLease implements AsyncDisposable {
  /** @internal */ _state: RedisLeaseState = "held";
  /** @internal */ readonly _prim: LeasedPrimitive;
  /** @internal The owner id of this acquisition (what Redis stores). */
  readonly _owner: string;
  /** @internal Made on first use of `signal` (or at a loss): most leases never need one. */
  _ac: AbortController | null = null;
  /** @internal */ _task: Task<unknown> | null;
  /** @internal Local time the last confirmed renewal (or the acquire) was sent. */
  _confirmedAt: number;
  /** @internal */ _renewTimer: NodeJS.Timeout | null = null;
  /** @internal */ _lossTimer: NodeJS.Timeout | null = null;
  /** @internal */ _releasing: Promise<void> | null = null;
  /** @internal Why it was lost. */
  _lostReason: string | null = null;

  /** @internal */
  constructor(
    prim: LeasedPrimitive,
    owner: string,
    /** The fencing token: strictly increasing per name over every acquisition (give it to the resource you protect, which refuses a smaller one than it has seen). */
    readonly token: number,
    sentAt: number,
    task: Task<unknown> | null,
  ) {
    this._prim = prim;
    this._owner = owner;
    this._task = task;
    this._confirmedAt = sentAt;
    this._armLoss();
    this._scheduleRenew(prim._config.renewEveryMs);
  }

  /** The lock's or semaphore's name. */
  get name(): string {
    return this._prim.name;
  }

  /** `"held"`, `"lost"` (the holder was cancelled), or `"released"`. */
  get state(): RedisLeaseState {
    return this._state;
  }

  /** Aborted when the lease may be lost (its reason says why): hand it to work that must stop then. */
  get signal(): AbortSignal {
    this._ac ??= new AbortController();
    if (this._state === "lost" && !this._ac.signal.aborted) this._ac.abort(this._lossError());
    return this._ac.signal;
  }

  /** The task that acquired the lease (cancelled if it may be lost); null if acquired outside a task. */
  get task(): Task<unknown> | null {
    return this._task;
  }

  /** When the holder is cancelled unless a renewal is confirmed before: a `performance.now()` time (ms). */
  get expiresAt(): number {
    const c = this._prim._config;
    return this._confirmedAt + c.leaseMs - c.marginMs;
  }

  /**
   * Releases the lease in Redis (only if it is still this one: a lease taken over after a loss is not
   * touched) and stops renewing. A second call returns the first one's promise. Not a cancellation
   * point: it runs to the end in a cancelled task too (it is clean-up). Rejects with
   * `RedisUnavailableError` if Redis does not answer within `connectTimeout` (the lease then
   * expires by itself after `leaseMs`).
   */
  release(): Promise<void> {
    this._releasing ??= this._prim._releaseLease(this);
    return this._releasing;
  }

  /** `await using` support: releases. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** @internal The holder is cancelled at the local expiry unless a renewal moves it. */
  _armLoss(): void {
    if (this._lossTimer !== null) clearTimeout(this._lossTimer);
    const c = this._prim._config;
    const wait = this.expiresAt - performance.now();
    this._lossTimer = setTimeout(() => {
      this._lossTimer = null;
      // A timer can fire a little before its time (whole-ms durations, libuv's cached clock): a
      // holder is cancelled at its local expiry, not over a millisecond earlier.
      if (this.expiresAt - performance.now() > 1) return this._armLoss();
      this._lose(`no renewal confirmed since ${Math.round(performance.now() - this._confirmedAt)} ms ago (local expiry: last confirmed renewal + leaseMs ${c.leaseMs} − marginMs ${c.marginMs})`);
    }, Math.max(0, Math.floor(wait)));
    this._lossTimer.unref();
  }

  /** @internal */
  _scheduleRenew(ms: number): void {
    if (this._state !== "held") return;
    // Whole milliseconds: Node keeps one timer list per distinct duration.
    this._renewTimer = setTimeout(() => {
      this._renewTimer = null;
      this._renew();
    }, Math.max(0, Math.floor(ms)));
    this._renewTimer.unref();
  }

  /** @internal One renewal; the next is scheduled from its outcome. */
  _renew(): void {
    const p = this._prim;
    const sentAt = performance.now();
    p._link
      .call(`${p._what}.renew`, (c) => p._renewScript(c, this))
      .then(
        (ok) => {
          if (this._state !== "held") return;
          if (ok) {
            p._stats.renewals++;
            this._confirmedAt = sentAt;
            this._armLoss();
            this._scheduleRenew(Math.max(0, sentAt + p._config.renewEveryMs - performance.now()));
          } else this._lose("Redis no longer has it (it expired, or another client took or deleted it)");
        },
        () => {
          // Redis unreachable or slow: try again soon; the loss timer stands meanwhile.
          this._scheduleRenew(Math.max(10, p._config.renewEveryMs / 4));
        },
      );
  }

  /** @internal The lease may be lost: abort the signal, cancel the holder. */
  _lose(reason: string): void {
    if (this._state !== "held") return;
    this._state = "lost";
    this._lostReason = reason;
    this._stopTimers();
    const p = this._prim;
    p._stats.lost++;
    p._leases.delete(this);
    p._onLeaseEnd(this);
    const err = this._lossError();
    this._ac?.abort(err);
    const t = this._task;
    if (t !== null && !t.done()) t.cancel(err.message);
  }

  /** @internal */
  _lossError(): CancelledError {
    const p = this._prim;
    return new CancelledError(`${p._what} ${JSON.stringify(p.name)}: the lease (fencing token ${this.token}) may be lost: ${this._lostReason}; cancelling its holder`);
  }

  /** @internal */
  _stopTimers(): void {
    if (this._renewTimer !== null) clearTimeout(this._renewTimer);
    if (this._lossTimer !== null) clearTimeout(this._lossTimer);
    this._renewTimer = this._lossTimer = null;
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    const left = this._state === "held" ? ` expires in ${Math.max(0, Math.round(this.expiresAt - performance.now()))}ms` : "";
    return `<RedisLease ${JSON.stringify(this.name)} ${this._state} token=${this.token}${left}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/** @internal The reply of an acquire script: [1, token] when acquired, else [0, ms until a holder's lease runs out]. */
export type AttemptReply = [number, number];

/**
 * What `RedisLock` and `RedisSemaphore` have in common: a name, counters, `close()` and
 * `await using`. Not exported by `tsaio/redis` (make one of those two).
 * @example
 * ```ts
 * // needs: redis
 * import { RedisLock } from "tsaio/redis";
 * await using lock = new RedisLock({ name: "stats-example", keyPrefix: "tsaio-example:" });
 * await lock.run(() => {});
 * console.log(lock.statistics().acquired); // 1
 * ```
 */
export abstract class LeasedPrimitive implements AsyncDisposable {
  /** @internal */ readonly _config: LeaseConfig;
  /** @internal */ _link: Link;
  /** @internal */ readonly _leases = new Set<RedisLease>();
  /** @internal */ readonly _stats: RedisLeaseStatistics = { attempts: 0, acquired: 0, wakeups: 0, expiryRetries: 0, renewals: 0, lost: 0 };
  /** @internal Acquires waiting now. */
  _waiting = 0;
  /** @internal */ _closed = false;
  /** @internal What `close()` calls: the waits of acquires in progress. */
  readonly _onClose = new Set<() => void>();
  /** @internal The class name, for messages. */
  abstract readonly _what: string;

  /** @internal */
  constructor(
    /** The name (the Redis key is `keyPrefix` + kind + name). */
    readonly name: string,
    config: LeaseConfig,
  ) {
    this._config = config;
    this._link = takeLink(config);
  }

  /** @internal The channel a release publishes on. */
  abstract get _channel(): string;
  /** @internal One attempt (idempotent for `owner`). */
  abstract _attemptScript(c: Redis, owner: string): Promise<AttemptReply>;
  /** @internal Renews `lease`: 1 if Redis still has it. */
  abstract _renewScript(c: Redis, lease: RedisLease): Promise<number>;
  /** @internal Releases the lease of `owner`/`token` if Redis still has it (publishing a release message). */
  abstract _releaseScript(c: Redis, owner: string, token: number): Promise<number>;
  /** @internal A lease was acquired. */
  _onAcquired(_lease: RedisLease): void {}
  /** @internal A lease ended (released or lost). */
  _onLeaseEnd(_lease: RedisLease): void {}
  /** @internal `release()` was called on a lease (held or lost). */
  _onReleased(_lease: RedisLease): void {}

  /** Counters: attempts, acquisitions, wake-ups by message or by expiry, renewals, losses. */
  statistics(): RedisLeaseStatistics {
    return { ...this._stats };
  }

  /** @internal The acquire loop (see the module comment). */
  async _acquire(options: RedisAcquireOptions | undefined, method: string): Promise<RedisLease> {
    const { signal, deadline } = startAcquire(options, this._what, method);
    const what = `${this._what}.${method}`;
    if (this._closed) throw new Error(`${what}: ${JSON.stringify(this.name)} is closed`);
    const loop = runningLoop();
    const task = currentTask();
    const owner = newOwnerId();
    let listener: Listener | null = null;
    let inflight: Promise<AttemptReply> | null = null;
    this._waiting++;
    try {
      for (;;) {
        if (listener !== null) listener.fired = false; // a message from now on counts
        const sentAt = performance.now();
        this._stats.attempts++;
        const p = this._link.call(what, (c) => this._attemptScript(c, owner));
        inflight = p;
        const r = await callFuture(loop, p, signal, deadline);
        if (r === TIMED_OUT) throw this._timedOut(what, options);
        inflight = null;
        if (r[0] === 1) {
          if (this._closed) {
            inflight = p; // closed meanwhile: give it back (below)
            throw new Error(`${what}: ${JSON.stringify(this.name)} was closed while acquiring`);
          }
          this._stats.acquired++;
          const lease = new RedisLease(this, owner, r[1], sentAt, task);
          this._leases.add(lease);
          this._onAcquired(lease);
          return lease;
        }
        if (listener === null) {
          // Subscribe, then attempt once more: a release between the attempt and the subscription is not missed.
          listener = this._link.listen(this._channel);
          const s = await callFuture(loop, this._link.subscribed(this._channel, what), signal, deadline);
          if (s === TIMED_OUT) throw this._timedOut(what, options);
          continue;
        }
        const l: Listener = listener;
        const retryIn = r[1] < 0 ? 0 : r[1] + 2; // -2: the key went away meanwhile; +2: just past its expiry
        const woke = await until<"message" | "expiry" | "closed">(loop, signal, deadline, (fut) => {
          if (l.fired) {
            settle(fut, "message");
            return undefined;
          }
          l._onFire = () => settle(fut, "message");
          const onClose = (): void => settle(fut, "closed");
          this._onClose.add(onClose);
          const timer = setTimeout(() => settle(fut, "expiry"), retryIn);
          return () => {
            clearTimeout(timer);
            l._onFire = null;
            this._onClose.delete(onClose);
          };
        });
        if (woke === TIMED_OUT) throw this._timedOut(what, options);
        if (woke === "closed") throw new Error(`${what}: ${JSON.stringify(this.name)} was closed while waiting`);
        if (woke === "message") this._stats.wakeups++;
        else this._stats.expiryRetries++;
      }
    } catch (e) {
      // The last attempt may still have taken (or have taken) a lease nobody will hold: give it back.
      if (inflight !== null) this._giveBack(inflight, owner);
      throw e;
    } finally {
      this._waiting--;
      listener?.close();
    }
  }

  /** @internal An abandoned attempt's lease (if it took one) is released as soon as its reply comes. */
  _giveBack(attempt: Promise<AttemptReply>, owner: string): void {
    attempt.then(
      (r) => {
        if (r[0] !== 1 || this._link.closed) return;
        this._link.call(`${this._what}.acquire`, (c) => this._releaseScript(c, owner, r[1])).catch(() => {
          // Unreachable: the lease expires by itself after leaseMs.
        });
      },
      () => {
        // The attempt failed: it took nothing (attempts are idempotent, a retry inside it included).
      },
    );
  }

  /** @internal */
  _timedOut(what: string, options: RedisAcquireOptions | undefined): TimeoutError {
    return new TimeoutError(`${what}: ${JSON.stringify(this.name)} not acquired within ${options?.timeout} ms`);
  }

  /** @internal */
  _releaseLease(lease: RedisLease): Promise<void> {
    const wasHeld = lease._state === "held";
    lease._stopTimers();
    if (wasHeld) {
      lease._state = "released";
      this._leases.delete(lease);
      this._onLeaseEnd(lease);
    }
    this._onReleased(lease);
    if (this._link.closed) return RESOLVED;
    // After a loss too: if Redis still has this very lease (the loss was only feared), free it now.
    // (The call's promise itself, not an async frame around it: one promise less per release.)
    return this._link.call(`${this._what}.release`, (c) => this._releaseScript(c, lease._owner, lease.token)) as Promise<unknown> as Promise<void>;
  }

  /** @internal `run(fn)`: acquire, run `fn(lease)` in this task, release however it ends. */
  async _run<R>(fn: (lease: RedisLease) => R | PromiseLike<R>, options: RedisAcquireOptions | undefined): Promise<Awaited<R>> {
    checkFunction(fn, `${this._what}.run`, "fn");
    const lease = await this._acquire(options, "run");
    let result: Awaited<R>;
    try {
      result = await fn(lease);
    } catch (e) {
      // fn's error is what the caller sees; a failed release is reported, not lost.
      lease.release().catch((re: unknown) => reportReleaseError(re, lease));
      throw e;
    }
    await lease.release();
    return result;
  }

  /**
   * Releases every lease this object holds (their holders are not cancelled) and drops its
   * connections (shared connections close with their last user). Acquires still waiting fail.
   */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    for (const wake of [...this._onClose]) wake(); // waiting acquires fail
    const errors: unknown[] = [];
    await Promise.all([...this._leases].map((l) => l.release().catch((e: unknown) => errors.push(e))));
    releaseLink(this._link);
    if (errors.length > 0) throw new AggregateError(errors, `${this._what}.close: ${errors.length} lease(s) could not be released (they expire by themselves)`);
  }

  /** `await using` support: `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal */
  _stateText(): string {
    const c = this._config;
    return `lease=${c.leaseMs}ms${this._waiting > 0 ? ` waiters=${this._waiting}` : ""}${this._closed ? " closed" : ""}`;
  }

  /** @internal */
  abstract _describe(o: DescribeOptions): string;

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

function reportReleaseError(e: unknown, lease: RedisLease): void {
  try {
    runningLoop().callExceptionHandler({ message: `${lease._prim._what}.run: releasing ${JSON.stringify(lease.name)} failed after the function failed`, exception: e });
  } catch {
    // No loop to report to: the lease expires by itself.
  }
}
