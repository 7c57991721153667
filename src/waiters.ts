/**
 * The waiter machinery shared by every primitive: a FIFO of pending futures with O(1) enqueue,
 * wake-up and removal.
 *
 * CPython keeps its waiters in a `collections.deque` and removes a leaving waiter with
 * `deque.remove(fut)`, which is O(n): 100,000 cancelled waiters cost quadratic time. Here a waiter
 * that leaves is only *marked* removed and stays in the deque until it reaches the head (or until a
 * compaction, run when removed entries outnumber live ones, so memory stays bounded and the cost
 * stays amortised O(1)). A waiter that is woken is popped at once, so wake-ups never rescan woken
 * entries either.
 *
 * What CPython reads from its deque is kept as counters instead:
 * - `nIn`: waiters whose wait has not exited yet (`len(self._waiters)`): pending, woken-but-not-yet-
 *   running, and cancelled-but-not-yet-running ones;
 * - `nCancelled`: those among them whose future was cancelled (Lock's "all waiters cancelled" fast
 *   path, Semaphore's `locked()`);
 * - `nWoken`: those among them that were woken (their future has a result) but have not run yet.
 *
 * It sits beside the primitives (layer 5 of ARCHITECTURE.md), not in `internal/`: it builds on
 * futures, tasks and the ambient task. Internal: not part of the package's public API (except
 * {@link Held}, which `locks.ts` re-exports).
 * @module
 */
import { inspect } from "node:util";
import { CancelledError } from "./errors.js";
import { abortMessage, type Awaiter, CANCELLED, cancelOnAbort, type DoneEntry, Future, PENDING, promiseInto, RESOLVED, throwAtCall } from "./futures.js";
import { checkOptions, checkSignal } from "./internal/validate.js";
import type { Loop } from "./loop.js";
import { currentTaskOrNull, type Task } from "./tasks.js";
import { Deque } from "./internal/ring.js";
import { type DescribeOptions, FULL, show } from "./internal/describe.js";

const IN_QUEUE = 1;
const REMOVED = 2;
const WOKEN = 4;

/**
 * What a primitive does when one of its waits ends: `failed` is false when the waiter was woken
 * normally, true when the wait ends with `err` (a `CancelledError`: the waiter's future was
 * cancelled, or its task was cancelled after the wake-up). It runs inside the loop callback that
 * resumes the waiting task (the start of that task's step, where CPython runs the code after
 * `await fut`), and settles the caller's promise with `w._res` / `w._rej`.
 */
export type Resume = (w: Waiter, failed: boolean, err: unknown) => void;

/**
 * A waiter's future. It is also its own awaiter: the waiting code holds a native promise that the
 * primitive settles from its list's `resume` — no async function frame, no separate
 * Awaiter, no thenable job per wait, which halves the memory of 100,000 pending waiters.
 *
 * Cancellation works as for `await fut`: the current task (if any) is registered as suspended on
 * this future (`Task._suspendOn`), so `task.cancel()` cancels it, and the wake-up goes through
 * `Task._wakeup(fut, awaiter)`, which starts the task's step and reports a cancellation that
 * arrived after the wake-up through `_reject`. (This relies on the Awaiter protocol of futures.ts:
 * `_onDone(fut)`, `_settleFrom(fut)`, `_reject(err)`.)
 */
export class Waiter extends Future<unknown> {
  /** @internal */ _list: WaiterList;
  /** @internal */ _flags = IN_QUEUE;
  /** @internal Extra data a primitive attaches (a read/write kind, a borrower, an item). */
  _tag: unknown = undefined;
  /** @internal The signal of the call, kept for a re-wait (Queue). */
  _signal: AbortSignal | undefined = undefined;
  /** @internal The task suspended on this waiter (resumed through `_wakeup`). */
  _task: Task<unknown> | null = null;
  /** @internal The task's suspension this wait belongs to (see `Task._memberDone`). */
  _epoch = 0;
  /** @internal Resolvers of the promise the waiting code awaits. */
  _res!: (v: unknown) => void;
  /** @internal */ _rej!: (e: unknown) => void;

  constructor(loop: Loop, list: WaiterList) {
    super(loop);
    this._list = list;
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    if ((this._flags & REMOVED) === 0) this._list.nCancelled++;
    return true;
  }

  /** Whether the waiter was woken (given its result by the primitive). */
  woken(): boolean {
    return (this._flags & WOKEN) !== 0;
  }

  /** @internal DoneEntry: the future is done. */
  _onDone(): void {
    const t = this._task;
    if (t === null || !t._memberDone(this as Future<unknown>, this as unknown as Awaiter, this._epoch)) {
      this._task = null; // the task moved on: a re-wait must not claim it
      this._settleFrom();
    }
  }

  /** @internal Awaiter protocol: settle from the future's own state. */
  _settleFrom(): void {
    if (this._state === RESOLVED) this._list.resume(this, false, undefined);
    else this._list.resume(this, true, this._makeCancelledError());
  }

  /** @internal Awaiter protocol: the task was cancelled after the wake-up. */
  _reject(err: unknown): void {
    this._list.resume(this, true, err);
  }

  /** A task waiting on this shows the primitive: `waiting on <Lock locked waiters=2>`. */
  /** @internal A waiter shows its primitive (see internal/describe.ts). */
  override _describe(o: DescribeOptions): string {
    return show(this._list.owner, o);
  }
}

/** A `Resume` that only records the end of the wait and settles the promise with the raw outcome. */
export function plainResume(w: Waiter, failed: boolean, err: unknown): void {
  w._list.remove(w);
  if (failed) w._rej(err);
  else w._res(w._result);
}

/** A FIFO of waiters (see the module comment). */
export class WaiterList {
  /** @internal */ readonly q = new Deque<Waiter>();
  /** Waiters whose wait has not exited. */
  nIn = 0;
  /** Of those, cancelled ones. */
  nCancelled = 0;
  /** Of those, woken ones (no longer in `q`). */
  nWoken = 0;
  /** @internal Removed entries still inside `q`. */
  private _garbage = 0;

  /** `resume` is the code after the wait (see {@link Resume}). */
  constructor(
    readonly owner: object,
    readonly resume: Resume,
  ) {}

  /** Waiters that are neither woken nor cancelled: really waiting. */
  get nPending(): number {
    return this.nIn - this.nWoken - this.nCancelled;
  }

  /**
   * Appends a new waiter on `loop`, suspends the current task on it, and returns the promise the
   * caller awaits (settled by `resume`). `signal` (if any) cancels the waiter when it aborts; `tag`
   * is kept on the waiter for the primitive.
   */
  add(loop: Loop, signal: AbortSignal | undefined, tag?: unknown): Promise<never> {
    const w = new Waiter(loop, this);
    w._tag = tag;
    const p = promiseInto(w);
    this._enqueue(w, currentTaskOrNull(), signal);
    return p;
  }

  /**
   * A re-wait of the call `prev` was waiting for (CPython's `while self.empty(): await getter`):
   * a new waiter at the back of the line that settles `prev`'s promise and resumes `prev`'s task.
   */
  readd(prev: Waiter): void {
    const w = new Waiter(prev._loop, this);
    w._tag = prev._tag;
    w._res = prev._res;
    w._rej = prev._rej;
    this._enqueue(w, prev._task, prev._signal);
  }

  /** @internal */
  private _enqueue(w: Waiter, task: Task<unknown> | null, signal: AbortSignal | undefined): void {
    this.q.push(w);
    this.nIn++;
    w._addEntry(w as DoneEntry);
    if (task !== null && task._loop === w._loop && task._state === PENDING) {
      w._task = task;
      w._epoch = task._suspendOn(w);
    }
    if (signal !== undefined) {
      w._signal = signal;
      cancelOnAbort(w, signal);
    }
  }

  /** The waiter's wait has exited (CPython's `self._waiters.remove(fut)`); idempotent. */
  remove(w: Waiter): void {
    const f = w._flags;
    if ((f & REMOVED) !== 0) return;
    w._flags = f | REMOVED;
    this.nIn--;
    if (w._state === CANCELLED) this.nCancelled--;
    if ((f & WOKEN) !== 0) this.nWoken--;
    if ((f & IN_QUEUE) !== 0) {
      this._garbage++;
      this._trimHead();
      if (this._garbage > 32 && this._garbage * 2 > this.q.length) {
        this.q.retain(keepLive);
        this._garbage = 0;
      }
    }
  }

  /** The first waiter still in the queue (pending or cancelled; never woken or removed). */
  first(): Waiter | undefined {
    this._trimHead();
    return this.q.peek();
  }

  /** Wakes the first pending waiter with `value` (skipping and dropping done ones). */
  wakeNext(value: unknown): boolean {
    const w = this._popPending();
    if (w === undefined) return false;
    this._wake(w, value);
    return true;
  }

  /**
   * Pops and returns the first pending waiter without waking it (the caller decides, e.g. by its tag),
   * or undefined. Done entries before it are dropped.
   */
  peekPending(): Waiter | undefined {
    const q = this.q;
    for (;;) {
      const w = q.peek();
      if (w === undefined) return undefined;
      if (w._state === PENDING) return w;
      void q.shift();
      this._dropped(w);
    }
  }

  /** Wakes `w`, which must be the head returned by `peekPending`. */
  wakeHead(w: Waiter, value: unknown): void {
    void this.q.shift();
    this._wake(w, value);
  }

  /** Wakes every pending waiter with `value`; returns how many. */
  wakeAll(value: unknown): number {
    let n = 0;
    for (let w = this._popPending(); w !== undefined; w = this._popPending()) {
      this._wake(w, value);
      n++;
    }
    return n;
  }

  /** @internal */
  private _popPending(): Waiter | undefined {
    const q = this.q;
    while (q.length > 0) {
      const w = q.shift() as Waiter;
      if (w._state === PENDING) return w;
      this._dropped(w);
    }
    return undefined;
  }

  /** @internal */
  private _wake(w: Waiter, value: unknown): void {
    w._flags = (w._flags & ~IN_QUEUE) | WOKEN;
    this.nWoken++;
    w._resolve(value);
  }

  /** @internal `w` (done: cancelled or removed) was shifted out of the queue. */
  private _dropped(w: Waiter): void {
    const f = w._flags;
    w._flags = f & ~IN_QUEUE;
    if ((f & REMOVED) !== 0) this._garbage--;
  }

  /** @internal */
  private _trimHead(): void {
    const q = this.q;
    for (;;) {
      const w = q.peek();
      if (w === undefined || (w._flags & REMOVED) === 0) return;
      void q.shift();
      w._flags &= ~IN_QUEUE;
      this._garbage--;
    }
  }
}

function keepLive(w: Waiter): boolean {
  if ((w._flags & REMOVED) === 0) return true;
  w._flags &= ~IN_QUEUE;
  return false;
}

/** A resolved promise shared by every fast path: awaiting it allocates nothing of ours. */
export const RESOLVED_TRUE: Promise<true> = Promise.resolve(true);
/** Same, for `Promise<void>`. */
export const RESOLVED_VOID: Promise<void> = Promise.resolve();

/** The `CancelledError` for a call made with an already aborted signal. */
export function abortedError(signal: AbortSignal): CancelledError {
  return new CancelledError(abortMessage(signal));
}

/**
 * The start of every waiting call of the primitives (`Lock.acquire`, `Queue.get`, `Barrier.wait`…),
 * in the order each of them had it written out before:
 * 1. `options` and `options.signal` are checked: a TypeError naming the call, thrown at once;
 * 2. an already aborted signal: returns the `CancelledError` the call rejects with (or throws, in an
 *    async function), having done nothing;
 * 3. a cancellation of the current task is raised at the call (`throwAtCall`);
 * 4. returns the signal (undefined without one), for the waiter list (`WaiterList.add`).
 *
 * The call is named `${owner}.${method}` when `owner` is a string, else after `owner`'s class (so
 * a PriorityQueue says `PriorityQueue.put`); the name is built only for an error message, so the
 * common call — no options, or options with a live signal — allocates nothing.
 */
export function startWait(options: { signal?: AbortSignal } | undefined, owner: string | object, method: string): AbortSignal | undefined | CancelledError {
  // Kept tiny so that it inlines into every caller, even callers inlined into their own callers.
  if (options !== undefined) return startWaitWith(options, owner, method);
  throwAtCall();
  return undefined;
}

/**
 * Whether `startWait`'s result ends the call: it is the `CancelledError` of an already aborted
 * signal. (Tested this way, not with `instanceof CancelledError`, which measured ~15 ns per call on
 * the no-options path; `undefined` is the common case and is ruled out first.)
 */
export function abortedAtStart(started: AbortSignal | CancelledError | undefined): started is CancelledError {
  return started !== undefined && !(started instanceof AbortSignal);
}

function startWaitWith(options: { signal?: AbortSignal }, owner: string | object, method: string): AbortSignal | undefined | CancelledError {
  if (options === null || typeof options !== "object") checkOptions(options, callName(owner, method)); // throws
  const signal = options.signal;
  if (signal !== undefined) {
    if (!(signal instanceof AbortSignal)) checkSignal(signal, callName(owner, method)); // throws
    if (signal.aborted) return abortedError(signal);
  }
  throwAtCall();
  return signal;
}

function callName(owner: string | object, method: string): string {
  return `${typeof owner === "string" ? owner : owner.constructor.name}.${method}`;
}

/** @internal `run(fn)` after `acquired` settled: release however `fn` ends. */
export async function runHeld<R>(target: Releasable, acquired: Promise<unknown>, fn: () => R | PromiseLike<R>): Promise<Awaited<R>> {
  await acquired;
  try {
    return await fn();
  } finally {
    target.release();
  }
}

/** @internal `run(fn)` once acquired: release however `fn` ends. */
export async function runTaken<R>(target: Releasable, fn: () => R | PromiseLike<R>): Promise<Awaited<R>> {
  try {
    return await fn();
  } finally {
    target.release();
  }
}

/** @internal The continuation of a `run(fn)` that waited: its waiter resolves with `fn`. */
export function makeRunCont(target: Releasable): (fn: () => unknown) => Promise<unknown> {
  return (fn) => runTaken(target, fn);
}

/** @internal */
export async function holdAfter(target: Releasable, acquired: Promise<unknown>): Promise<Held> {
  await acquired;
  return new Held(target);
}

/** The lowest-level shape every scoped form needs. */
export interface Releasable {
  release(): void;
}

/**
 * What `hold()` returns: release it once, by hand or with `using`/`await using`.
 * @example
 * ```ts
 * import { Lock } from "tsaio";
 * const lock = new Lock();
 * {
 *   await using _held = await lock.hold();
 *   console.log(lock.locked()); // true
 * }
 * console.log(lock.locked()); // false
 * ```
 */
export class Held implements Disposable, AsyncDisposable {
  /** @internal */ _target: Releasable | null;

  /** @internal */
  constructor(target: Releasable) {
    this._target = target;
  }

  /** Whether this hold was released already. */
  get released(): boolean {
    return this._target === null;
  }

  /** Releases what was acquired; a second call does nothing. */
  release(): void {
    const t = this._target;
    if (t !== null) {
      this._target = null;
      t.release();
    }
  }

  /** `using` support: releases. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** `await using` support: releases. */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return RESOLVED_VOID;
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    return `<Held ${this._target === null ? "released" : show(this._target, o)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}
