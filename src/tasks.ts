/**
 * Tasks: functions run concurrently on the loop, cancellable, with asyncio's semantics.
 *
 * ## The cancellation model — read this before touching anything
 *
 * JS cannot throw into a running async function, so cancellation is cooperative (as in Kotlin's
 * coroutines) yet observably the same as asyncio's:
 *
 * 1. `task.cancel(msg)` counts a request (`cancelling()`) and aborts the task's `signal` at once (so
 *    `fetch`, `fs`, `child_process`… given that signal stop). Where the request goes is then decided
 *    on the spot, by what the task is doing:
 *    (a) suspended on tsaio futures → those futures are cancelled (asyncio's `_fut_waiter.cancel()`),
 *        and their completion wakes the task with `CancelledError` at its `await`;
 *    (b) not started yet, queued to resume from a tsaio future, or the caller is the task itself →
 *        asyncio's rule: the request waits in `_mustCancel` and is delivered at the next suspension
 *        (`sleep(0)` included) or when the task resumes;
 *    (c) otherwise the task is blocked on a promise tsaio did not make (JS cannot throw into it):
 *        the request is also marked `_cancelAtCall`, and the task's first call of any tsaio function
 *        that returns an awaitable raises it — before that call has any effect (the lock is not
 *        taken, the item stays queued). Every such function starts with `throwAtCall()` (futures.ts),
 *        the one helper that implements this; synchronous calls never raise.
 * 2. Every tsaio await is a cancellation point because awaiting a tsaio object inside a task goes
 *    through `Future.then`, which registers the task as the future's waiter (`_suspendOn`); a
 *    pending `_mustCancel` cancels that future right away (asyncio's end-of-step check). Several
 *    tsaio awaits registered in one go (`Promise.all([sleep(1), lock.acquire()])`) form one
 *    *suspension*: cancelling the task cancels all of them.
 * 3. A task whose body settles while a request is still undelivered ends *cancelled*, not with its
 *    value: the cancellation is never lost. A task that catches `CancelledError` and returns a value
 *    ends with that value (asyncio allows it; `cancelling()` stays > 0).
 * 4. Cancelling a task that awaits another Task/Future cancels that one too (it is `_futWaiter`),
 *    unless it is shielded (`shield()` hands out a separate outer future).
 * 5. `uncancel()` withdraws a request. `timeout()` and `taskGroup()` compare `cancelling()` before
 *    and after to tell their own cancellation from an outside one. When the count drops to 0 the
 *    pending request is dropped (3.13) and the task gets a fresh `signal` on next access.
 * 6. A body that fails with the `AbortError` caused by its own aborted signal also ends cancelled.
 *
 * ## Steps
 * The loop runs one task step at a time (see loop.ts). A step starts when the loop calls `_step`
 * (first run) or `_wakeup` (the awaited future completed) and ends at `_suspendOn` or when the body
 * settles. The ambient current task is entered once per task with AsyncLocalStorage.
 * @module
 */
import { ambientTask, runningLoop, setHandleTask, taskStorage } from "./context.js";
import { CancelledError, InvalidStateError } from "./errors.js";
import { setMaxListeners } from "node:events";
import { Awaiter, type AwaitingTask, CANCELLED, cancelOnAbort, countAtCall, Future, PENDING, REJECTED, RESOLVED, runCallbacksNow, throwAtCall, type Unretrieved } from "./futures.js";
import { channels, creationStackOf, expectAwait, trackCreation } from "./internal/track.js";
import { checkDelay, checkOptions, checkSignal, describe, isThenable } from "./internal/validate.js";
import { type DescribeOptions, FULL, msText, show } from "./internal/describe.js";
import { type Loop, type PendingTaskList, registerTaskFactory, type SteppingTask, type TimerHandle, type TimerItem } from "./loop.js";
import type { Slot } from "./internal/ring.js";

/** Options of `createTask`. */
export interface TaskOptions {
  /** The task's name, shown in `util.inspect`, deadlock reports and errors. Default `Task-<n>`. */
  name?: string;
}

let taskCounter = 0;

/**
 * A function running concurrently on the loop: asyncio's `Task`. Create one with `createTask`.
 * A Task is a Future of the function's result, so it can be awaited, cancelled, and combined.
 * @example
 * ```ts
 * import { createTask, sleep } from "tsaio";
 * const t = createTask(async () => { await sleep(10); return 42; }, { name: "answer" });
 * console.log(t.name, await t); // answer 42
 * ```
 */
export class Task<T> extends Future<T> implements AwaitingTask, SteppingTask {
  /** @internal */ _fn: (() => T | PromiseLike<T>) | null;
  /** @internal */ _name: string | null; // made on first read: most tasks are never named
  /** @internal */ readonly _id: number;
  /** @internal */ _prevTask: Task<unknown> | null = null;
  /** @internal */ _nextTask: Task<unknown> | null = null;
  // ---- The suspension and cancel state, and what holds between its fields (asserted by
  // `_checkInvariants()` in debug mode, at each step's begin and end and at each cancel request):
  //
  // * Suspension: `_futWaiter !== null` iff `_nWaiting > 0` (futures of the current suspension not
  //   done yet); `_moreWaiters !== null` ⇒ `_futWaiter !== null`; while pending, `_nWaiting <= 1 +
  //   _moreWaiters.length`. `_waitEpoch` is the loop epoch the suspension began in; `_waitPartial`: one
  //   of several futures completed (Promise.all/race), so the task may run without a step.
  // * Requests: `_numCancelsRequested >= 0` (requests minus `uncancel()`s). `_mustCancel` (a request
  //   not delivered yet) ⇒ `_numCancelsRequested > 0`. `_cancelAtCall` (rule c) ⇒ `_mustCancel` and
  //   `_started`: delivering or withdrawing the request (`_delivered`) clears both.
  // * Start: `!_started` ⇒ not suspended and not `_detached`; `_detached` (blocked on a foreign
  //   promise, counted in `loop._nDetached`) ⇒ `_started`.
  // * Done ⇒ not `_detached`, no `_cancelAtCall`, unlinked from the loop's pending-task list.
  /** @internal The (first) tsaio future of the current suspension; null when not suspended. */
  _futWaiter: Future<unknown> | null = null;
  /** @internal The other futures of the same suspension (a `Promise.all` over tsaio awaitables). */
  _moreWaiters: Future<unknown>[] | null = null;
  /** @internal Futures of the current suspension not done yet. */
  _nWaiting = 0;
  /** @internal The loop epoch of the current suspension: awaits registered in it belong together. */
  _waitEpoch = -1;
  /** @internal One future of the suspension completed while others had not: the task may be running. */
  _waitPartial = false;

  /** @internal The epoch whose suspension a pending request was delivered to. */
  _deliveredEpoch = -1;
  /** @internal */ _mustCancel = false;
  /** @internal Rule (c): the request is raised by the task's next tsaio call (see the module comment). */
  _cancelAtCall = false;

  /** @internal */ _numCancelsRequested = 0;
  /** @internal */ _ac: AbortController | null = null;
  /** @internal */ _detached = false;
  /** @internal */ _started = false;

  /** @internal Makes a Task: what `createTask` and the loop's task factory call (the constructor is protected). */
  static _make<U>(fn: () => U | PromiseLike<U>, options: TaskOptions | undefined, loop: Loop): Task<U> {
    return new Task<U>(fn, options, loop);
  }

  /**
   * Use `createTask` or `loop.createTask`. Protected so that user code cannot call it: the
   * declaration files keep it (stripInternal would drop an internal one and leave Future's).
   */
  protected constructor(fn: () => T | PromiseLike<T>, options: TaskOptions | undefined, loop: Loop) {
    if (typeof fn !== "function") {
      throw new TypeError(
        `createTask: \`fn\` must be a function, e.g. createTask(() => work()); got ${describe(fn)}` +
          (isThenable(fn) ? " (a started promise already runs outside any task and cannot be cancelled)" : ""),
      );
    }
    checkOptions(options, "createTask");
    super(loop);
    const name = options?.name;
    if (name !== undefined && typeof name !== "string") throw new TypeError(`createTask: \`name\` must be a string, got ${describe(name)}`);
    this._fn = fn;
    this._id = ++taskCounter;
    this._name = name ?? null;
    linkTask(loop, this as Task<unknown>);
    loop._soon(taskStep, this, undefined);
    if (loop._debug) trackCreation(this as Task<unknown>, `Task ${JSON.stringify(this.name)}`);
    if (channels.taskCreated.hasSubscribers) channels.taskCreated.publish({ task: this });
  }

  /** The task's name (settable). */
  get name(): string {
    if (this._name === null) this._name = `Task-${this._id}`;
    return this._name;
  }
  /** Renames the task (shown in inspect output, task trees and reports). */
  set name(value: string) {
    this._name = String(value);
  }

  /**
   * Requests cancellation: the task gets `CancelledError` at its current or next tsaio await, and
   * `signal` aborts now. Returns false if the task is already done. `msg` becomes the error's message.
   */
  override cancel(msg?: string): boolean {
    return this._requestCancel(msg, null);
  }

  /** @internal `cancel(msg)`, with `origin` naming who asks ("timeout", "taskGroup"…) for debug reports. */
  _requestCancel(msg: string | undefined, origin: string | null): boolean {
    if (this._state !== PENDING) {
      if (this._state === REJECTED) this._retrieved();
      return false;
    }
    this._numCancelsRequested++;
    if (channels.taskCancel.hasSubscribers) channels.taskCancel.publish({ task: this, message: msg });
    const ac = this._ac;
    if (ac !== null && !ac.signal.aborted) ac.abort(CancelledError._fast(msg ?? "", this._loop.getDebug()));
    if (this._nWaiting > 0) {
      // (a) Suspended on tsaio futures: cancel them all (a Promise.all over them rejects at once).
      let handed = (this._futWaiter as Future<unknown>).cancel(msg);
      const more = this._moreWaiters;
      if (more !== null) for (let i = 0; i < more.length; i++) if (more[i]!.cancel(msg)) handed = true;
      // A single tsaio await raises the CancelledError into the task. Several (Promise.all,
      // allSettled, race) may swallow it (allSettled does): the task's next tsaio call raises it too.
      // One tsaio await raises the CancelledError into the task. Several (Promise.all, allSettled,
      // race over tsaio awaitables) may not pass it on (allSettled swallows it; a race may be decided
      // already), and tsaio cannot tell which combinator it is (each gets a wrapper promise of its own):
      // so the task's next tsaio call raises it too (rule c below) — never lost, though a caller that
      // catches it from Promise.all sees it twice. gather() and wait() are exact.
      if (!this._waitPartial && more === null) {
        if (handed) return true;
        // (b) The futures are done and the task is queued to resume: deliver it then.
        this._mustCancel = true;
        this._cancelMessage = msg;
        return true;
      }
    }
    this._mustCancel = true;
    this._cancelMessage = msg;
    // (c) Started, not suspended on tsaio, and not the caller: it awaits a foreign promise.
    if (this._started && currentTaskOrNull() !== (this as Task<unknown>)) this._setAtCall(origin ?? (msg === undefined ? "cancel()" : `cancel(${JSON.stringify(msg)})`));
    if (this._loop._debug) this._checkInvariants();
    return true;
  }

  /**
   * @internal Debug mode: asserts the invariants of the suspension and cancel fields (see them); throws
   * an Error naming the broken one. Cheap; never called with debug off.
   */
  _checkInvariants(): void {
    const broken = (what: string): never => {
      throw new Error(
        `tsaio: Task invariant broken: ${what} (task ${JSON.stringify(this.name)}: state=${this._state} started=${this._started} ` +
          `nWaiting=${this._nWaiting} futWaiter=${this._futWaiter !== null} more=${this._moreWaiters?.length ?? "null"} mustCancel=${this._mustCancel} ` +
          `cancelAtCall=${this._cancelAtCall} requests=${this._numCancelsRequested} detached=${this._detached})`,
      );
    };
    if ((this._futWaiter !== null) !== (this._nWaiting > 0)) broken("_futWaiter !== null iff _nWaiting > 0");
    if (this._moreWaiters !== null && this._futWaiter === null) broken("_moreWaiters ⇒ _futWaiter");
    if (this._state === PENDING && this._nWaiting > 1 + (this._moreWaiters?.length ?? 0)) broken("_nWaiting <= 1 + _moreWaiters.length");
    if (this._numCancelsRequested < 0) broken("_numCancelsRequested >= 0");
    if (this._mustCancel && this._numCancelsRequested === 0) broken("_mustCancel ⇒ _numCancelsRequested > 0");
    if (this._cancelAtCall && !(this._mustCancel && this._started)) broken("_cancelAtCall ⇒ _mustCancel && _started");
    if (!this._started && (this._nWaiting > 0 || this._detached)) broken("not started ⇒ not suspended, not detached");
    if (this._state !== PENDING && (this._detached || this._cancelAtCall || this._prevTask !== null || this._nextTask !== null)) {
      broken("done ⇒ not detached, no rule-(c) request, unlinked");
    }
  }

  /** @internal */
  private _setAtCall(origin: string): void {
    if (this._cancelAtCall) return;
    this._cancelAtCall = true;
    countAtCall(1);
    if (this._loop._debug) watchAtCall(this as Task<unknown>, origin);
  }

  /** @internal */
  private _clearAtCall(): void {
    if (!this._cancelAtCall) return;
    this._cancelAtCall = false;
    countAtCall(-1);
    if (this._loop._debug) {
      const info = atCallInfo.get(this as Task<unknown>);
      if (info !== undefined) {
        info.timer?.cancel();
        atCallInfo.delete(this as Task<unknown>);
      }
    }
  }

  /** @internal The pending request was delivered (raised into the body) or withdrawn. */
  _delivered(): void {
    this._mustCancel = false;
    if (this._cancelAtCall) this._clearAtCall();
  }

  /** @internal A fresh `CancelledError` carrying the pending request's message. */
  _makeDeliveredError(): CancelledError {
    return CancelledError._fast(this._cancelMessage ?? "", this._loop.getDebug());
  }

  /** @internal Rule (c): the task called a tsaio function; returns the error that call raises. */
  _deliverAtCall(): CancelledError {
    this._delivered();
    // The task is running its own code, so whatever it registered before is no longer its suspension.
    this._futWaiter = null;
    this._moreWaiters = null;
    this._nWaiting = 0;
    return this._makeDeliveredError();
  }

  /** How many cancellation requests are pending (requests minus `uncancel()` calls). */
  cancelling(): number {
    return this._numCancelsRequested;
  }

  /**
   * Withdraws one cancellation request and returns the remaining count. At 0, a request not yet
   * delivered is dropped and `signal` is renewed on next access.
   */
  uncancel(): number {
    if (this._numCancelsRequested > 0) {
      this._numCancelsRequested--;
      if (this._numCancelsRequested === 0) {
        this._delivered();
        if (this._ac !== null && this._ac.signal.aborted) this._ac = null;
      }
    }
    return this._numCancelsRequested;
  }

  /**
   * An AbortSignal that aborts when the task is asked to cancel (reason: a `CancelledError`). Pass it
   * to foreign APIs (`fetch`, `fs`, `child_process`, `timers/promises`) so that they stop too.
   * Made on first use: tasks that never read it pay nothing.
   *
   * An AbortSignal cannot be un-aborted, so when a cancellation is withdrawn (`uncancel()` back to 0,
   * as `timeout()` does after its own expiry) the task gets a *fresh* signal on the next read. Read
   * `currentTask()!.signal` at each use (`fetch(url, { signal: currentTask()!.signal })`) rather than
   * keeping one across a `timeout()`.
   */
  get signal(): AbortSignal {
    let ac = this._ac;
    if (ac === null) {
      ac = this._ac = new AbortController();
      // One task signal is often handed to thousands of `fetch` calls: no MaxListenersExceededWarning.
      setMaxListeners(0, ac.signal);
      if (this._numCancelsRequested > 0 || this._state === CANCELLED) ac.abort(CancelledError._fast(this._cancelMessage ?? "", this._loop.getDebug()));
    }
    return ac.signal;
  }

  /** @internal The first step: run the body inside the task's ambient context. */
  _step(): void {
    if (this._state !== PENDING) return;
    if (this._mustCancel) {
      // Cancelled before it started: the body never runs (asyncio throws into the coroutine's start).
      this._delivered();
      this._finishCancelled(this._makeCancelledError());
      return;
    }
    const fn = this._fn as () => T | PromiseLike<T>;
    this._fn = null;
    this._started = true;
    const loop = this._loop;
    if (channels.taskStarted.hasSubscribers) channels.taskStarted.publish({ task: this });
    loop._beginStep(this as Task<unknown>, null);
    setHandleTask(this as Task<unknown>);
    let r: T | PromiseLike<T>;
    try {
      r = taskStorage.run(this as Task<unknown>, fn);
    } catch (e) {
      this._bodyRejected(e);
      return;
    }
    if (isThenable(r)) {
      if (r instanceof Future) {
        // The body handed back a tsaio awaitable: the task awaits it (and can cancel it).
        void (r as Future<T>)._then((v: T) => this._bodyFulfilled(v), (e: unknown) => this._bodyRejected(e), true);
      } else {
        // The handlers never throw, so the derived promise cannot reject.
        void r.then(
          (v) => this._bodyFulfilled(v),
          (e: unknown) => this._bodyRejected(e),
        );
      }
    } else this._bodyFulfilled(r);
  }

  /**
   * @internal A future of the task's suspension `epoch` completed. Returns true when that resumes the
   * task as a step (`_wakeup`); false when the awaiter must just be settled: the await is stale (the
   * task moved on), or other futures of the same suspension are still pending.
   */
  _memberDone(fut: Future<unknown>, aw: Awaiter, epoch: number): boolean {
    if (epoch !== this._waitEpoch || this._nWaiting === 0) return false;
    if (--this._nWaiting === 0 && !this._waitPartial) {
      this._wakeup(fut, aw);
      return true;
    }
    // One of several (Promise.all / race over tsaio awaitables): the task may resume now (race) or
    // not (all). It is not resumed as a step; a request pending now is raised at its next call.
    if (!this._waitPartial) {
      this._waitPartial = true;
      if (this._mustCancel && this._started) this._setAtCall("cancel()");
      // It may now run outside the loop's steps, perhaps on foreign I/O: count it as detached so
      // that the virtual clock's deadlock check waits for it (re-attached at its next tsaio await).
      this._detach();
    }
    if (this._nWaiting === 0) {
      this._futWaiter = null;
      this._moreWaiters = null;
    }
    return false;
  }

  /** @internal The awaited future completed: resume the body (a new step). */
  _wakeup(fut: Future<unknown>, aw: Awaiter): void {
    this._futWaiter = null;
    this._moreWaiters = null;
    this._nWaiting = 0;
    this._loop._beginStep(this as Task<unknown>, fut);
    setHandleTask(this as Task<unknown>);
    if (this._mustCancel) {
      this._delivered();
      let exc: unknown;
      if (fut._state === CANCELLED) exc = fut._makeCancelledError();
      else if (fut._state === REJECTED && fut._exception instanceof CancelledError) {
        fut._retrieved();
        exc = fut._exception;
      } else {
        if (fut._state === REJECTED) fut._retrieved();
        exc = this._makeCancelledError();
      }
      aw._reject(exc);
    } else aw._settleFrom(fut);
  }

  /**
   * @internal The body awaits `fut` (a tsaio awaitable): the step ends here. Returns the suspension's
   * epoch, which the awaiter keeps (see `_memberDone`).
   */
  _suspendOn(fut: Future<unknown>): number {
    const loop = this._loop;
    const ep = loop._epoch;
    if (this._nWaiting > 0 && this._waitEpoch === ep) {
      // Another await registered before the loop ran anything: the same suspension (Promise.all).
      (this._moreWaiters ??= []).push(fut);
      this._nWaiting++;
      if (this._deliveredEpoch === ep) fut.cancel(this._cancelMessage);
      return ep;
    }
    this._futWaiter = fut;
    this._moreWaiters = null;
    this._nWaiting = 1;
    this._waitEpoch = ep;
    this._waitPartial = false;
    if (this._detached) this._attach();
    if (loop._debug) lastAwait.set(this as Task<unknown>, fut);
    if (this._mustCancel && fut.cancel(this._cancelMessage)) {
      this._delivered();
      this._deliveredEpoch = ep;
    }
    loop._stepEnded(this as Task<unknown>);
    return ep;
  }

  /** Tasks are settled by their function only: asyncio's "Task does not support set_result operation". */
  override setResult(_value: T): void {
    throw new InvalidStateError("Task does not support setResult(): a task's result is its function's return value");
  }

  /** Tasks are settled by their function only: asyncio's "Task does not support set_exception operation". */
  override setException(_error: unknown): void {
    throw new InvalidStateError("Task does not support setException(): a task fails when its function throws");
  }

  /** @internal The loop's watchdog found the task blocked on a foreign promise. */
  _detach(): void {
    if (!this._detached) {
      this._detached = true;
      this._loop._nDetached++;
    }
  }

  /** @internal */
  private _attach(): void {
    this._detached = false;
    this._loop._nDetached--;
  }

  /** @internal */
  private _bodyFulfilled(v: T): void {
    if (this._state !== PENDING) return;
    if (this._mustCancel) {
      // A request the body never observed: the task ends cancelled, its value is dropped.
      this._delivered();
      this._finishCancelled(this._makeCancelledError());
    } else {
      this._resolve(v);
      this._afterBody();
    }
  }

  /** @internal */
  private _bodyRejected(e: unknown): void {
    if (this._state !== PENDING) return;
    if (e instanceof CancelledError) {
      this._delivered();
      this._finishCancelled(e);
    } else if (this._isOwnAbort(e)) {
      this._delivered();
      this._finishCancelled((this._ac as AbortController).signal.reason as CancelledError);
    } else {
      this._fail(e);
      this._afterBody();
    }
  }

  /** @internal Whether `e` is the AbortError a foreign API threw because this task's signal aborted. */
  _isOwnAbort(e: unknown): boolean {
    const ac = this._ac;
    return ac !== null && ac.signal.aborted && isAbortFrom(e, ac.signal);
  }

  /** @internal */
  private _finishCancelled(exc: CancelledError): void {
    this._state = CANCELLED;
    this._cancelledExc = exc;
    this._cancelMessage = exc.message;
    this._scheduleCallbacks();
    this._afterBody();
  }

  /** @internal */
  private _afterBody(): void {
    const loop = this._loop;
    if (channels.taskFinished.hasSubscribers) {
      channels.taskFinished.publish({ task: this, state: this._state === CANCELLED ? "cancelled" : this._state === REJECTED ? "failed" : "finished" });
    }
    unlinkTask(this as Task<unknown>);
    if (this._detached) this._attach();
    if (this._cancelAtCall) this._clearAtCall();
    if (this._moreWaiters !== null) this._moreWaiters = null;
    loop._stepEnded(this as Task<unknown>, true);
  }

  /** @internal */
  override _makeCancelledError(): CancelledError {
    if (this._cancelledExc === null) this._cancelledExc = CancelledError._fast(this._cancelMessage ?? "", this._loop.getDebug());
    return this._cancelledExc;
  }

  /** @internal */
  protected override _describeUnretrieved(u: Unretrieved): void {
    u.message = "Task exception was never retrieved";
    u.taskName = this.name;
  }

  /** @internal What the task is waiting on, for inspection and deadlock reports. */
  _waitingOnText(o: DescribeOptions = FULL): string {
    const w = this._futWaiter;
    if (w !== null) return this._moreWaiters === null ? show(w, o) : `${show(w, o)} and ${this._moreWaiters.length} more`;
    if (this._detached) return "a foreign promise";
    if (!this._started) return "its first step";
    return "nothing (ready to run)";
  }

  /** @internal */
  override _describe(o: DescribeOptions): string {
    // Tasks can wait on each other in a cycle (a deadlock worth printing): show each one once.
    if (inspecting.has(this as Task<unknown>)) return `<Task name=${JSON.stringify(this.name)} (see above)>`;
    inspecting.add(this as Task<unknown>);
    try {
      return this._describeOnce(o);
    } finally {
      inspecting.delete(this as Task<unknown>);
    }
  }

  /** @internal */
  private _describeOnce(o: DescribeOptions): string {
    let s = `<Task ${this._state === PENDING ? "pending" : this._stateText(o)} name=${JSON.stringify(this.name)}`;
    if (this._state === PENDING) {
      if (this._numCancelsRequested > 0) s += ` cancelling=${this._numCancelsRequested}`;
      if (this._futWaiter !== null) s += ` waiting on ${show(this._futWaiter, o)}`;
      else if (this._detached) s += " waiting on a foreign promise";
    }
    return s + ">";
  }
}

const inspecting = new Set<Task<unknown>>();

// The loop makes tasks (`loop.createTask`) through this factory: it sits below this module.
registerTaskFactory(<T>(fn: () => T | PromiseLike<T>, options: TaskOptions | undefined, loop: Loop) => Task._make<T>(fn, options, loop));

/**
 * @internal The task running the current code, or null: context.ts's ambient task, typed as the Task
 * it always is (only tasks enter it). The same function, so no extra call on the hot paths.
 */
export const currentTaskOrNull = ambientTask as () => Task<unknown> | null;

// ------------------------------------------------------------------------ the pending-task list
//
// Each loop's pending tasks, as CPython keeps `_all_tasks` in tasks.py: an intrusive doubly-linked
// list through the tasks (O(1) link and unlink, no hashing on the hot path), held on the loop
// (`loop._tasks`) so that finding it costs one field read.

/** @internal A loop's pending tasks. Invariant: `size` is the number of tasks reachable from `head`. */
class TaskList implements PendingTaskList {
  head: Task<unknown> | null = null;
  size = 0;
}

function linkTask(loop: Loop, t: Task<unknown>): void {
  const list = (loop._tasks ??= new TaskList()) as TaskList;
  const head = list.head;
  t._nextTask = head;
  if (head !== null) head._prevTask = t;
  list.head = t;
  list.size++;
}

function unlinkTask(t: Task<unknown>): void {
  const list = t._loop._tasks as TaskList | null;
  if (list === null) return;
  const prev = t._prevTask;
  const next = t._nextTask;
  if (prev !== null) prev._nextTask = next;
  else if (list.head === t) list.head = next;
  else return; // not linked
  if (next !== null) next._prevTask = prev;
  t._prevTask = t._nextTask = null;
  list.size--;
}

/** @internal The pending tasks of `loop`, oldest first (some may have just finished: check `done()`). */
export function pendingTasks(loop: Loop): Task<unknown>[] {
  const out: Task<unknown>[] = [];
  const list = loop._tasks as TaskList | null;
  if (list !== null) for (let t = list.head; t !== null; t = t._nextTask) out.push(t);
  return out.reverse();
}

function taskStep(this: Task<unknown>): void {
  this._step();
}

function isAbortFrom(e: unknown, signal: AbortSignal): boolean {
  if (e === signal.reason) return true;
  if (e instanceof Error) return e.name === "AbortError" || (e as { cause?: unknown }).cause === signal.reason;
  return false;
}

/**
 * Runs `fn` as a new Task on the running loop and returns the Task. `fn` starts on the next loop
 * iteration, not inside `createTask` (asyncio's order). Pass a function, never a started promise.
 * @example
 * ```ts
 * import { createTask, sleep } from "tsaio";
 * const t = createTask(() => sleep(10, "done"), { name: "napper" });
 * console.log(await t); // done
 * ```
 */
export function createTask<T>(fn: () => T | PromiseLike<T>, options?: TaskOptions): Task<T> {
  const loop = runningLoop();
  loop._checkOpen(); // what loop.createTask does, without its factory hop
  return Task._make<T>(fn, options, loop);
}

/**
 * The task running the current code, or null outside tasks (and in plain loop callbacks).
 * Found from any depth of calls inside the task.
 * @example
 * ```ts
 * import { createTask, currentTask } from "tsaio";
 * const t = createTask(async () => currentTask()?.name, { name: "me" });
 * console.log(await t); // me
 * ```
 */
export function currentTask(): Task<unknown> | null {
  return currentTaskOrNull();
}

/**
 * The tasks of `loop` (default: the running loop) that are not done yet.
 * @example
 * ```ts
 * import { createTask, allTasks, sleep } from "tsaio";
 * const t = createTask(() => sleep(5));
 * console.log(allTasks().has(t)); // true
 * await t;
 * ```
 */
export function allTasks(loop?: Loop): Set<Task<unknown>> {
  const l = loop ?? runningLoop();
  const out = new Set<Task<unknown>>();
  for (const t of pendingTasks(l)) if (t._state === PENDING) out.add(t);
  return out;
}

/** Options of `sleep`. */
export interface SleepOptions {
  /** Aborting it cancels the sleep (the await throws `CancelledError`). */
  signal?: AbortSignal;
}

/**
 * A sleep's future, which is also its own timer in the loop's queue (one object per sleep, not two):
 * cancelling it cancels the timer.
 * @internal
 */
class SleepFuture<T> extends Future<T> implements TimerItem {
  _when = 0;
  _seq = 0;
  _cancelled = false;
  _slot: Slot = sleepFire as Slot;
  _ctx: unknown = this;
  _arg: unknown;
  /** Whether it sits in the loop's timer queue (not for `sleep(Infinity)`). */
  _armed = false;

  constructor(loop: Loop, value: T) {
    super(loop);
    this._arg = value;
  }

  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    if (this._armed) {
      this._armed = false;
      this._cancelled = true;
      this._loop._timerCancelled();
    }
    return true;
  }

  /** @internal Its deadline is its timer's: `when` on the loop clock and the ms left (none for `sleep(Infinity)`). */
  override _describe(o: DescribeOptions): string {
    const deadline = this._armed ? ` when=${msText(this._when)} left=${Math.max(0, Math.round(this._when - this._loop.time()))}ms` : this._state === PENDING ? " forever" : "";
    return `<SleepFuture ${this._stateText(o)}${deadline}>`;
  }
}

function sleepFire(this: SleepFuture<unknown>, value: unknown): void {
  if (this._state === PENDING) {
    this._armed = false;
    this._resolve(value);
  }
}

/**
 * `sleep(0)`: asyncio's bare `yield`. The task is resumed by the very callback scheduled now, so it
 * gives up exactly one loop iteration; a cancel arriving meanwhile is delivered at that resume.
 * @internal
 */
class YieldFuture<T> extends Future<T> {
  /** The task that called `sleep(0)`. */
  _task: Task<unknown> | null = null;
  /** The yield fired before anything awaited it (see yieldFire). */
  _early = false;
  _value: unknown = undefined;
  override cancel(): boolean {
    return false;
  }

  /** @internal Something awaits it now (`then`, a combinator): yield one iteration from here. */
  override _addEntry(entry: Parameters<Future<T>["_addEntry"]>[0]): void {
    super._addEntry(entry);
    if (this._early) {
      this._early = false;
      this._loop._soon(yieldFire, this, this._value);
    }
  }
}

function yieldFire(this: YieldFuture<unknown>, value: unknown): void {
  if (this._state !== PENDING) return;
  const t = this._task;
  if (t !== null && this._callbackCount() === 0 && t._state === PENDING) {
    // A task running outside the loop's steps (resumed by a foreign promise) called sleep(0), and the
    // loop got here before its `await` called `then`. Resolving now would let it run on without ever
    // suspending — past a cancel() made meanwhile. Wait until something awaits it; a pending cancel
    // is then delivered when the task resumes (`_wakeup`), as for any suspension.
    this._early = true;
    this._value = value;
    return;
  }
  this._state = RESOLVED;
  this._result = value;
  runCallbacksNow(this);
}

/**
 * Waits `ms` milliseconds on the loop's clock and returns `value`. `sleep(0)` yields exactly one loop
 * iteration. Inside a task it is a cancellation point; `signal` cancels it too.
 * @example
 * ```ts
 * import { sleep } from "tsaio";
 * const t0 = performance.now();
 * console.log(await sleep(20, "awake"), performance.now() - t0 >= 19); // awake true
 * ```
 */
export function sleep(ms: number): Future<void>;
export function sleep<T>(ms: number, value: T, options?: SleepOptions): Future<T>;
export function sleep<T>(ms: number, value?: T, options?: SleepOptions): Future<T | undefined> {
  checkDelay(ms, "sleep", "ms");
  checkOptions(options, "sleep");
  const signal = options?.signal;
  checkSignal(signal, "sleep");
  const loop = runningLoop();
  throwAtCall();
  if (ms === 0 && signal === undefined) {
    const yf = new YieldFuture<T | undefined>(loop);
    yf._task = currentTaskOrNull();
    loop._soon(yieldFire, yf, value);
    if (loop._debug) expectAwait(yf, "sleep(0)");
    return yf;
  }
  const sf = new SleepFuture<T | undefined>(loop, value);
  // An infinite sleep arms no timer: only a cancel (or the signal) ends it.
  if (ms !== Infinity) {
    sf._armed = true;
    loop._armAfter(sf, ms);
  }
  if (signal !== undefined) cancelOnAbort(sf, signal);
  if (loop._debug) expectAwait(sf, `sleep(${ms})`);
  return sf;
}

// ------------------------------------------------------------------------------- foreign promises

/** Debug mode: who asked for a rule-(c) cancellation that is still pending, and since when. */
interface AtCallInfo {
  origin: string;
  since: number;
  timer: TimerHandle | null;
}

// Debug-mode bookkeeping lives beside the tasks, not in them: every Task field costs every task.
const atCallInfo = new WeakMap<Task<unknown>, AtCallInfo>();
/** The last tsaio future each task suspended on (where it last awaited tsaio). */
const lastAwait = new WeakMap<Task<unknown>, Future<unknown>>();

/** Debug mode: report the request if the task still has not seen it after `slowCallbackDuration`. */
function watchAtCall(task: Task<unknown>, origin: string): void {
  const loop = task._loop;
  const info: AtCallInfo = { origin, since: loop.time(), timer: null };
  atCallInfo.set(task, info);
  if (loop.isClosed()) return;
  info.timer = loop.callLater(loop.slowCallbackDuration, reportAtCall, task, info);
}

function reportAtCall(task: Task<unknown>, info: AtCallInfo): void {
  if (atCallInfo.get(task) !== info || !task._cancelAtCall) return;
  info.timer = null;
  const loop = task._loop;
  const pendingFor = loop.time() - info.since;
  const lastFut = lastAwait.get(task);
  const last = lastFut === undefined ? undefined : creationStackOf(lastFut);
  const where = last === undefined ? "unknown (no tsaio await recorded)" : `after its last tsaio await, created at:\n${last.split("\n").slice(0, 3).join("\n")}`;
  loop.callExceptionHandler({
    message:
      `Task ${JSON.stringify(task.name)} was cancelled by ${info.origin} ${pendingFor.toFixed(0)} ms ago and has not seen it: ` +
      `it is blocked on a promise tsaio did not make, which cannot be interrupted. ` +
      `Pass the task's signal to that operation (fetch(url, { signal: currentTask()!.signal })) or wrap it in cancellable().`,
    task,
    taskName: task.name,
    requestedBy: info.origin,
    pendingFor,
    where,
  });
}

/** A Future following a foreign promise; cancelling it abandons the promise and aborts its signal. @internal */
class CancellableFuture<T> extends Future<T> {
  _ac: AbortController | null = null;
  override cancel(msg?: string): boolean {
    if (!super.cancel(msg)) return false;
    const ac = this._ac;
    if (ac !== null) {
      this._ac = null;
      ac.abort(this._makeCancelledError());
    }
    return true;
  }
}

function settleCancellable<T>(fut: CancellableFuture<T>, p: PromiseLike<T>): void {
  // Both outcomes are observed, so an abandoned promise's later rejection is never unhandled.
  Promise.resolve(p).then(
    (v) => {
      fut._ac = null;
      if (fut._state === PENDING) fut._resolve(v);
    },
    (e: unknown) => {
      fut._ac = null;
      if (fut._state === PENDING) fut._fail(e);
    },
  );
}

/**
 * Makes a promise tsaio did not make (`fetch`, a `pg` query, `fs/promises`, a library's API) a
 * cancellation point: the returned Future follows it, and when the awaiting task is cancelled — or
 * its `timeout()` expires — the await raises `CancelledError` at once instead of when the promise
 * settles. With the function form, `fn` receives an AbortSignal that is aborted at that moment, so
 * the operation really stops; the abandoned promise's later rejection is observed (never an
 * unhandled rejection). Outside a task it simply awaits. Called by a task whose cancellation is
 * pending, it raises at once and never calls `fn`.
 * @example
 * ```ts
 * import { cancellable, timeout, TimeoutError } from "tsaio";
 * import { setTimeout as delay } from "node:timers/promises";
 * try {
 *   await timeout(50, () => cancellable((signal) => delay(10_000, "late", { signal })));
 * } catch (e) {
 *   // after 50 ms: the timeout aborted the signal, which stopped the 10 s delay
 *   console.log(e instanceof TimeoutError); // true
 * }
 * ```
 */
export function cancellable<T>(op: PromiseLike<T> | ((signal: AbortSignal) => T | PromiseLike<T>)): Future<Awaited<T>> {
  if (typeof op !== "function" && !isThenable(op)) {
    throw new TypeError(`cancellable: \`op\` must be a promise or a function (signal) => promise, got ${describe(op)}`);
  }
  const loop = runningLoop();
  throwAtCall();
  const fut = new CancellableFuture<Awaited<T>>(loop);
  if (typeof op === "function") {
    const ac = new AbortController();
    fut._ac = ac;
    let r: T | PromiseLike<T>;
    try {
      r = op(ac.signal);
    } catch (e) {
      fut._ac = null;
      fut._fail(e);
      return fut;
    }
    settleCancellable(fut, Promise.resolve(r) as PromiseLike<Awaited<T>>);
  } else settleCancellable(fut, op as PromiseLike<Awaited<T>>);
  if (loop._debug) expectAwait(fut, "cancellable()");
  return fut;
}
