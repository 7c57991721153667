/**
 * The event loop: a FIFO ready queue, a timer heap, a clock (real or virtual) and the exception handler.
 *
 * ## How a loop iteration maps onto Node
 * asyncio runs each ready callback to completion, and a task's step runs until the coroutine
 * suspends. In JS resuming a task only queues microtasks, so the loop must learn when a step has
 * ended before it runs the next callback; otherwise two tasks' steps interleave and asyncio's order
 * (`A0 B0 A1 B1` for two `sleep(0)` loops, callbacks seeing a finished step) is lost.
 *
 * A step ends when the stepping task suspends on a tsaio awaitable (`Future.then` is called in that
 * task's context) or when its body settles. Either event calls {@link Loop._stepEnded}, which
 * continues the loop in a microtask: the whole machinery costs one microtask per step, no macrotask.
 *
 * Foreign promises are the hard case: a task that awaits `fetch()` never calls a tsaio `then`. The
 * loop therefore arms one `setImmediate` watchdog while it waits for a step; it fires only after the
 * microtask queue has drained, and if the loop is still waiting then, the task is certainly blocked on
 * something foreign: it is marked *detached* and the loop moves on. When the foreign promise settles,
 * the task runs again from the microtask queue (outside the loop's ordering) until it awaits a tsaio
 * awaitable, which re-attaches it. So: steps that only await tsaio objects (or promises that settle
 * within the same microtask flush) are atomic and ordered exactly as in asyncio; a step that awaits
 * real I/O costs one macrotask hop and is ordered by Node.
 *
 * Fairness to I/O: iterations chain through microtasks, which would starve Node's I/O phases, so
 * after a time slice (a few ms) the loop yields with `setImmediate` before the next iteration.
 *
 * Timers: every tsaio timer lives in one heap; the loop keeps at most one Node timer, for the earliest
 * deadline. The virtual clock never arms a Node timer: when nothing is ready it jumps to the next
 * deadline (after a `setImmediate`, so promise chains and I/O callbacks settle first).
 * @module
 */
import { constants as osConstants } from "node:os";
import { inspect } from "node:util";
import { isMainThread } from "node:worker_threads";
import {
  enterHandle,
  leaveHandle,
  registerDefaultLoopFactory,
  runningLoop,
  runOutsideTask,
  setHandleTask,
  type HandleState,
} from "./internal/ambient.js";
import { InvalidStateError } from "./errors.js";
import { TimerQueue, type HeapItem } from "./internal/heap.js";
import { CallRing, type Slot } from "./internal/ring.js";
import { type DescribeOptions, FULL, msText } from "./internal/describe.js";
import { clampDelay, LongTimeout } from "./internal/timers.js";
import { channels, creationStackOf, registerLoop, reportForgotten, unregisterLoop, type TrackedLoop } from "./internal/track.js";
import { checkDelay, checkFunction, checkWhen } from "./internal/validate.js";
// The two upward imports of this layer, type-only (erased: nothing is loaded, no cycle at run time),
// because the public signatures name these classes (`createFuture(): Future<T>`, `createTask(): Task<T>`,
// `ExceptionContext.future/task`). Inside, the loop knows a task only as a `SteppingTask` and makes
// futures and tasks through the factories their modules register. test/layering.test.ts allows
// exactly these two.
import type { Future } from "./futures.js";
import type { Task, TaskOptions } from "./tasks.js";

/** What the exception handler receives: asyncio's context dict as an object. */
export interface ExceptionContext {
  /** A human-readable description, e.g. "Task exception was never retrieved". */
  message: string;
  /** The error, when there is one. */
  exception?: unknown;
  /** The Future or Task concerned, when there is one. */
  future?: Future<unknown>;
  /** The task concerned, when there is one. */
  task?: Task<unknown>;
  /** The callback handle concerned, when there is one. */
  handle?: Handle;
  /** Any other detail. */
  [key: string]: unknown;
}

/** An exception handler: `loop.setExceptionHandler((loop, ctx) => …)`. */
export type ExceptionHandler = (loop: Loop, context: ExceptionContext) => void;

/**
 * What `loop.runInExecutor` needs from an executor. The executors module implements it; the loop
 * only forwards, so that the loop does not import worker code.
 */
export interface ExecutorLike {
  /** Submits `fn(...args)` and returns a tsaio Future of its result. */
  submit(fn: (...args: never[]) => unknown, ...args: unknown[]): Future<unknown>;
  /** Stops the executor; `wait` waits for running work. */
  shutdown(options?: { wait?: boolean; cancelFutures?: boolean }): Promise<void>;
}

/**
 * What the loop knows of the task whose step it runs (tasks.ts's Task implements it): enough
 * to detach it and to name it in slow-step reports.
 */
export interface SteppingTask {
  readonly name: string;
  /** @internal */
  readonly _started: boolean;
  /** @internal The future the task suspended on, if any (its creation stack locates the await). */
  readonly _futWaiter: object | null;
  /** @internal The watchdog found the step blocked on a foreign promise. */
  _detach(): void;
  /** @internal Debug mode: asserts the task's own invariants (see tasks.ts). */
  _checkInvariants(): void;
}

/** @internal What the loop holds of tasks.ts's list of its pending tasks: only its size (for inspect). */
export interface PendingTaskList {
  readonly size: number;
}

/** @internal What the loop keeps of a failed future nobody looked at (futures.ts's `Unretrieved`). */
export interface UnretrievedRef {
  readonly ref: WeakRef<{ _reportUnretrieved(): void }>;
}

type TaskFactory = <T>(fn: () => T | PromiseLike<T>, options: TaskOptions | undefined, loop: Loop) => Task<T>;
type FutureFactory = <T>(loop: Loop) => Future<T>;

// The loop makes tasks and futures without importing their modules (they sit above it): each
// registers its constructor when it loads, as the executors module registers the default executor.
let makeTask: TaskFactory | null = null;
let makeFuture: FutureFactory | null = null;

/** @internal Called by tasks.ts when it loads. */
export function registerTaskFactory(factory: TaskFactory): void {
  makeTask = factory;
}

/** @internal Called by futures.ts when it loads. */
export function registerFutureFactory(factory: FutureFactory): void {
  makeFuture = factory;
}

/** @internal How the default executor is made (registered by the executors module). */
let makeDefaultExecutor: ((loop: Loop) => ExecutorLike) | null = null;

/** @internal Called by the executors module when it loads. */
export function registerDefaultExecutorFactory(factory: (loop: Loop) => ExecutorLike): void {
  makeDefaultExecutor = factory;
}

function firstFrames(stack: string): string {
  return stack.split("\n").slice(0, 3).join("\n");
}

/** Options of a {@link Loop}. */
export interface LoopOptions {
  /** `"real"` (default): `performance.now()`. `"virtual"`: time only moves when the loop jumps it. */
  clock?: "real" | "virtual";
  /** Debug mode (also on when the environment variable `TSAIO_DEBUG=1`). */
  debug?: boolean;
}

/**
 * A callback scheduled with `callSoon`; `cancel()` stops it from running.
 * @example
 * ```ts
 * import { getRunningLoop } from "tsaio";
 * const h = getRunningLoop().callSoon(() => console.log("never"));
 * h.cancel();
 * console.log(h.cancelled()); // true
 * ```
 */
export class Handle {
  /** @internal */ _cancelled = false;
  /** @internal */ _cb: ((...args: never[]) => unknown) | null;
  /** @internal */ _args: unknown[];
  /** @internal */ readonly _loop: Loop;

  /** @internal */
  constructor(loop: Loop, cb: (...args: never[]) => unknown, args: unknown[]) {
    this._loop = loop;
    this._cb = cb;
    this._args = args;
  }

  /** Stops the callback from running (no effect once it ran). */
  cancel(): void {
    if (!this._cancelled) {
      this._cancelled = true;
      this._cb = null; // let closures be collected early
      this._args = [];
    }
  }

  /** Whether `cancel()` was called. */
  cancelled(): boolean {
    return this._cancelled;
  }

  /** @internal */
  _run(): void {
    const cb = this._cb;
    if (this._cancelled || cb === null) return;
    try {
      runOutsideTask(callWithArgs, this);
    } catch (exception) {
      this._loop.callExceptionHandler({ message: `Exception in callback ${describeFn(cb)}`, exception, handle: this });
    }
  }

  /** @internal Its describer (see internal/describe.ts): the callback's name, never its arguments. */
  _describe(_o: DescribeOptions): string {
    return `<${this.constructor.name} ${this._fields()}>`.replace(/ >$/, ">");
  }

  /** @internal */
  protected _fields(): string {
    return `${this._cancelled ? "cancelled " : ""}${this._cb === null ? "" : describeFn(this._cb)}`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

function callWithArgs(h: Handle): void {
  (h._cb as (...args: unknown[]) => unknown)(...h._args);
}

function runHandle(this: Handle): void {
  this._run();
}

/**
 * What the loop's timer queue holds: a deadline, and the slot `fn.call(ctx, arg)` to run
 * then. A {@link TimerHandle}, or an object that is its own timer (a sleep's future: one allocation
 * per sleep instead of two).
 */
export interface TimerItem extends HeapItem {
  /** @internal */
  _slot: Slot;
  /** @internal */
  _ctx: unknown;
  /** @internal */
  _arg: unknown;
}

/**
 * A callback scheduled with `callLater`/`callAt`: `when()` is its deadline on the loop's clock.
 * @example
 * ```ts
 * import { getRunningLoop } from "tsaio";
 * const loop = getRunningLoop();
 * const h = loop.callLater(50, () => console.log("late"));
 * console.log(h.when() >= loop.time()); // true
 * h.cancel();
 * ```
 */
export class TimerHandle extends Handle implements TimerItem {
  /** @internal */ _when: number;
  /** @internal */ _seq: number;
  /** @internal */ _slot: Slot;
  /** @internal */ _ctx: unknown;
  /** @internal */ _arg: unknown;

  /** @internal */
  constructor(loop: Loop, when: number, seq: number, cb: (...args: never[]) => unknown, args: unknown[], slot: Slot, ctx: unknown, arg: unknown) {
    super(loop, cb, args);
    this._when = when;
    this._seq = seq;
    this._slot = slot;
    this._ctx = ctx;
    this._arg = arg;
  }

  /** The deadline, in ms on the loop's clock. */
  when(): number {
    return this._when;
  }

  override cancel(): void {
    if (!this._cancelled) {
      super.cancel();
      this._ctx = this._arg = undefined;
      this._loop._timerCancelled();
    }
  }

  /** @internal */
  protected override _fields(): string {
    return `when=${msText(this._when)} ${super._fields()}`;
  }
}

// Continuing the loop in a microtask: `RESOLVED.then(fn)` is far cheaper than `queueMicrotask`,
// which builds an AsyncResource per call.
const RESOLVED = Promise.resolve();
/** How many callbacks may run between two readings of the clock when no timer is pending. */
const CLOCK_EVERY = 64;

/**
 * The event loop. Get the current one with `getRunningLoop()`; `run()` makes a fresh one per call,
 * and code outside `run()` uses a default loop bound to Node's own event loop.
 * @example
 * ```ts
 * import { run, getRunningLoop } from "tsaio";
 * await run(async () => {
 *   const loop = getRunningLoop();
 *   loop.callSoon(() => console.log("soon")); // soon
 *   loop.callLater(10, () => console.log("later")); // later
 *   await new Promise<void>((r) => loop.callLater(20, () => r()));
 * });
 * ```
 */
export class Loop {
  /** Steps and callbacks longer than this (ms) are reported in debug mode. */
  slowCallbackDuration = 100;

  /** @internal */ readonly _virtual: boolean;
  /** @internal */ _now = 0; // virtual time
  /** @internal */ readonly _ready = new CallRing();
  /** @internal */ readonly _timers = new TimerQueue<TimerItem>();
  /** @internal */ _timerSeq = 0;
  /** @internal */ _cancelledTimers = 0;
  /** @internal The task whose step runs now (see the invariants below). */ _stepping: SteppingTask | null = null;
  /**
   * @internal Counts callbacks run. Awaits a task registers with no callback run in between belong
   * to one suspension (a `Promise.all` over tsaio awaitables calls each `then` in a row).
   */
  _epoch = 0;
  /** @internal */ _nDetached = 0;
  /**
   * @internal This loop's pending tasks: a list tasks.ts owns and keeps here (CPython keeps
   * `_all_tasks` in tasks.py); the loop only reads its size.
   */
  _tasks: PendingTaskList | null = null;
  /** @internal */ _idleHook: (() => void) | null = null;
  /** @internal Failed futures whose error nobody has retrieved yet. */
  readonly _unretrieved = new Set<UnretrievedRef>();
  /** @internal Futures under `shield()`: kept reachable while they run. */
  readonly _shielded = new Set<object>();

  // ---- The run state, and what holds between its fields (asserted by `_checkInvariants()` in debug
  // mode, at each step's begin and end and after each callback):
  //
  // * `_active`: an iteration is running, a step is awaited, or a drive (microtask, setImmediate) is
  //   scheduled; false: the loop is idle and the next `_soon`/timer must wake it (`_kick`).
  // * `_inRun`: `_runLoop` is on the stack. `_inRun` ⇒ `_active`.
  // * `_ntodo`: callbacks of the current iteration not run yet, the first `_ntodo` of `_ready`:
  //   `_ntodo <= _ready.length`; `_ntodo > 0` ⇒ `_active`; `_closed` ⇒ `_ntodo === 0`.
  // * `_nodeTimer` is armed iff `_nodeTimerWhen` is finite (its deadline); armed ⇒ idle (`!_active`),
  //   real clock, not closed: a running loop reads its timers itself, a virtual one jumps.
  // * `_stepping` (the task whose step runs) is a started task; at most one step runs at a time. While
  //   `_stepping !== null` the loop runs nothing else: `_runLoop` returns and the watchdog
  //   (`_watchdogArmed`: a `setImmediate(_watchdog)` is pending) detaches the task if the step blocks on
  //   a foreign promise. (executors/eager.ts may begin a step outside the loop: it arms its own.)
  // * `_handleWasStep`, `_stepStart`, `_stepResumedFrom`: debug mode only; they describe the current
  //   step while `_stepping !== null`, and are stale otherwise.
  // * `_cancelledTimers` >= 0: at least the cancelled items still in `_timers` (a handle cancelled
  //   after it fired still counts until the next compaction resets it: it only paces compaction).
  //   `_nDetached` (tasks blocked on foreign promises) >= 0.
  /** @internal */
  private _ntodo = 0;
  /** @internal */
  private _active = false;
  /** @internal */
  private _inRun = false;
  /** @internal */
  private _nodeTimer: NodeJS.Timeout | null = null;
  /** @internal */
  private _nodeTimerWhen = Infinity;
  /** @internal */
  private _watchdogArmed = false;
  /** @internal */
  private _sliceStart = 0;
  /** @internal Callbacks run since the clock was last read (the slice check reads it every CLOCK_EVERY). */
  private _ranSinceClock = 0;
  /** @internal */
  private _closed = false;
  /** @internal */ _debug: boolean;
  /** @internal When the current task step began (debug mode). */
  _stepStart = 0;
  /** @internal The handle just run was a task step (its time is checked at the step's end). */
  _handleWasStep = false;
  /** @internal The future whose completion resumed the current step (debug mode). */
  _stepResumedFrom: object | null = null;
  /** @internal */
  private _exceptionHandler: ExceptionHandler | null = null;
  /** @internal */
  private _defaultExecutor: ExecutorLike | null = null;
  /** @internal `addSignalHandler`: signal name → the handle it runs and its process listener. */
  _signalHandlers: Map<NodeJS.Signals, SignalEntry> | null = null;
  /** @internal Keeps Node's event loop alive while a signal handler waits (a signal may still wake a task). */
  private _signalKeepAlive: LongTimeout | null = null;
  /** @internal */
  private readonly _ref: WeakRef<TrackedLoop>;
  /** @internal */
  private readonly _save: HandleState = { inHandle: false, task: null, loop: null };

  constructor(options: LoopOptions = {}) {
    if (options === null || typeof options !== "object") throw new TypeError("Loop: `options` must be an object");
    const clock = options.clock ?? "real";
    if (clock !== "real" && clock !== "virtual") throw new TypeError(`Loop: \`clock\` must be "real" or "virtual", got ${String(clock)}`);
    this._virtual = clock === "virtual";
    this._debug = options.debug ?? process.env.TSAIO_DEBUG === "1";
    this._ref = registerLoop(this);
  }

  /** The loop's clock in milliseconds (monotonic; starts at 0 on a virtual clock). */
  time(): number {
    return this._virtual ? this._now : performance.now();
  }

  /** Whether the loop uses a virtual clock. */
  isVirtual(): boolean {
    return this._virtual;
  }

  /** Whether `close()` was called. */
  isClosed(): boolean {
    return this._closed;
  }

  /** Whether the loop is running callbacks right now (an iteration is in progress). */
  isRunning(): boolean {
    return this._active;
  }

  /**
   * Schedules `cb(...args)` for the next loop iteration. Callbacks run in FIFO order; an error thrown
   * by one goes to the exception handler and the others still run.
   */
  callSoon<A extends unknown[]>(cb: (...args: A) => unknown, ...args: A): Handle {
    checkFunction(cb, "Loop.callSoon", "callback");
    this._checkOpen();
    const h = new Handle(this, cb as (...a: never[]) => unknown, args);
    this._soon(runHandle, h, undefined);
    return h;
  }

  /** Schedules `cb(...args)` to run `ms` milliseconds from now. */
  callLater<A extends unknown[]>(ms: number, cb: (...args: A) => unknown, ...args: A): TimerHandle {
    checkDelay(ms, "Loop.callLater", "ms");
    return this._callAt(this.time() + ms, ms, cb, args);
  }

  /** Schedules `cb(...args)` to run when `loop.time()` reaches `when`. */
  callAt<A extends unknown[]>(when: number, cb: (...args: A) => unknown, ...args: A): TimerHandle {
    checkWhen(when, "Loop.callAt", "when");
    return this._callAt(when, null, cb, args);
  }

  /** @internal */
  private _callAt(when: number, delay: number | null, cb: (...args: never[]) => unknown, args: unknown[]): TimerHandle {
    checkFunction(cb, delay === null ? "Loop.callAt" : "Loop.callLater", "callback");
    this._checkOpen();
    const h = new TimerHandle(this, when, this._timerSeq++, cb, args, runHandle as Slot, undefined, undefined);
    h._ctx = h;
    this._addTimer(h, delay);
    return h;
  }

  /** A new pending Future bound to this loop. */
  createFuture<T>(): Future<T> {
    if (makeFuture === null) throw new InvalidStateError("Loop.createFuture: the futures module is not loaded");
    return makeFuture<T>(this);
  }

  /** Wraps `fn` in a Task scheduled on this loop (see the module-level `createTask`). */
  createTask<T>(fn: () => T | PromiseLike<T>, options?: TaskOptions): Task<T> {
    this._checkOpen();
    if (makeTask === null) throw new InvalidStateError("Loop.createTask: the tasks module is not loaded");
    return makeTask<T>(fn, options, this);
  }

  /**
   * Runs `fn(...args)` on `executor` (null: the loop's default executor, made on first use and shut
   * down by `run()` at exit) and returns a Future of the result.
   */
  runInExecutor<A extends unknown[], R>(executor: ExecutorLike | null, fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
    this._checkOpen();
    let ex = executor;
    if (ex === null) {
      if (this._defaultExecutor === null) {
        if (makeDefaultExecutor === null) throw new InvalidStateError("Loop.runInExecutor: no default executor is available");
        this._defaultExecutor = makeDefaultExecutor(this);
      }
      ex = this._defaultExecutor;
    } else if (typeof ex !== "object" || typeof ex.submit !== "function") {
      throw new TypeError("Loop.runInExecutor: `executor` must be an executor (with submit) or null");
    }
    return ex.submit(fn as (...args: never[]) => unknown, ...args) as Future<Awaited<R>>;
  }

  /** Sets the executor `runInExecutor(null, …)` uses. */
  setDefaultExecutor(executor: ExecutorLike | null): void {
    this._defaultExecutor = executor;
  }

  /** @internal Shuts the default executor down (run() calls this at exit). */
  async _shutdownDefaultExecutor(): Promise<void> {
    const ex = this._defaultExecutor;
    this._defaultExecutor = null;
    if (ex !== null) await ex.shutdown({ wait: true });
  }

  /** Sets the handler called for errors nobody else can receive (null restores the default). */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError(`Loop.setExceptionHandler: \`handler\` must be a function or null, got ${typeof handler}`);
    }
    this._exceptionHandler = handler;
  }

  /** The handler set by `setExceptionHandler`, or null. */
  getExceptionHandler(): ExceptionHandler | null {
    return this._exceptionHandler;
  }

  /** Reports an error context to the exception handler (or the default handler, which logs it). */
  callExceptionHandler(context: ExceptionContext): void {
    const h = this._exceptionHandler;
    if (h === null) {
      this.defaultExceptionHandler(context);
      return;
    }
    try {
      h(this, context);
    } catch (exception) {
      // The handler itself failed: fall back to the default handler so neither error is lost.
      this.defaultExceptionHandler({ message: "Unhandled error in exception handler", exception, context });
      this.defaultExceptionHandler(context);
    }
  }

  /** Logs the context to stderr: the default exception handler. */
  defaultExceptionHandler(context: ExceptionContext): void {
    const parts = [`tsaio: ${context.message}`];
    for (const [k, v] of Object.entries(context)) {
      if (k === "message" || k === "exception") continue;
      // Multi-line strings (stacks) print as they are, indented, not as quoted literals.
      const text = typeof v === "string" ? v.replace(/\n/g, "\n    ") : inspect(v, { depth: 1 });
      parts.push(`  ${k}: ${text}`);
    }
    if ("exception" in context) parts.push(inspect(context.exception));
    process.stderr.write(parts.join("\n") + "\n");
  }

  /** @internal Reports every failed future whose error nobody retrieved (run() calls this at exit). */
  _reportUnretrieved(): void {
    for (const u of [...this._unretrieved]) {
      const fut = u.ref.deref();
      if (fut !== undefined) fut._reportUnretrieved();
      else this._unretrieved.delete(u);
    }
  }

  /** Whether debug mode is on. */
  getDebug(): boolean {
    return this._debug;
  }

  /** Turns debug mode on or off. */
  setDebug(enabled: boolean): void {
    this._debug = Boolean(enabled);
  }

  /**
   * Stops the loop for good; a second call does nothing. Pending timers and queued callbacks are
   * dropped, signal handlers removed, and no Node timer stays behind; from then on, scheduling on
   * the loop (`callSoon`, `createTask`…) throws `InvalidStateError`. Unlike asyncio's `close()`,
   * it neither refuses a running loop nor waits for tasks: `run()` cancels and awaits them first.
   */
  close(): void {
    if (this._closed) return;
    if (this._debug) reportForgotten(this);
    this._closed = true;
    this._removeSignalHandlers();
    unregisterLoop(this._ref);
    this._disarmNodeTimer();
    this._timers.clear();
    this._ready.clear();
    this._ntodo = 0;
  }

  /**
   * Runs `callback(...args)` as a loop callback each time the process receives `sig` (asyncio's
   * `add_signal_handler`): `"SIGTERM"`, `"SIGHUP"`… or a signal number. A second handler for the
   * same signal replaces the first. While a `SIGINT` handler is installed, `run()` leaves Ctrl-C to
   * it (removing it restores `run()`'s handling). An installed handler keeps the process alive, as
   * asyncio's loop keeps waiting for signals (so a task waiting for one is no deadlock): remove it,
   * or let `run()` end (the loop's `close()` removes its handlers). An
   * async function is refused (its promise would be dropped): start a task from the callback.
   * `SIGKILL` and `SIGSTOP` cannot be handled (RangeError); worker threads cannot handle signals.
   * @example
   * ```ts
   * import { run, Event, getRunningLoop } from "tsaio";
   * await run(async () => {
   *   const loop = getRunningLoop();
   *   const stop = new Event();
   *   loop.addSignalHandler("SIGUSR2", () => stop.set());
   *   process.kill(process.pid, "SIGUSR2");
   *   await stop.wait();
   *   console.log(loop.removeSignalHandler("SIGUSR2")); // true
   * });
   * ```
   */
  addSignalHandler<A extends unknown[]>(sig: NodeJS.Signals | number, callback: (...args: A) => unknown, ...args: A): void {
    const name = signalName(sig, "Loop.addSignalHandler");
    checkFunction(callback, "Loop.addSignalHandler", "callback");
    const kind = Object.prototype.toString.call(callback);
    if (kind === "[object AsyncFunction]" || kind === "[object AsyncGeneratorFunction]") {
      throw new TypeError("Loop.addSignalHandler: `callback` must not be an async function (its promise would be dropped); start a task from it: () => void createTask(() => onSignal())");
    }
    this._checkOpen();
    if (!isMainThread) throw new InvalidStateError("Loop.addSignalHandler: signals can only be handled in the main thread");
    const handle = new Handle(this, callback as (...a: never[]) => unknown, args);
    const listener = (): void => {
      if (!this._closed && !handle._cancelled) this._soon(runHandle, handle, undefined);
    };
    const map = (this._signalHandlers ??= new Map());
    const prev = map.get(name);
    if (prev !== undefined) {
      process.removeListener(name, prev.listener);
      prev.handle.cancel();
    }
    process.on(name, listener);
    map.set(name, { handle, listener });
    this._signalKeepAlive ??= new LongTimeout(noop, Number.MAX_SAFE_INTEGER);
  }

  /** Removes the handler of `sig`; returns whether there was one (asyncio's `remove_signal_handler`). */
  removeSignalHandler(sig: NodeJS.Signals | number): boolean {
    const name = signalName(sig, "Loop.removeSignalHandler");
    const e = this._signalHandlers?.get(name);
    if (e === undefined) return false;
    process.removeListener(name, e.listener);
    e.handle.cancel();
    (this._signalHandlers as Map<NodeJS.Signals, SignalEntry>).delete(name);
    if (this._signalHandlers?.size === 0) this._releaseSignalKeepAlive();
    return true;
  }

  /** @internal Whether a handler for `name` is installed (run() leaves SIGINT to it). */
  _hasSignalHandler(name: NodeJS.Signals): boolean {
    return this._signalHandlers?.has(name) ?? false;
  }

  /** @internal */
  private _removeSignalHandlers(): void {
    const map = this._signalHandlers;
    if (map === null) return;
    for (const [name, e] of map) {
      process.removeListener(name, e.listener);
      e.handle.cancel();
    }
    map.clear();
    this._releaseSignalKeepAlive();
  }

  /** @internal */
  private _releaseSignalKeepAlive(): void {
    this._signalKeepAlive?.cancel();
    this._signalKeepAlive = null;
  }

  // ---------------------------------------------------------------- internals

  /**
   * @internal Debug mode: asserts the run state's invariants (see the fields), and the stepping task's;
   * throws an Error naming the broken one. Cheap (a few comparisons); never called with debug off.
   */
  _checkInvariants(): void {
    const broken = (what: string): never => {
      throw new Error(
        `tsaio: Loop invariant broken: ${what} (active=${this._active} inRun=${this._inRun} closed=${this._closed} ntodo=${this._ntodo} ` +
          `ready=${this._ready.length} nodeTimerWhen=${this._nodeTimerWhen} stepping=${this._stepping === null ? "null" : this._stepping.name})`,
      );
    };
    if (this._inRun && !this._active) broken("_inRun ⇒ _active");
    if (this._ntodo > this._ready.length) broken("_ntodo <= _ready.length");
    if (this._ntodo > 0 && !this._active) broken("_ntodo > 0 ⇒ _active");
    if (this._closed && this._ntodo !== 0) broken("_closed ⇒ _ntodo === 0");
    if ((this._nodeTimer === null) !== (this._nodeTimerWhen === Infinity)) broken("_nodeTimer is armed iff _nodeTimerWhen is finite");
    if (this._nodeTimer !== null && (this._active || this._virtual || this._closed)) broken("a Node timer is armed only while idle, on a real clock, open");
    if (this._cancelledTimers < 0) broken("_cancelledTimers >= 0");
    if (this._nDetached < 0) broken("_nDetached >= 0");
    const t = this._stepping;
    if (t !== null) {
      if (!t._started) broken("the stepping task has started");
      t._checkInvariants();
    }
  }

  /** @internal */
  _checkOpen(): void {
    if (this._closed) throw new InvalidStateError("the loop is closed");
  }

  /** @internal Schedules `fn.call(ctx, arg)` for the next iteration; allocates nothing. */
  _soon(fn: Slot, ctx: unknown, arg: unknown): void {
    this._ready.push(fn, ctx, arg);
    if (!this._active) this._kick();
  }

  /**
   * @internal Arms `item` (its own timer) `ms` from now: sets its `_when` and `_seq`. Cancel it by
   * setting `_cancelled` and calling `_timerCancelled()`.
   */
  _armAfter(item: TimerItem, ms: number): void {
    item._when = this.time() + ms;
    item._seq = this._timerSeq++;
    this._addTimer(item, ms);
  }

  /** @internal `delay`: ms from now, when the timer was armed that way (timers of one delay share a run). */
  private _addTimer(h: TimerItem, delay: number | null): void {
    this._timers.push(h, delay);
    if (!this._active) {
      if (this._virtual) this._kick();
      else if (h._when < this._nodeTimerWhen) this._armNodeTimer(h._when);
    }
  }

  /** @internal */
  _timerCancelled(): void {
    this._cancelledTimers++;
    if (this._cancelledTimers > 64 && this._cancelledTimers * 2 > this._timers.size) {
      this._timers.compact();
      this._cancelledTimers = 0;
    }
  }

  /** @internal Called by a task when its step ends (it suspended on a tsaio awaitable or settled). */
  _stepEnded(task: SteppingTask, settled = false): void {
    if (this._stepping !== task) return;
    this._stepping = null;
    if (this._debug) {
      task._checkInvariants();
      this._checkInvariants();
      this._checkSlow(this._stepStart, task, !settled);
    }
    // Inside a handle the run loop itself sees `_stepping === null` and goes on. A settled body is
    // reported from tsaio's own promise reaction, with nothing left to run after it in that job, so
    // the loop goes on right there. A suspension is reported from `then`, whose caller may be user
    // code that keeps running: continue in a microtask.
    if (this._inRun) return;
    if (settled && !this._closed) this._runLoop();
    else void RESOLVED.then(this._drive);
  }

  /** @internal */
  _beginStep(task: SteppingTask, from: object | null): void {
    this._stepping = task;
    if (this._debug) {
      this._checkInvariants();
      this._stepResumedFrom = from;
      this._stepStart = performance.now();
      this._handleWasStep = true;
    }
  }

  /**
   * @internal Debug mode: reports a step or callback that held the thread longer than
   * `slowCallbackDuration`, naming the task and, when the step ended at an await, where.
   */
  private _checkSlow(t0: number, task: SteppingTask | null, atAwait: boolean): void {
    const duration = performance.now() - t0;
    if (duration < this.slowCallbackDuration) return;
    // Where the step ran: from the await it resumed at (where that future was created) to the
    // await it suspended at. Both come from creation stacks, recorded in debug mode.
    let stack: string | undefined;
    if (task !== null) {
      const from = this._stepResumedFrom === null ? undefined : creationStackOf(this._stepResumedFrom);
      const to = atAwait && task._futWaiter !== null ? creationStackOf(task._futWaiter) : undefined;
      const parts: string[] = [];
      if (from) parts.push(`resumed at:\n${firstFrames(from)}`);
      else if (!task._started || this._stepResumedFrom === null) parts.push(`started at:\n${firstFrames(creationStackOf(task) ?? "")}`);
      if (to) parts.push(`suspended at:\n${firstFrames(to)}`);
      stack = parts.join("\n") || undefined;
    }
    const what = task === null ? "a callback" : `Task ${JSON.stringify(task.name)}`;
    const message =
      `Executing ${what} took ${duration.toFixed(1)} ms (slowCallbackDuration is ${this.slowCallbackDuration} ms): something blocked the thread`;
    if (channels.slow.hasSubscribers) channels.slow.publish({ loop: this, task: task ?? undefined, duration, stack });
    this.callExceptionHandler({
      message,
      duration,
      ...(task === null ? {} : { task: task as Task<unknown>, taskName: task.name }),
      ...(stack === undefined ? {} : { stack }),
    });
  }

  /** @internal */
  private _kick(): void {
    if (this._closed) return;
    this._active = true;
    this._disarmNodeTimer();
    this._sliceStart = performance.now();
    void RESOLVED.then(this._drive);
  }

  /** @internal */
  private readonly _drive = (): void => {
    if (this._stepping !== null || this._closed) return;
    this._runLoop();
  };

  /** @internal */
  private readonly _driveFromMacrotask = (): void => {
    this._sliceStart = performance.now();
    this._drive();
  };

  /** @internal */
  private readonly _watchdog = (): void => {
    this._watchdogArmed = false;
    const t = this._stepping;
    if (t === null) return;
    // The microtask queue is empty and the step has not ended: the task awaits something foreign.
    t._detach();
    this._stepping = null;
    if (this._debug) this._checkSlow(this._stepStart, t, false);
    this._sliceStart = performance.now();
    if (!this._closed) this._runLoop();
  };

  /** @internal */
  private readonly _virtualJump = (): void => {
    if (this._closed || this._stepping !== null) return;
    if (this._ready.length === 0) {
      const top = this._firstLiveTimer();
      if (top !== undefined && top._when > this._now) this._now = top._when;
    }
    this._sliceStart = performance.now();
    this._runLoop();
  };

  /** @internal */
  private readonly _nodeTimerFired = (): void => {
    this._nodeTimer = null;
    this._nodeTimerWhen = Infinity;
    if (this._active || this._closed) return;
    this._active = true;
    this._sliceStart = performance.now();
    this._runLoop();
  };

  /** @internal */
  private _runLoop(): void {
    const ready = this._ready;
    this._inRun = true;
    enterHandle(this, null, this._save);
    try {
      for (;;) {
        if (this._ntodo === 0 && !this._startIteration()) return;
        while (this._ntodo > 0) {
          this._ntodo--;
          this._epoch++;
          setHandleTask(null);
          const t0 = this._debug ? performance.now() : 0;
          try {
            ready.runFirst();
          } catch (exception) {
            this.callExceptionHandler({ message: "Exception in callback", exception });
          }
          if (this._debug) {
            if (this._stepping === null && !this._handleWasStep) this._checkSlow(t0, null, false);
            this._handleWasStep = false;
            this._checkInvariants();
          }
          if (this._stepping !== null) {
            if (!this._watchdogArmed) {
              this._watchdogArmed = true;
              setImmediate(this._watchdog);
            }
            return;
          }
        }
      }
    } finally {
      leaveHandle(this._save);
      this._inRun = false;
    }
  }

  /** @internal Starts the next iteration; false when there is nothing to run now (the wake-up is arranged). */
  private _startIteration(): boolean {
    if (this._closed) {
      this._active = false;
      return false;
    }
    const timers = this._timers;
    // Reading the clock costs about as much as a small callback, and an iteration often runs just one
    // (a lock or queue hand-off): so without timers it is read only every CLOCK_EVERY callbacks.
    let real = 0;
    if (timers.size > 0 || this._ranSinceClock >= CLOCK_EVERY) {
      this._ranSinceClock = 0;
      real = performance.now();
      if (real - this._sliceStart > 4) {
        // Time slice used up: let Node run I/O callbacks before the next iteration.
        setImmediate(this._driveFromMacrotask);
        return false;
      }
    }
    const now = this._virtual ? this._now : real;
    const ready = this._ready;
    let top = timers.peek();
    while (top !== undefined && top._when <= now) {
      timers.pop();
      if (top._cancelled) this._cancelledTimers--;
      else ready.push(top._slot, top._ctx, top._arg);
      top = timers.peek();
    }
    this._ntodo = ready.length;
    this._ranSinceClock += this._ntodo;
    if (this._ntodo > 0) return true;
    const next = this._firstLiveTimer();
    if (next !== undefined) {
      if (this._virtual) {
        setImmediate(this._virtualJump);
      } else {
        this._active = false;
        this._armNodeTimer(next._when);
      }
      return false;
    }
    this._active = false;
    // Idle. Continuations may still sit in the microtask queue (a promise settled by the last
    // callback), so only call it idle once they have all run and still nothing woke the loop.
    if (this._idleHook !== null) setImmediate(this._idleCheck);
    return false;
  }

  /** @internal */
  private readonly _idleCheck = (): void => {
    if (!this._active && !this._closed && this._ready.length === 0 && this._stepping === null && this._firstLiveTimer() === undefined) {
      this._idleHook?.();
    }
  };

  /** @internal The earliest live timer that can ever fire (a deadline of Infinity never does). */
  private _firstLiveTimer(): TimerItem | undefined {
    const timers = this._timers;
    let top = timers.peek();
    while (top !== undefined && top._cancelled) {
      timers.pop();
      this._cancelledTimers--;
      top = timers.peek();
    }
    return top === undefined || top._when === Infinity ? undefined : top;
  }

  /** @internal */
  private _armNodeTimer(when: number): void {
    this._disarmNodeTimer();
    // An infinite deadline is never reached: nothing to arm. A deadline past what Node can arm fires
    // early, finds nothing due, and re-arms for the rest (in steps of MAX_TIMER_DELAY).
    if (when === Infinity) return;
    this._nodeTimerWhen = when;
    this._nodeTimer = setTimeout(this._nodeTimerFired, clampDelay(when - performance.now()));
  }

  /** @internal */
  private _disarmNodeTimer(): void {
    if (this._nodeTimer !== null) {
      clearTimeout(this._nodeTimer);
      this._nodeTimer = null;
      this._nodeTimerWhen = Infinity;
    }
  }

  /** @internal Its describer (see internal/describe.ts): state and counts only. */
  _describe(_o: DescribeOptions): string {
    const state = this._closed ? "closed" : this._active ? "running" : "idle";
    const timers = this._timers.size - this._cancelledTimers;
    return `<Loop ${state} clock=${this._virtual ? "virtual" : "real"} time=${Math.round(this.time())} ready=${this._ready.length} timers=${timers} tasks=${this._tasks?.size ?? 0}${this._debug ? " debug" : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

function noop(): void {}

/** A signal handler installed with `addSignalHandler`. */
interface SignalEntry {
  handle: Handle;
  listener: () => void;
}

/** `sig` as Node names it; TypeError/RangeError naming the argument otherwise. */
function signalName(sig: unknown, fnName: string): NodeJS.Signals {
  const signals = osConstants.signals as Record<string, number>;
  let name: string | undefined;
  if (typeof sig === "string") {
    if (Object.hasOwn(signals, sig)) name = sig;
  } else if (typeof sig === "number") {
    name = Object.keys(signals).find((k) => signals[k] === sig);
  } else {
    throw new TypeError(`${fnName}: \`sig\` must be a signal name ("SIGTERM") or number, got ${sig === null ? "null" : typeof sig}`);
  }
  if (name === undefined) throw new RangeError(`${fnName}: \`sig\` is not a signal: ${String(sig)}`);
  if (name === "SIGKILL" || name === "SIGSTOP") throw new RangeError(`${fnName}: \`sig\` ${name} cannot be caught`);
  return name as NodeJS.Signals;
}

function describeFn(fn: (...args: never[]) => unknown): string {
  return fn.name ? `${fn.name}()` : "<anonymous>()";
}

registerDefaultLoopFactory(() => new Loop());

/**
 * The loop of the current context: inside `run()` that run's loop; elsewhere the default loop,
 * bound to Node's own event loop. (Defined with the loop, so that code below the runners — workers,
 * executors — gets it without loading them; runners.ts re-exports it.)
 * @example
 * ```ts
 * import { getRunningLoop } from "tsaio";
 * console.log(typeof getRunningLoop().time()); // number
 * ```
 */
export function getRunningLoop(): Loop {
  return runningLoop() as Loop;
}
