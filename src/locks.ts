/**
 * Synchronization primitives with asyncio's semantics: `Lock`, `Event`, `Condition`, `Semaphore`,
 * `BoundedSemaphore`, `Barrier` (CPython 3.13's `Lib/asyncio/locks.py`, ported step for step).
 *
 * The guarantees, each tested against CPython (test/conformance/scenarios/prim_*):
 * - **FIFO-fair.** Waiters are served in arrival order. A task that releases and at once re-acquires
 *   goes behind the waiters: while a waiter has been woken but has not run yet, the Lock reads as
 *   unlocked yet a newcomer queues behind it.
 * - **No lost wake-ups.** A waiter cancelled after it was woken but before it ran passes the
 *   wake-up (or the Semaphore permit, or the Condition notification) on to the next waiter.
 * - **Every wait is a cancellation point** of the current task, and takes `{ signal }`: aborting it
 *   cancels that wait (the call rejects with `CancelledError`). A signal that is already aborted
 *   makes the call reject at once without acquiring anything.
 * - **No yield when there is no wait.** As in asyncio, an uncontended `acquire()` (or `wait()` on a
 *   set Event) completes without giving up the loop and allocates nothing: it returns a shared,
 *   already-resolved promise.
 *
 * Waiters live in an O(1) deque with lazy removal (see `waiters.ts`), so 100,000 waiters,
 * cancelled in any order, cost linear time.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { BrokenBarrierError, CancelledError, InvalidStateError } from "./errors.js";
import { PENDING, throwAtCall } from "./futures.js";
import { checkCount, checkFunction, describe, signalOf } from "./internal/validate.js";
import { type DescribeOptions, FULL } from "./internal/describe.js";
import { abortedAtStart, Held, holdAfter, makeRunCont, plainResume, RESOLVED_TRUE, type Releasable, runHeld, runTaken, startWait, type Waiter, WaiterList } from "./waiters.js";

export { Held } from "./waiters.js";

/** Options of every waiting call of the primitives. */
export interface SignalOptions {
  /** Aborting it cancels the wait: the call rejects with `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * What every acquirable primitive offers: `acquire`/`release`/`locked`, and the scoped forms
 * `run(fn)` and `hold()` that always release.
 */
export interface Acquirable extends Releasable {
  /** Waits until acquired; resolves to `true`. */
  acquire(options?: SignalOptions): Promise<true>;
  /** Releases one acquisition. */
  release(): void;
  /** Whether `acquire()` would have to wait. */
  locked(): boolean;
  /** Acquires, runs `fn`, and releases however `fn` ends. */
  run<R>(fn: () => R | PromiseLike<R>, options?: SignalOptions): Promise<Awaited<R>>;
  /** Acquires and returns a {@link Held} to release (`await using` releases it at scope end). */
  hold(options?: SignalOptions): Promise<Held>;
}

function waitersText(n: number): string {
  return n > 0 ? ` waiters=${n}` : "";
}

// ------------------------------------------------------------------------------------------ Lock

/**
 * A mutual-exclusion lock, asyncio's `Lock`: not owned by a task (any task may release it),
 * FIFO-fair, and cancellation-safe. Prefer the scoped forms, which always release.
 *
 * Faithful to asyncio: when the lock is released with waiters, it stays *unlocked* until the first
 * waiter runs, but `acquire()` from anyone else in that window queues behind the waiters (no
 * barging). A woken waiter cancelled before it runs passes the wake-up on.
 * @example
 * ```ts
 * import { Lock, gather, sleep } from "tsaio";
 * const lock = new Lock();
 * const log: string[] = [];
 * const job = (name: string) => lock.run(async () => { log.push(`${name} in`); await sleep(10); log.push(`${name} out`); });
 * await gather([() => job("a"), () => job("b")]);
 * console.log(log.join(", ")); // a in, a out, b in, b out
 * ```
 */
export class Lock implements Acquirable {
  /** @internal */ _locked = false;
  /** @internal */ _waiters: WaiterList | null = null;
  /** @internal */ _runCont: ((fn: () => unknown) => Promise<unknown>) | null = null;

  /** Whether the lock is held. */
  locked(): boolean {
    return this._locked;
  }

  /**
   * Waits until the lock is free and takes it; resolves to `true`. When the lock is free and nobody
   * waits, it takes it at once without yielding. A cancellation point; `signal` cancels the wait.
   */
  acquire(options?: SignalOptions): Promise<true> {
    const signal = startWait(options, "Lock", "acquire");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (this._tryAcquire()) return RESOLVED_TRUE;
    return (this._waiters ??= new WaiterList(this, lockResume)).add(runningLoop(), signal);
  }

  /** @internal Takes the lock if it is free and nobody waits (fair: wait our turn, unless every waiter is cancelled). */
  private _tryAcquire(): boolean {
    if (this._locked) return false;
    const w = this._waiters;
    if (w !== null && w.nIn !== w.nCancelled) return false;
    this._locked = true;
    return true;
  }


  /**
   * Releases the lock and wakes the first waiter. Any task may release it.
   * `InvalidStateError` if the lock is not held (the lock is unaffected).
   */
  release(): void {
    if (!this._locked) throw new InvalidStateError("Lock.release(): the lock is not acquired");
    this._locked = false;
    this._wakeUpFirst();
  }

  /** @internal Ensures the first waiter will run (unless it is already woken or cancelled). */
  _wakeUpFirst(): void {
    const list = this._waiters;
    if (list === null || list.nWoken > 0) return; // the first waiter is already set to wake up
    const w = list.first();
    if (w !== undefined && w._state === PENDING) list.wakeHead(w, true);
  }

  /**
   * Runs `fn` holding the lock, and releases it however `fn` ends.
   * @example
   * ```ts
   * import { Lock } from "tsaio";
   * const lock = new Lock();
   * console.log(await lock.run(async () => lock.locked()), lock.locked()); // true false
   * ```
   */
  run<R>(fn: () => R | PromiseLike<R>, options?: SignalOptions): Promise<Awaited<R>> {
    checkFunction(fn, "Lock.run", "fn");
    const signal = startWait(options, "Lock", "run");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (this._tryAcquire()) return runTaken(this, fn);
    // Waiting: the waiter resolves with `fn` itself, so no closure is kept per waiter.
    const waiting = (this._waiters ??= new WaiterList(this, lockResume)).add(runningLoop(), signal, fn);
    return waiting.then((this._runCont ??= makeRunCont(this))) as Promise<Awaited<R>>;
  }

  /**
   * Acquires the lock and returns a {@link Held}: `await using _ = await lock.hold()` releases it at
   * the end of the scope, however the scope ends.
   * @example
   * ```ts
   * import { Lock } from "tsaio";
   * const lock = new Lock();
   * const held = await lock.hold();
   * held.release();
   * console.log(lock.locked()); // false
   * ```
   */
  hold(options?: SignalOptions): Promise<Held> {
    return holdAfter(this, this.acquire(options));
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    return `<Lock ${this._locked ? "locked" : "unlocked"}${waitersText(this._waiters?.nIn ?? 0)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/** The code after `await fut` in CPython's `Lock.acquire`. */
function lockResume(w: Waiter, failed: boolean, err: unknown): void {
  const lock = w._list.owner as Lock;
  w._list.remove(w);
  if (failed) {
    // Cancelled (maybe after being woken): if the lock is still free, the next waiter must run.
    if (!lock._locked) lock._wakeUpFirst();
    w._rej(err);
    return;
  }
  lock._locked = true;
  w._res(w._tag === undefined ? true : w._tag); // run(fn) waiters resolve with fn
}

// ----------------------------------------------------------------------------------------- Event

/**
 * A flag tasks can wait for, asyncio's `Event`: `set()` wakes every waiter, `clear()` makes later
 * `wait()`s block again. Waiters woken by `set()` return `true` even if `clear()` ran before they
 * resumed.
 * @example
 * ```ts
 * import { Event, createTask, sleep } from "tsaio";
 * const ready = new Event();
 * const t = createTask(async () => { await ready.wait(); return "go"; });
 * await sleep(10);
 * ready.set();
 * console.log(await t, ready.isSet()); // go true
 * ```
 */
export class Event {
  /** @internal */ _value = false;
  /** @internal */ _waiters: WaiterList | null = null;

  /** Whether the flag is set. */
  isSet(): boolean {
    return this._value;
  }

  /** Sets the flag and wakes every waiter. Later `wait()`s return at once until `clear()`. */
  set(): void {
    if (!this._value) {
      this._value = true;
      this._waiters?.wakeAll(true);
    }
  }

  /** Clears the flag: later `wait()`s block until the next `set()`. */
  clear(): void {
    this._value = false;
  }

  /**
   * Waits until the flag is set; resolves to `true` (at once, without yielding, if it is set).
   * A cancellation point; `signal` cancels the wait.
   */
  wait(options?: SignalOptions): Promise<true> {
    const signal = startWait(options, "Event", "wait");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (this._value) return RESOLVED_TRUE;
    return this._waitSlow(signal);
  }

  /** @internal */
  private _waitSlow(signal: AbortSignal | undefined): Promise<true> {
    return (this._waiters ??= new WaiterList(this, plainResume)).add(runningLoop(), signal);
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    return `<Event ${this._value ? "set" : "unset"}${waitersText(this._waiters?.nIn ?? 0)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

// ------------------------------------------------------------------------------------- Condition

/**
 * A condition variable, asyncio's `Condition`: tasks holding its lock `wait()` until another task
 * `notify()`s them. `wait()` releases the lock while waiting and holds it again when it returns or
 * throws (also when cancelled). Several Conditions may share one {@link Lock}.
 *
 * A notified waiter cancelled before it runs passes the notification on to the next waiter
 * (CPython 3.13; 3.12 lost it). As with every condition variable, re-check your predicate after
 * waking (or use `waitFor`).
 * @example
 * ```ts
 * import { Condition, createTask, sleep } from "tsaio";
 * const cond = new Condition();
 * const items: number[] = [];
 * const consumer = createTask(() => cond.run(async () => { await cond.waitFor(() => items.length > 0); return items.shift(); }));
 * await sleep(5);
 * await cond.run(() => { items.push(42); cond.notify(); });
 * console.log(await consumer); // 42
 * ```
 */
export class Condition implements Acquirable {
  /** @internal */ readonly _lock: Lock;
  /** @internal */ readonly _waiters: WaiterList;

  /** A condition on `lock` (default: a new Lock). */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) throw new TypeError(`Condition: \`lock\` must be a Lock, got ${describe(lock)}`);
    this._lock = lock ?? new Lock();
    this._waiters = new WaiterList(this, plainResume);
  }

  /** Whether the underlying lock is held. */
  locked(): boolean {
    return this._lock._locked;
  }

  /** Acquires the underlying lock (see {@link Lock.acquire}). */
  acquire(options?: SignalOptions): Promise<true> {
    return this._lock.acquire(options);
  }

  /** Releases the underlying lock (see {@link Lock.release}). */
  release(): void {
    this._lock.release();
  }

  /**
   * Releases the lock, waits until notified, then re-acquires the lock and resolves to `true`.
   * Whatever happens — cancellation, `signal` — the lock is held again when this returns or throws.
   * `InvalidStateError` if the lock is not held.
   */
  async wait(options?: SignalOptions): Promise<true> {
    if (!this._lock._locked) {
      signalOf(options, "Condition.wait"); // a bad signal is still reported first
      throw new InvalidStateError("Condition.wait(): the lock is not acquired");
    }
    const signal = startWait(options, "Condition", "wait"); // raises with the lock still held, as after any raise from wait()
    if (abortedAtStart(signal)) throw signal;
    const notified = this._waiters.add(runningLoop(), signal); // removed from the list when it ends
    this._lock.release();
    let failed = false;
    let error: unknown;
    try {
      await notified;
    } catch (e) {
      failed = true;
      error = e;
    }
    // Must hold the lock again, even if cancelled (again): only a CancelledError is retried, and the
    // most recent one is thrown.
    for (;;) {
      try {
        await this._lock.acquire();
        break;
      } catch (e) {
        failed = true;
        error = e;
        if (!(e instanceof CancelledError)) break;
      }
    }
    if (failed) {
      // We may have been notified and yet be leaving with an error: notify someone else instead.
      this._notify(1);
      throw error;
    }
    return true;
  }

  /**
   * Waits until `predicate()` is truthy (checked first, then after every wake-up) and returns its
   * value. The lock must be held.
   */
  async waitFor<R>(predicate: () => R, options?: SignalOptions): Promise<R> {
    checkFunction(predicate, "Condition.waitFor", "predicate");
    throwAtCall();
    let result = predicate();
    while (!result) {
      await this.wait(options);
      result = predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (FIFO). The lock must be held (`InvalidStateError` otherwise). */
  notify(n = 1): void {
    if (typeof n !== "number" || Number.isNaN(n)) throw new TypeError(`Condition.notify: \`n\` must be a number, got ${describe(n)}`);
    if (n < 0) throw new RangeError(`Condition.notify: \`n\` must be >= 0, got ${n}`);
    if (!this._lock._locked) throw new InvalidStateError("Condition.notify(): the lock is not acquired");
    this._notify(n);
  }

  /** Wakes every waiter. The lock must be held. */
  notifyAll(): void {
    this.notify(Infinity);
  }

  /** @internal */
  private _notify(n: number): void {
    const list = this._waiters;
    for (let i = 0; i < n && list.wakeNext(false); i++);
  }

  /** Runs `fn` holding the lock (see {@link Lock.run}). */
  run<R>(fn: () => R | PromiseLike<R>, options?: SignalOptions): Promise<Awaited<R>> {
    checkFunction(fn, "Condition.run", "fn");
    return runHeld(this, this.acquire(options), fn);
  }

  /** Acquires the lock and returns a {@link Held} (see {@link Lock.hold}). */
  hold(options?: SignalOptions): Promise<Held> {
    return holdAfter(this, this.acquire(options));
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    return `<Condition ${this._lock._locked ? "locked" : "unlocked"}${waitersText(this._waiters.nIn)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

// ------------------------------------------------------------------------------------- Semaphore

/**
 * A counter of permits, asyncio's `Semaphore`: `acquire()` takes one (waiting while there is none),
 * `release()` gives one back. Waiters are served FIFO; a permit released while tasks wait is
 * reserved for the first of them (`locked()` stays true, newcomers cannot barge), and a waiter
 * cancelled after it was handed a permit gives it to the next one.
 * @example
 * ```ts
 * import { Semaphore, gather, sleep } from "tsaio";
 * const sem = new Semaphore(2);
 * let running = 0, peak = 0;
 * const job = () => sem.run(async () => { peak = Math.max(peak, ++running); await sleep(10); running--; });
 * await gather([job, job, job, job, job]);
 * console.log(peak); // 2
 * ```
 */
export class Semaphore implements Acquirable {
  /** @internal */ _value: number;
  /** @internal */ _waiters: WaiterList | null = null;
  /** @internal */ _runCont: ((fn: () => unknown) => Promise<unknown>) | null = null;

  /** A semaphore with `value` permits (an integer >= 0, default 1). */
  constructor(value = 1) {
    checkCount(value, new.target.name, "value", 0);
    this._value = value;
  }

  /** The permits available now (0 while waiters hold reservations). */
  get value(): number {
    return this._value;
  }

  /** Whether `acquire()` would wait: no permit, or waiters ahead (FIFO). */
  locked(): boolean {
    const w = this._waiters;
    return this._value === 0 || (w !== null && w.nIn > w.nCancelled);
  }

  /**
   * Takes a permit, waiting (FIFO) while there is none; resolves to `true`. Without waiting when a
   * permit is free and nobody is ahead. A cancellation point; `signal` cancels the wait.
   */
  acquire(options?: SignalOptions): Promise<true> {
    const signal = startWait(options, this, "acquire");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (!this.locked()) {
      this._value--;
      return RESOLVED_TRUE;
    }
    return (this._waiters ??= new WaiterList(this, semaphoreResume)).add(runningLoop(), signal);
  }

  /** Gives a permit back and hands it to the first waiter, if any. */
  release(): void {
    this._value++;
    this._wakeUpNext();
  }

  /** @internal Hands a permit to the first pending waiter. */
  _wakeUpNext(): boolean {
    const list = this._waiters;
    if (list === null) return false;
    const w = list.peekPending();
    if (w === undefined) return false;
    this._value--;
    list.wakeHead(w, true);
    return true;
  }

  /** Runs `fn` holding a permit, and releases it however `fn` ends. */
  run<R>(fn: () => R | PromiseLike<R>, options?: SignalOptions): Promise<Awaited<R>> {
    checkFunction(fn, `${this.constructor.name}.run`, "fn");
    const signal = startWait(options, this, "run");
    if (abortedAtStart(signal)) return Promise.reject(signal);
    if (!this.locked()) {
      this._value--;
      return runTaken(this, fn);
    }
    // Waiting: the waiter resolves with `fn` itself, so no closure is kept per waiter.
    const waiting = (this._waiters ??= new WaiterList(this, semaphoreResume)).add(runningLoop(), signal, fn);
    return waiting.then((this._runCont ??= makeRunCont(this))) as Promise<Awaited<R>>;
  }

  /** Takes a permit and returns a {@link Held} that gives it back (`await using`). */
  hold(options?: SignalOptions): Promise<Held> {
    return holdAfter(this, this.acquire(options));
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    const state = this.locked() ? "locked" : `unlocked value=${this._value}`;
    return `<${this.constructor.name} ${state}${waitersText(this._waiters?.nIn ?? 0)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/** The code after `await fut` in CPython's `Semaphore.acquire`. */
function semaphoreResume(w: Waiter, failed: boolean, err: unknown): void {
  const sem = w._list.owner as Semaphore;
  w._list.remove(w);
  // Handed a permit but leaving without it (cancelled after the wake-up): give it back.
  if (failed && w.woken()) sem._value++;
  // Waiters that queued behind us (FIFO) may proceed now: wake as many as there are permits.
  while (sem._value > 0) if (!sem._wakeUpNext()) break;
  if (failed) w._rej(err);
  else w._res(w._tag === undefined ? true : w._tag); // run(fn) waiters resolve with fn
}

/**
 * A {@link Semaphore} that refuses to be released more often than acquired: `release()` past the
 * initial value throws `InvalidStateError` and changes nothing.
 * @example
 * ```ts
 * import { BoundedSemaphore, InvalidStateError } from "tsaio";
 * const sem = new BoundedSemaphore(1);
 * try { sem.release(); } catch (e) { console.log(e instanceof InvalidStateError); } // true
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /** @internal */ readonly _bound: number;

  /** A bounded semaphore with `value` permits (an integer >= 0, default 1). */
  constructor(value = 1) {
    super(value);
    this._bound = value;
  }

  /** Gives a permit back; `InvalidStateError` if that would exceed the initial value. */
  override release(): void {
    if (this._value >= this._bound) throw new InvalidStateError("BoundedSemaphore.release(): released too many times");
    super.release();
  }
}

// --------------------------------------------------------------------------------------- Barrier

const FILLING = 0;
const DRAINING = 1;
const RESETTING = 2;
const BROKEN = 3;
const BARRIER_STATES = ["filling", "draining", "resetting", "broken"] as const;

/**
 * A meeting point for a fixed number of tasks, asyncio's `Barrier`: each `wait()` blocks until
 * `parties` tasks are waiting, then all of them go on together and each gets its arrival index
 * (0 … parties-1). The barrier is then reusable for the next round.
 *
 * `abort()` breaks it for good: current and later waiters get `BrokenBarrierError`. `reset()` breaks
 * only the current round (its waiters get `BrokenBarrierError`) and the barrier is usable again. A
 * cancelled waiter just leaves (`nWaiting` drops), as in CPython 3.13. `abort()` and `reset()` are
 * asynchronous, as in asyncio (they take the barrier's internal lock).
 * @example
 * ```ts
 * import { Barrier, gather, sleep } from "tsaio";
 * const barrier = new Barrier(3);
 * const party = async (ms: number) => { await sleep(ms); return barrier.wait(); };
 * console.log(await gather([() => party(300), () => party(100), () => party(200)])); // [ 2, 0, 1 ]
 * ```
 */
export class Barrier {
  /** @internal */ readonly _cond = new Condition();
  /** @internal */ readonly _parties: number;
  /** @internal */ _state = FILLING;
  /** @internal */ _count = 0;

  /** A barrier for `parties` tasks (an integer >= 1). */
  constructor(parties: number) {
    checkCount(parties, "Barrier", "parties", 1);
    this._parties = parties;
  }

  /** How many tasks must wait to trip the barrier. */
  get parties(): number {
    return this._parties;
  }

  /** How many tasks are waiting in the current round. */
  get nWaiting(): number {
    return this._state === FILLING ? this._count : 0;
  }

  /** Whether the barrier was aborted. */
  get broken(): boolean {
    return this._state === BROKEN;
  }

  /**
   * Waits until `parties` tasks wait, then resolves to this task's arrival index.
   * `BrokenBarrierError` if the barrier is or gets aborted or reset. A cancellation point; `signal`
   * cancels the wait.
   */
  async wait(options?: SignalOptions): Promise<number> {
    const signal = startWait(options, "Barrier", "wait");
    if (abortedAtStart(signal)) throw signal;
    const opts = signal === undefined ? undefined : { signal };
    const cond = this._cond;
    await cond.acquire(opts);
    try {
      await this._block(opts); // while the barrier drains or resets
      try {
        const index = this._count++;
        if (index + 1 === this._parties) {
          // The last one in: release everybody.
          this._state = DRAINING;
          cond.notifyAll();
        } else {
          await cond.waitFor(() => this._state !== FILLING, opts);
          if (this._state === BROKEN || this._state === RESETTING) throw new BrokenBarrierError("Barrier.wait(): the barrier was aborted or reset");
        }
        return index;
      } finally {
        this._count--;
        this._exit();
      }
    } finally {
      cond.release();
    }
  }

  /** @internal */
  private async _block(opts: SignalOptions | undefined): Promise<void> {
    await this._cond.waitFor(() => this._state !== DRAINING && this._state !== RESETTING, opts);
    if (this._state === BROKEN) throw new BrokenBarrierError("Barrier.wait(): the barrier is aborted");
  }

  /** @internal The last task out of a draining or resetting round opens the barrier for the next round. */
  private _exit(): void {
    if (this._count === 0) {
      if (this._state === RESETTING || this._state === DRAINING) this._state = FILLING;
      this._cond.notifyAll();
    }
  }

  /** Breaks the current round (its waiters get `BrokenBarrierError`); the barrier stays usable. */
  async reset(): Promise<void> {
    const cond = this._cond;
    await cond.acquire();
    try {
      if (this._count > 0) {
        if (this._state !== RESETTING) this._state = RESETTING;
      } else this._state = FILLING;
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  /** Breaks the barrier for good: current and later waiters get `BrokenBarrierError`. */
  async abort(): Promise<void> {
    const cond = this._cond;
    await cond.acquire();
    try {
      this._state = BROKEN;
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    const s = this._state;
    return `<Barrier ${BARRIER_STATES[s]}${s === BROKEN ? "" : ` waiters=${this.nWaiting}/${this._parties}`}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}
