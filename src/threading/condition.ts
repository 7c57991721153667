/**
 * `Condition` across threads: a Lock or RLock, plus a ticket queue of waiters (shared.ts). `wait()`
 * takes a ticket *before* releasing the lock, so a `notify()` made right after (by a thread that
 * got the lock) cannot miss it; `notify(n)` grants the first `n` live tickets, in order.
 * @module
 */
import { inspect } from "node:util";
import { CancelledError, InvalidStateError } from "../errors.js";
import type { Future } from "../futures.js";
import { checkCount, checkFunction, describe } from "../internal/validate.js";
import { Held, Lock, RLock } from "./lock.js";
import { track } from "./recovery.js";
import {
  abandon,
  abortedNow,
  attach,
  blockUntil,
  checkMayBlock,
  deadlineOf,
  FULL,
  grant,
  type Handle,
  handleOf,
  isGranted,
  newWords,
  NOT_YET,
  recoverTickets,
  registerReviver,
  SLOTS,
  take,
  throwAtCall,
  wake,
  type WaitOp,
  type WaitOptions,
  waitAsync,
  waitOptions,
  WIRE,
  type WireForm,
  waitersText,
} from "./shared.js";

const URL_ = import.meta.url;

/** The handle of a {@link Condition}: its own words, and its lock's handle. */
export interface ConditionHandle extends Handle {
  readonly lock: Handle;
}

class CondWait implements WaitOp<boolean> {
  constructor(
    private readonly _w: Int32Array,
    private readonly _t: number,
  ) {}
  attempt(): boolean | typeof NOT_YET {
    return isGranted(this._w, this._t) ? true : NOT_YET;
  }
  giveUp(cancelled: boolean): boolean {
    if (!abandon(this._w, this._t)) return false;
    // Notified just as it gave up: a timeout counts it as notified; a cancelled waiter passes the
    // notification on to the next one (asyncio 3.13), so no notify() is lost.
    if (cancelled) this.passOn(true);
    return true;
  }
  /** Notified, but the wait ends in an error (its task was cancelled): the next waiter gets the notification. */
  passOn(r: boolean): void {
    if (r && grant(this._w, 1) > 0) wake(this._w);
  }
}

/**
 * A condition variable shared by threads, Python's `threading.Condition` with asyncio's manners:
 * holders of its lock `wait()` until another thread or task `notify()`s them. `wait()` releases the
 * lock while waiting and holds it again when it returns, throws or is cancelled. Waiters are woken
 * in FIFO order. The lock is a {@link Lock} (default) or an {@link RLock}.
 * @example
 * ```ts
 * import { Condition } from "tsaio/threading";
 * const cond = new Condition();
 * const items: number[] = [];
 * const consumer = cond.run(() => cond.waitFor(() => items.length > 0));
 * await cond.run(() => { items.push(1); cond.notify(); });
 * console.log(await consumer); // true
 * ```
 */
export class Condition {
  /** @internal */ readonly _w: Int32Array;
  /** @internal */ readonly _lock: Lock | RLock;

  constructor(lock?: Lock | RLock) {
    if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      throw new TypeError(`Condition: \`lock\` must be a tsaio/threading Lock or RLock, got ${describe(lock)}`);
    }
    this._w = newWords();
    this._lock = lock ?? new Lock();
    track(this);
  }

  /**
   * Re-attaches to a condition made in another thread, from its {@link Condition.handle}.
   * @example
   * ```ts
   * import { Condition } from "tsaio/threading";
   * const c = Condition.from(new Condition().handle);
   * console.log(c.locked()); // false
   * ```
   */
  static from(handle: ConditionHandle): Condition {
    const c = attach<{ _lock: Lock | RLock }>(Condition.prototype, handle, "Condition", "Condition.from");
    const lh = handle.lock;
    c._lock = (lh as { kind?: unknown } | undefined)?.kind === "RLock" ? RLock.from(lh) : Lock.from(lh);
    return track(c as unknown as Condition);
  }

  /** A plain, structured-cloneable description, for {@link Condition.from} in another thread. */
  get handle(): ConditionHandle {
    return { ...handleOf("Condition", this._w), lock: this._lock.handle };
  }

  /** The underlying lock. */
  get lock(): Lock | RLock {
    return this._lock;
  }

  /** Acquires the underlying lock. */
  acquire(options?: WaitOptions): Promise<boolean> {
    return this._lock.acquire(options);
  }

  /** Worker threads only: acquires the underlying lock, blocking. */
  acquireSync(timeout?: number | null): boolean {
    return this._lock.acquireSync(timeout);
  }

  /** Releases the underlying lock. */
  release(): void {
    this._lock.release();
  }

  /** Whether the underlying lock is held. */
  locked(): boolean {
    return this._lock.locked();
  }

  /** @internal */
  private _checkHeld(what: string): void {
    const l = this._lock;
    if (l instanceof RLock ? !l.owned() : !l.locked()) throw new InvalidStateError(`Condition.${what}(): the lock is not acquired`);
  }

  /** @internal Takes a ticket and frees the lock: returns the ticket and what restores the lock later. */
  private _enter(what: string): [number, number] {
    this._checkHeld(what);
    const t = take(this._w);
    if (t === FULL) throw new RangeError(`Condition.${what}(): more than ${SLOTS} waiters at once`);
    const l = this._lock;
    const saved = l instanceof RLock ? l._releaseAll() : (l.release(), 1);
    return [t, saved];
  }

  /** @internal */
  private _restore(saved: number): void {
    const l = this._lock;
    if (l instanceof RLock) l._own(saved);
  }

  /**
   * Releases the lock, waits until notified (`true`) or `timeout` ms pass (`false`), and holds the
   * lock again before returning — also when cancelled (then it throws `CancelledError`, lock held).
   */
  wait(options?: WaitOptions): Promise<boolean> {
    throwAtCall();
    const { signal, deadline } = waitOptions(options, "Condition.wait");
    if (signal?.aborted === true) {
      this._checkHeld("wait");
      return abortedNow(signal);
    }
    const [t, saved] = this._enter("wait");
    const op = new CondWait(this._w, t);
    return this._reacquire(waitAsync(this, this._w, op, deadline, signal), op, saved);
  }

  /** @internal */
  private async _reacquire(fut: Future<boolean>, op: CondWait, saved: number): Promise<boolean> {
    let result = false;
    let failed = false;
    let error: unknown;
    try {
      result = await fut;
    } catch (e) {
      if (!fut.done()) fut.cancel(); // raised at the await, before it waited (see keptOrPassedOn in shared.ts)
      failed = true;
      error = e;
    }
    // Must hold the lock again, even if cancelled (again) meanwhile: retry on CancelledError.
    for (;;) {
      try {
        await this._lock.acquire();
        break;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        if (!failed) {
          failed = true;
          error = e;
        }
      }
    }
    this._restore(saved);
    if (failed) {
      // Notified, yet it ends in an error (its task was cancelled after the wake-up, or while it
      // took the lock back): the notification goes on to the next waiter, as in asyncio 3.13 — a
      // notify() is never lost (the next waiter may wake spuriously, which a condition allows).
      if (fut.done() && !fut.cancelled() && fut.exception() === null) op.passOn(fut.result());
      throw error;
    }
    return result;
  }

  /** Worker threads only: {@link Condition.wait}, blocking the thread. */
  waitSync(timeout?: number | null): boolean {
    checkMayBlock("Condition.waitSync()", "condition.wait()");
    const deadline = deadlineOf(timeout, "Condition.waitSync");
    const [t, saved] = this._enter("waitSync");
    const r = blockUntil(this._w, new CondWait(this._w, t), deadline);
    this._lock.acquireSync();
    this._restore(saved);
    return r;
  }

  /**
   * Waits until `predicate()` is truthy (checked first, then after each notification) and returns
   * its last value (falsy if `timeout` ms passed). Hold the lock when calling it.
   */
  async waitFor<T>(predicate: () => T, options?: WaitOptions): Promise<T> {
    checkFunction(predicate, "Condition.waitFor", "predicate");
    const { signal, deadline } = waitOptions(options, "Condition.waitFor");
    let r = predicate();
    while (!r) {
      const rest = deadline - performance.now();
      if (rest <= 0) break;
      await this.wait({ signal, timeout: rest === Infinity ? null : rest });
      r = predicate();
    }
    return r;
  }

  /** Worker threads only: {@link Condition.waitFor}, blocking the thread. */
  waitForSync<T>(predicate: () => T, timeout?: number | null): T {
    checkFunction(predicate, "Condition.waitForSync", "predicate");
    const deadline = deadlineOf(timeout, "Condition.waitForSync");
    let r = predicate();
    while (!r) {
      const rest = deadline - performance.now();
      if (rest <= 0) break;
      this.waitSync(rest === Infinity ? null : rest);
      r = predicate();
    }
    return r;
  }

  /** Wakes up to `n` waiters (FIFO). Hold the lock when calling it. */
  notify(n = 1): void {
    checkCount(n, "Condition.notify", "n", 0, true);
    this._checkHeld("notify");
    if (grant(this._w, n === Infinity ? SLOTS : n) > 0) wake(this._w);
  }

  /**
   * @internal Crash recovery (see shared.ts): dead thread `dead`'s waits are given up; a
   * notification it was given and never took up goes to the next waiter. (Its lock recovers itself.)
   */
  _recover(dead: number): boolean {
    const w = this._w;
    return recoverTickets(w, dead, () => void (grant(w, 1) > 0 && wake(w))) > 0;
  }

  /** Wakes every waiter. Hold the lock when calling it. */
  notifyAll(): void {
    this.notify(Infinity);
  }

  /** Runs `fn` holding the lock, and releases it however `fn` ends. */
  run<R>(fn: () => R | PromiseLike<R>, options?: { signal?: AbortSignal }): Promise<Awaited<R>> {
    return this._lock.run(fn, options);
  }

  /** Acquires the lock and returns a {@link Held}. */
  hold(options?: { signal?: AbortSignal }): Promise<Held> {
    return this._lock.hold(options);
  }

  /** @internal */
  [WIRE](): WireForm {
    return { $tsaioShared: URL_, h: this.handle };
  }

  /** @internal */
  [inspect.custom](): string {
    return `<threading.Condition ${this.locked() ? "locked" : "unlocked"}${waitersText(this._w)}>`;
  }
}

registerReviver(URL_, (h) => Condition.from(h as ConditionHandle));
