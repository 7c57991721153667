/**
 * Future: a value that will be set later, asyncio's state machine (pending → finished | cancelled)
 * made awaitable in JS.
 *
 * Two things differ from a Promise and matter:
 * - Done callbacks (and the continuations of `await fut`) are scheduled on the loop with `callSoon`,
 *   in registration order, never run synchronously; so everything that wakes up because a future
 *   completed runs in loop order, as in asyncio.
 * - `await fut` inside a task records the future as the task's `_futWaiter`: cancelling the task
 *   cancels the future it waits on (unless shielded), and the loop learns that the task's step ended.
 * @module
 */
import { inspect } from "node:util";
import { ambientTask, type AmbientTask, runOutsideTask, runningLoop } from "./context.js";
import { CancelledError, InvalidStateError } from "./errors.js";
import { checkFunction, describe } from "./internal/validate.js";
import { countText, type DescribeOptions, FULL, show, showError } from "./internal/describe.js";
import { creationStackOf, noteAwaited, noteDone, trackCreation, untrack } from "./internal/track.js";
import { type ExceptionContext, type Loop, registerFutureFactory } from "./loop.js";

/** @internal */ export const PENDING = 0;
/** @internal */ export const RESOLVED = 1;
/** @internal */ export const REJECTED = 2;
/** @internal */ export const CANCELLED = 3;
const STATE_NAMES = ["pending", "finished", "finished", "cancelled"] as const;

/** An internal done callback: an object, so registering one allocates no closure. */
export interface DoneEntry {
  /** @internal */
  _onDone(fut: Future<unknown>): void;
}
type Entry = ((fut: Future<unknown>) => void) | DoneEntry;

/** What a failed, never-retrieved future reports when it is collected or its loop shuts down. */
/** @internal */
export interface Unretrieved {
  loop: Loop;
  message: string;
  exception: unknown;
  taskName?: string;
  /** Weak, so that the report never keeps the future alive (it is the FinalizationRegistry's held value). */
  ref: WeakRef<Future<unknown>>;
}

const collected = new FinalizationRegistry<Unretrieved>((u) => {
  u.loop._unretrieved.delete(u);
  if (u.loop.isClosed()) return;
  u.loop.callExceptionHandler({ message: u.message, exception: u.exception, ...(u.taskName === undefined ? {} : { taskName: u.taskName }) });
});

// ------------------------------------------------------------------ rule (c): cancel at the next call
//
// A task cancelled while it awaits a promise tsaio did not make (`fetch`, `pg`, `fs`…) cannot be
// thrown into. The request is kept on the task (`_cancelAtCall`) and raised by the task's first call
// of a tsaio function that returns an awaitable, before that call does anything. Every such function
// starts with `takeAtCall()`; this counter keeps that check to one comparison while no task anywhere
// holds such a request (almost always).
let nAtCall = 0;

/** @internal A task gained (+1) or lost (-1) an undelivered rule-(c) request. */
export function countAtCall(delta: number): void {
  nAtCall += delta;
}

/**
 * @internal Rule (c) for every awaitable: if the current task holds a cancel request that arrived while
 * it awaited a foreign promise, marks it delivered and returns the `CancelledError` the caller must
 * raise (before having any effect); otherwise null.
 */
export function takeAtCall(): CancelledError | null {
  if (nAtCall === 0) return null;
  const t = ambientTask() as AwaitingTask | null;
  return t !== null && t._cancelAtCall ? t._deliverAtCall() : null;
}

/**
 * @internal Rule (c) at the top of every tsaio function that returns an awaitable: throws the pending
 * `CancelledError` synchronously, before the call has any effect. Throwing (rather than returning a
 * rejected promise or a cancelled future) matters: in `wait([sleep(1), sleep(2)])` the first `sleep`
 * must raise in the task, not hand a cancelled future to `wait`, which would count it as done; and a
 * rejected promise kept for later (`const p = lock.acquire(); await x; await p`) would be reported
 * as an unhandled rejection meanwhile.
 */
export function throwAtCall(): void {
  if (nAtCall === 0) return;
  const e = takeAtCall();
  if (e !== null) throw e;
}

/** Something that keeps the resolvers of a promise made for it. @internal */
export interface Resolvers {
  _res: (v: unknown) => void;
  _rej: (e: unknown) => void;
}

// `new Promise(capture)` hands its resolvers to the object being built, without a closure per call.
let capturing: Resolvers | null = null;
function capture(res: (v: unknown) => void, rej: (e: unknown) => void): void {
  (capturing as Resolvers)._res = res;
  (capturing as Resolvers)._rej = rej;
}

/** @internal A new promise whose resolvers are stored on `target` (`_res`, `_rej`). */
export function promiseInto(target: Resolvers): Promise<never> {
  capturing = target;
  const p = new Promise<never>(capture as (res: (v: never) => void, rej: (e: unknown) => void) => void);
  capturing = null;
  return p;
}

/**
 * What a future knows of the task awaiting it: the few members `then` and the awaiter use. Tasks
 * (tasks.ts, one layer up) implement it; the future never names `Task`. The ambient task of
 * context.ts is one of these whenever it is set (only tasks enter it).
 */
export interface AwaitingTask extends AmbientTask {
  readonly name: string;
  /** @internal */
  readonly _state: number;
  /** @internal Rule (c): a request waits for the task's next tsaio call. */
  readonly _cancelAtCall: boolean;
  /** @internal Rule (c): marks that request delivered; the error the call raises. */
  _deliverAtCall(): CancelledError;
  /** @internal The task's body awaits `fut`: the step ends; returns the suspension's epoch. */
  _suspendOn(fut: Future<unknown>): number;
  /** @internal A future of suspension `epoch` completed; true when that resumed the task as a step. */
  _memberDone(fut: Future<unknown>, aw: Awaiter, epoch: number): boolean;
}

/**
 * One `then` registration. When `_task` is set it is the continuation of `await fut` in that task,
 * resumed through `Task._wakeup` so that the loop can track the step and deliver cancellation.
 * @internal
 */
export class Awaiter implements DoneEntry {
  _task: AwaitingTask | null = null;
  /** Which suspension of `_task` this await belongs to (see `Task._suspendOn`). */
  _epoch = 0;
  _res!: (v: unknown) => void;
  _rej!: (e: unknown) => void;
  constructor(
    readonly _onF: ((v: never) => unknown) | null | undefined,
    readonly _onR: ((e: unknown) => unknown) | null | undefined,
  ) {}

  _onDone(fut: Future<unknown>): void {
    const t = this._task;
    if (t === null || !t._memberDone(fut, this, this._epoch)) this._settleFrom(fut);
  }

  _settleFrom(fut: Future<unknown>): void {
    const s = fut._state;
    if (s === RESOLVED) this._fulfill(fut._result);
    else if (s === REJECTED) {
      fut._retrieved();
      this._reject(fut._exception);
    } else this._reject(fut._makeCancelledError());
  }

  _fulfill(v: unknown): void {
    const f = this._onF;
    if (typeof f === "function") {
      try {
        this._res((f as (v: unknown) => unknown)(v));
      } catch (e) {
        this._rej(e);
      }
    } else this._res(v);
  }

  _reject(e: unknown): void {
    const f = this._onR;
    if (typeof f === "function") {
      try {
        this._res(f(e));
      } catch (e2) {
        this._rej(e2);
      }
    } else this._rej(e);
  }
}

/**
 * A result that will be set later: asyncio's `Future`, awaitable like a promise.
 * @typeParam T - the type of the result.
 * @example
 * ```ts
 * import { Future, getRunningLoop } from "tsaio";
 * const fut = new Future<string>();
 * getRunningLoop().callLater(10, () => fut.setResult("ready"));
 * console.log(await fut, fut.done()); // ready true
 * ```
 */
export class Future<T> implements PromiseLike<T> {
  /** @internal */ readonly _loop: Loop;
  /** @internal */ _state = PENDING;
  /** @internal */ _result: T | undefined = undefined;
  /** @internal */ _exception: unknown = undefined;
  /** @internal */ _cancelMessage: string | undefined = undefined;
  /** @internal */ _cancelledExc: CancelledError | null = null;
  /** @internal */ _cb0: Entry | null = null;
  /** @internal */ _cbs: Entry[] | null = null;
  /** @internal */ _unretrieved: Unretrieved | null = null;

  /** A pending future on `loop` (default: the running loop). */
  constructor(loop?: Loop) {
    if (loop !== undefined && (loop === null || typeof loop !== "object" || typeof (loop as Loop)._soon !== "function")) {
      throw new TypeError(`Future: \`loop\` must be a Loop or undefined, got ${describe(loop)}`);
    }
    this._loop = loop ?? runningLoop();
    if (this._loop._debug) trackCreation(this as Future<unknown>, "Future");
  }

  /** The loop this future belongs to. */
  getLoop(): Loop {
    return this._loop;
  }

  /** Whether the future is finished or cancelled. */
  done(): boolean {
    return this._state !== PENDING;
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * The result. Throws the future's error if it failed, `CancelledError` if it was cancelled, and
   * `InvalidStateError` while it is pending.
   */
  result(): T {
    const s = this._state;
    if (s === RESOLVED) return this._result as T;
    if (s === REJECTED) {
      this._retrieved();
      throw this._exception;
    }
    if (s === CANCELLED) throw this._makeCancelledError();
    throw new InvalidStateError("Future.result: the result is not ready (the future is pending)");
  }

  /**
   * The error the future failed with, or null if it succeeded. Throws `CancelledError` if it was
   * cancelled and `InvalidStateError` while it is pending.
   */
  exception(): unknown {
    const s = this._state;
    if (s === RESOLVED) return null;
    if (s === REJECTED) {
      this._retrieved();
      return this._exception;
    }
    if (s === CANCELLED) throw this._makeCancelledError();
    throw new InvalidStateError("Future.exception: the exception is not set (the future is pending)");
  }

  /** Marks the future done with `value`; `InvalidStateError` if it is already done. */
  setResult(value: T): void {
    if (this._state !== PENDING) throw new InvalidStateError(`Future.setResult: the future is already ${STATE_NAMES[this._state]}`);
    this._resolve(value);
  }

  /** Marks the future failed with `error`; `InvalidStateError` if it is already done. */
  setException(error: unknown): void {
    if (this._state !== PENDING) throw new InvalidStateError(`Future.setException: the future is already ${STATE_NAMES[this._state]}`);
    this._fail(error);
  }

  /**
   * Cancels the future: it ends cancelled and its callbacks are scheduled. Returns false if it was
   * already done.
   */
  cancel(msg?: string): boolean {
    if (this._state !== PENDING) {
      // asyncio: cancel() on a failed future counts as looking at it (no "never retrieved" report).
      if (this._state === REJECTED) this._retrieved();
      return false;
    }
    this._state = CANCELLED;
    this._cancelMessage = msg;
    this._scheduleCallbacks();
    return true;
  }

  /**
   * Calls `cb(future)` once the future is done, scheduled on the loop (never synchronously), in
   * registration order. An error thrown by `cb` goes to the loop's exception handler.
   */
  addDoneCallback(cb: (fut: this) => void): void {
    checkFunction(cb, "Future.addDoneCallback", "cb");
    const entry = cb as unknown as Entry;
    if (this._state !== PENDING) this._loop._soon(runEntry, this, entry);
    else this._addEntry(entry);
  }

  /** Removes every registration of `cb`; returns how many were removed. */
  removeDoneCallback(cb: (fut: this) => void): number {
    return this._removeEntry(cb as unknown as Entry);
  }

  /**
   * Makes the future awaitable. Inside a task, `await fut` also makes `fut` the task's waiter, so
   * cancelling the task cancels `fut`. A `then` with both callbacks counts as such an await.
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this._then(onfulfilled, onrejected, true);
  }

  /** Makes a Future usable wherever a `Promise` is typed (it has then/catch/finally). */
  get [Symbol.toStringTag](): string {
    return "Future";
  }

  /** Like `Promise.prototype.catch`. */
  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this._then(null, onrejected, false) as Promise<T | R>;
  }

  /** Like `Promise.prototype.finally`. */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return Promise.prototype.finally.call(this._then(null, null, false), onfinally) as Promise<T>;
  }

  // ---------------------------------------------------------------- internals

  /** @internal */
  _then(onF: ((v: never) => unknown) | null | undefined, onR: ((e: unknown) => unknown) | null | undefined, asAwait: boolean): Promise<never> {
    if (nAtCall !== 0) {
      // Rule (c): a cancel that arrived while the task awaited a foreign promise is raised here, before
      // anything is registered (the future is neither awaited nor cancelled).
      const e = takeAtCall();
      if (e !== null) return Promise.reject(e).then(onF as (v: unknown) => never, onR as (e: unknown) => never);
    }
    const s = this._state;
    if (s !== PENDING) {
      if (this._loop._debug) noteAwaited(this as Future<unknown>);
      // asyncio: awaiting a done future does not suspend the task. A native promise settles the
      // continuation in a microtask, with no loop iteration and nothing of ours to allocate.
      let settled: Promise<unknown>;
      if (s === RESOLVED) settled = Promise.resolve(this._result);
      else {
        if (s === REJECTED) this._retrieved();
        settled = Promise.reject(s === REJECTED ? this._exception : this._makeCancelledError());
      }
      return settled.then(onF as (v: unknown) => never, onR as (e: unknown) => never);
    }
    const aw = new Awaiter(onF, onR);
    const p = promiseInto(aw);
    this._addEntry(aw);
    if (asAwait && typeof onF === "function" && typeof onR === "function") {
      const task = ambientTask() as AwaitingTask | null;
      if (task !== null && task === (this as unknown)) {
        // asyncio refuses this too: the task could never wake up, and cancelling it would recurse.
        this._removeEntry(aw);
        aw._reject(new InvalidStateError(`a task cannot await itself (${task.name})`));
        return p;
      }
      if (task !== null && task._loop === this._loop && task._state === PENDING) {
        aw._task = task;
        aw._epoch = task._suspendOn(this as Future<unknown>);
      }
    }
    return p;
  }

  /** @internal */
  _resolve(value: T): void {
    this._state = RESOLVED;
    this._result = value;
    this._scheduleCallbacks();
  }

  /** @internal */
  _fail(error: unknown): void {
    this._state = REJECTED;
    this._exception = error;
    const u: Unretrieved = { loop: this._loop, message: "Future exception was never retrieved", exception: error, ref: new WeakRef(this as Future<unknown>) };
    this._describeUnretrieved(u);
    this._unretrieved = u;
    collected.register(this, u, this);
    this._loop._unretrieved.add(u);
    this._scheduleCallbacks();
  }

  /** @internal Lets Task name itself in the never-retrieved report. */
  protected _describeUnretrieved(_u: Unretrieved): void {}

  /** @internal The error was seen by someone: no "never retrieved" report. */
  _retrieved(): void {
    if (this._unretrieved !== null) {
      this._loop._unretrieved.delete(this._unretrieved);
      this._unretrieved = null;
      collected.unregister(this);
    }
  }

  /** @internal Reports the error if nobody retrieved it (the loop calls this at shutdown). */
  _reportUnretrieved(): void {
    const u = this._unretrieved;
    if (u === null) return;
    this._retrieved();
    const createdAt = creationStackOf(this as Future<unknown>);
    this._loop.callExceptionHandler({
      message: u.message,
      exception: u.exception,
      future: this as Future<unknown>,
      ...(createdAt === undefined ? {} : { createdAt }),
      ...(u.taskName === undefined ? {} : { taskName: u.taskName, task: this as unknown as ExceptionContext["task"] }),
    });
  }

  /** @internal */
  _makeCancelledError(): CancelledError {
    if (this._cancelledExc === null) this._cancelledExc = CancelledError._fast(this._cancelMessage ?? "", this._loop.getDebug());
    return this._cancelledExc;
  }

  /** @internal */
  _addEntry(entry: Entry): void {
    if (this._loop._debug) noteAwaited(this as Future<unknown>);
    if (this._cb0 === null && this._cbs === null) this._cb0 = entry;
    else if (this._cbs === null) {
      this._cbs = [this._cb0 as Entry, entry];
      this._cb0 = null;
    } else this._cbs.push(entry);
  }

  /** @internal */
  _removeEntry(entry: Entry): number {
    if (this._cb0 === entry) {
      this._cb0 = null;
      return 1;
    }
    const list = this._cbs;
    if (list === null) return 0;
    const kept = list.filter((e) => e !== entry);
    this._cbs = kept.length > 0 ? kept : null;
    return list.length - kept.length;
  }

  /** @internal */
  _scheduleCallbacks(): void {
    const loop = this._loop;
    if (loop._debug) {
      untrack(this as Future<unknown>);
      noteDone(this as Future<unknown>);
    }
    const c0 = this._cb0;
    if (c0 !== null) {
      this._cb0 = null;
      loop._soon(runEntry, this, c0);
    } else if (this._cbs !== null) {
      const list = this._cbs;
      this._cbs = null;
      for (let i = 0; i < list.length; i++) loop._soon(runEntry, this, list[i]);
    }
  }

  /** @internal Number of registered callbacks (for inspection). */
  _callbackCount(): number {
    return this._cb0 !== null ? 1 : this._cbs === null ? 0 : this._cbs.length;
  }

  /** @internal The state word and its details: `pending waiters=1`, `finished result=3` (redacted: no result). */
  _stateText(o: DescribeOptions = FULL): string {
    const s = this._state;
    if (s === PENDING) return "pending" + countText("waiters", this._callbackCount());
    if (s === RESOLVED) return o.redact ? "finished" : `finished result=${show(this._result, o)}`;
    if (s === REJECTED) return `finished exception=${showError(this._exception, o)}`;
    return "cancelled";
  }

  /** @internal This future's describer (see internal/describe.ts); subclasses add their own state. */
  _describe(o: DescribeOptions): string {
    return `<${this.constructor.name} ${this._stateText(o)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/** Runs one done-callback entry of `this` future. */
function runEntry(this: Future<unknown>, entry: unknown): void {
  if (typeof entry === "function") {
    try {
      runOutsideTask(entry as (f: Future<unknown>) => void, this);
    } catch (exception) {
      this._loop.callExceptionHandler({ message: `Exception in done callback ${(entry as { name: string }).name || "<anonymous>"}()`, exception, future: this });
    }
  } else (entry as DoneEntry)._onDone(this);
}

/** @internal Runs every callback now (for futures completed from inside a loop handle). */
export function runCallbacksNow(fut: Future<unknown>): void {
  const c0 = fut._cb0;
  if (c0 !== null) {
    fut._cb0 = null;
    runEntry.call(fut, c0);
  } else if (fut._cbs !== null) {
    const list = fut._cbs;
    fut._cbs = null;
    for (let i = 0; i < list.length; i++) runEntry.call(fut, list[i]);
  }
}

/**
 * A Future that a synchronization object (a Lock, a Queue, an executor…) hands to a waiting task.
 * It remembers its owner so that `util.inspect`, `taskTree()` and deadlock reports can say what
 * the task waits on (`waiting on <Lock locked waiters=2>`).
 * @internal
 */
export class WaiterFuture<T> extends Future<T> {
  constructor(
    loop: Loop,
    readonly _owner: object,
  ) {
    super(loop);
  }

  override _describe(o: DescribeOptions): string {
    return this._state === PENDING ? show(this._owner, o) : super._describe(o);
  }
}

// ---------------------------------------------------------------------------- AbortSignal wiring

/** @internal Cancels `fut` when `signal` aborts; the listener is removed once `fut` is done. */
export function cancelOnAbort(fut: Future<unknown>, signal: AbortSignal): void {
  if (signal.aborted) {
    fut.cancel(abortMessage(signal));
    return;
  }
  const onAbort = (): void => {
    fut.cancel(abortMessage(signal));
  };
  signal.addEventListener("abort", onAbort, { once: true });
  fut._addEntry({ _onDone: () => signal.removeEventListener("abort", onAbort) });
}

/** @internal The cancel message for an aborted signal: its reason's message, the reason itself, or "aborted". */
export function abortMessage(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  return r === undefined ? "aborted" : String(r);
}

/**
 * Whether `value` is a tsaio Future (or Task).
 * @example
 * ```ts
 * import { isFuture, Future } from "tsaio";
 * console.log(isFuture(new Future()), isFuture(Promise.resolve())); // true false
 * ```
 */
export function isFuture(value: unknown): value is Future<unknown> {
  return value instanceof Future;
}

// The loop makes futures (`loop.createFuture()`) without importing this module: it sits below it.
registerFutureFactory(<T>(loop: Loop) => new Future<T>(loop));
