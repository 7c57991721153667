/**
 * `run()` and `Runner`: asyncio.run — a fresh loop per run, SIGINT handling, clean shutdown of
 * leftover tasks, and deadlock detection.
 * @module
 */
import { inspect } from "node:util";
import { isMainThread } from "node:worker_threads";
import { enclosingTaskOrLoop, onDefaultLoop } from "./context.js";
import { CancelledError, DeadlockError, InvalidStateError, KeyboardInterrupt } from "./errors.js";
import { checkDelay, checkFunction, checkOptions } from "./internal/validate.js";
import { type DescribeOptions, FULL, show } from "./internal/describe.js";
import { creationStackOf } from "./internal/track.js";
import { Loop, type LoopOptions } from "./loop.js";
import { pendingTasks, type Task } from "./tasks.js";

/** Options of `run()` and `new Runner()`. */
export interface RunOptions extends LoopOptions {
  /**
   * Install a SIGINT handler while running: the first Ctrl-C cancels the main task (its `finally`
   * blocks run), a second one exits at once. Default true.
   */
  handleSigint?: boolean;
  /** After SIGINT ended the run, exit the process with code 130 (`run()` only). Default true. */
  exitOnSigint?: boolean;
  /**
   * At the end of `run()` (`Runner.close()`), how long to wait, in ms, for the leftover tasks it has
   * cancelled to finish. Waiting also stops as soon as nothing can settle them any more (Node's event
   * loop has nothing left to run: a task stuck on a promise that never settles). Each task still
   * pending then is reported to the loop's exception handler, with what it waits on, and abandoned;
   * the loop closes and `run()` returns main's value. `Infinity` waits as long as anything could
   * still settle them (asyncio waits without limit). Real time, even on a virtual clock: it bounds
   * the wait for foreign work, which virtual time does not measure.
   *
   * Default 5000: a cancelled task normally ends within a loop iteration or a network round trip,
   * so 5 s leaves room for real cleanup (a flush, a graceful close), while a shutdown stuck on a
   * promise that ignores cancellation is still reported well within the grace period of `docker
   * stop` (10 s) and Kubernetes (30 s), before SIGKILL would lose the report.
   * @defaultValue 5000
   * @example
   * ```ts
   * import { run, createTask } from "tsaio";
   * // The leftover ignores cancellation (a promise tsaio did not make): after 1 s it is reported
   * // ("still pending after shutdownTimeout (1000 ms)") and run() returns "done".
   * const keepAlive = setInterval(() => {}, 1_000); // something else keeps the process busy
   * const result = await run(async () => {
   *   void createTask(() => new Promise(() => {}), { name: "stuck" });
   *   return "done";
   * }, { shutdownTimeout: 1_000 });
   * console.log(result); // done
   * clearInterval(keepAlive);
   * ```
   */
  shutdownTimeout?: number;
}

/** Default of {@link RunOptions.shutdownTimeout}: see there for why. */
const DEFAULT_SHUTDOWN_TIMEOUT = 5_000;

/**
 * Runs functions as the main task of a loop it owns; `close()` cancels leftover tasks, reports
 * errors nobody retrieved, and closes the loop. Usable with `await using`.
 * @example
 * ```ts
 * import { Runner, sleep } from "tsaio";
 * const runner = new Runner({ clock: "virtual" });
 * console.log(await runner.run(() => sleep(1_000, "first"))); // first
 * console.log(await runner.run(() => sleep(1_000, "second")), runner.getLoop().time()); // second 2000
 * await runner.close();
 * ```
 */
export class Runner implements AsyncDisposable {
  /** @internal */
  private _loop: Loop | null = null;
  /** @internal */
  private _closed = false;
  /** @internal */
  private _running = false;
  /** @internal */
  private readonly _options: RunOptions;
  /** @internal */ _interrupted = false;

  constructor(options: RunOptions = {}) {
    checkOptions(options, "Runner");
    this._options = { ...options };
    if (options.clock !== undefined && options.clock !== "real" && options.clock !== "virtual") {
      throw new TypeError(`Runner: \`clock\` must be "real" or "virtual", got ${String(options.clock)}`);
    }
    if (options.shutdownTimeout !== undefined) checkDelay(options.shutdownTimeout, "Runner", "shutdownTimeout");
  }

  /** The runner's loop (made on first use). */
  getLoop(): Loop {
    if (this._closed) throw new InvalidStateError("Runner is closed");
    if (this._loop === null) this._loop = new Loop(this._options);
    return this._loop;
  }

  /**
   * Runs `fn` as the main task and returns its result. Rejects with `DeadlockError` if the main
   * task can never be woken, and with `KeyboardInterrupt` if SIGINT cancelled it. Called from
   * inside a task or a loop callback it rejects with `InvalidStateError` (see {@link run}).
   */
  async run<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    checkFunction(fn, "run", "main");
    refuseInsideLoop("Runner.run()");
    if (this._running) throw new InvalidStateError("Runner.run() cannot be called while it is already running");
    const loop = this.getLoop();
    // Loaded on demand: the introspection server (layer 8) stays out of everything below it, workers
    // included (test/layering.test.ts allows this one lazy upward import).
    if (process.env.TSAIO_INTROSPECT === "1") await (await import("./debug/introspect.js")).enableIntrospection();
    this._running = true;
    const task = loop.createTask(fn, { name: "main" });
    let deadlock: DeadlockError | null = null;
    let wake: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      wake = resolve;
      task._addEntry({ _onDone: () => resolve() });
    });
    const onDeadlock = (): void => {
      if (task.done()) return;
      if (deadlock !== null) {
        wake(); // still stuck after cancelling the main task: give up waiting
        return;
      }
      deadlock = new DeadlockError(describeDeadlock(loop));
      task.cancel("deadlock");
    };
    const onIdle = (): void => {
      if (loop._nDetached === 0) onDeadlock();
    };
    const onSigint = (): void => {
      // A SIGINT handler of the loop's own (loop.addSignalHandler) takes Ctrl-C over while installed.
      if (loop._hasSignalHandler("SIGINT")) return;
      if (this._interrupted || task.done()) {
        process.exit(130);
      }
      this._interrupted = true;
      task.cancel("SIGINT");
    };
    const sigint = this._options.handleSigint !== false;
    if (sigint) process.on("SIGINT", onSigint);
    const stopWatching = whenNodeIdle(onDeadlock);
    if (loop.isVirtual()) loop._idleHook = onIdle;
    try {
      await finished;
    } finally {
      this._running = false;
      if (sigint) process.removeListener("SIGINT", onSigint);
      stopWatching();
      loop._idleHook = null;
    }
    if (deadlock !== null) {
      if (task.done() && !task.cancelled()) task.exception(); // the deadlock is the error reported
      throw deadlock;
    }
    try {
      return task.result() as T;
    } catch (e) {
      if (e instanceof CancelledError && this._interrupted && task.uncancel() === 0) {
        throw new KeyboardInterrupt("interrupted by SIGINT", { cause: e });
      }
      throw e;
    }
  }

  /**
   * Cancels and awaits every task left on the loop, reports their errors and any error nobody
   * retrieved to the exception handler, then closes the loop. A task that does not finish — nothing
   * can settle what it waits on any more, or `shutdownTimeout` passed — is reported (with what it
   * waits on) and abandoned.
   */
  async close(): Promise<void> {
    if (this._closed) return;
    const loop = this._loop;
    this._closed = true;
    if (loop === null) return;
    await shutdownLoop(loop, this._options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT);
  }

  /** `await using runner = new Runner()` closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(o: DescribeOptions): string {
    return `<Runner ${this._closed ? "closed" : this._running ? "running" : "idle"}${this._loop === null ? "" : " " + show(this._loop, o)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/**
 * `run()`'s refusal to start a loop inside a loop (asyncio: "asyncio.run() cannot be called from a
 * running event loop"). The nested loop would run on its own: an enclosing `timeout()` or a cancel
 * of the enclosing task could not reach its tasks, and the outer loop's ordering would be lost.
 */
function refuseInsideLoop(what: string): void {
  const inside = enclosingTaskOrLoop();
  if (inside === null) return;
  const where = inside instanceof Loop ? "a loop callback" : `a task (${JSON.stringify((inside as Task<unknown>).name)})`;
  throw new InvalidStateError(
    `${what} cannot be called from inside ${where}: it would start a second event loop inside the running one, ` +
      "where the enclosing timeouts and cancellations could not reach its tasks (asyncio raises RuntimeError here). " +
      "Await the function directly instead: `await main()`, not `await run(main)` (or `createTask(main)` to run it concurrently). " +
      "run() belongs at the top of a program, a Node callback or a test body.",
  );
}

const MAX_NODE_DELAY = 2 ** 31 - 1; // setTimeout fires at once beyond this (TimeoutOverflowWarning)

/**
 * asyncio's `_cancel_all_tasks`, then the rest of the shutdown: cancels the tasks left on the loop
 * and waits for them — until they are done, or nothing can settle them any more (Node's
 * `beforeExit`: its event loop has nothing left, so a promise they wait on can never settle), or
 * `timeoutMs` (real time) has passed. Then reports each task left and closes the loop anyway, so
 * that `run()` returns rather than hang on a task that will never end.
 *
 * Beyond asyncio, tasks created while the leftovers clean up are cancelled and awaited as well
 * (asyncio would drop them pending), until no new ones appear.
 */
async function shutdownLoop(loop: Loop, timeoutMs: number): Promise<void> {
  const cancelled = new Set<Task<unknown>>();
  let remaining = 0; // cancelled tasks not done yet
  let gaveUp: string | null = null;
  let wake: () => void = noop;
  let timer: NodeJS.Timeout | null = null;
  let stopWatching = noop;
  const stop = (why: string): void => {
    gaveUp ??= why;
    wake();
  };
  const onNodeIdle = (): void => stop("nothing can settle what it waits on any more (Node's event loop has nothing left to run)");
  const onTaskDone = { _onDone: (): void => (--remaining === 0 ? wake() : undefined) };
  try {
    for (;;) {
      const batch = pendingTasks(loop).filter((t) => !t.done() && !cancelled.has(t));
      if (batch.length === 0) break;
      if (cancelled.size === 0) {
        // Armed only when there is something to wait for. The timer is unref'd so that it never
        // keeps the process alive, and so that `beforeExit` can still tell that nothing else is left.
        stopWatching = whenNodeIdle(onNodeIdle);
        if (timeoutMs !== Infinity) {
          const expired = (): void => stop(`it was still pending after shutdownTimeout (${timeoutMs} ms)`);
          const arm = (ms: number): void => {
            timer = setTimeout(ms > MAX_NODE_DELAY ? () => arm(ms - MAX_NODE_DELAY) : expired, Math.min(ms, MAX_NODE_DELAY));
            timer.unref();
          };
          arm(timeoutMs);
        }
      }
      if (loop.getDebug()) reportAbandoned(loop, batch);
      for (const t of batch) {
        cancelled.add(t);
        remaining++;
        t._addEntry(onTaskDone);
        t.cancel();
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (remaining === 0 || gaveUp !== null) resolve();
      });
      wake = noop;
      if (gaveUp !== null) break;
    }
  } finally {
    stopWatching();
    if (timer !== null) clearTimeout(timer);
  }
  for (const t of cancelled) {
    if (!t.done() || t.cancelled()) continue;
    const exception = t.exception();
    if (exception !== null) {
      loop.callExceptionHandler({ message: "unhandled exception during run() shutdown", exception, task: t });
    }
  }
  if (gaveUp !== null) {
    for (const t of pendingTasks(loop)) {
      if (t.done()) continue;
      if (!cancelled.has(t)) t.cancel(); // made after the last round: cancel it too, so the report stays true
      const waitingOn = t._waitingOnText();
      // Not on a tsaio future: blocked on a promise tsaio did not make, which a cancel cannot stop.
      const hint =
        t._futWaiter === null
          ? " A promise tsaio did not make ignores cancellation: pass the task's signal to the call that made it" +
            " (fetch(url, { signal: currentTask()!.signal })) or wrap it in cancellable()."
          : "";
      loop.callExceptionHandler({
        message: `Task ${JSON.stringify(t.name)} was cancelled at shutdown but did not finish: ${gaveUp}. Abandoned while waiting on ${waitingOn}.${hint}`,
        task: t,
        taskName: t.name,
        waitingOn,
        ...createdAtOf(t),
      });
    }
  }
  await loop._shutdownDefaultExecutor();
  loop._reportUnretrieved();
  loop.close();
}

function noop(): void {}

/**
 * Calls `cb` on Node's `beforeExit` (its event loop has nothing left to run: nothing can settle a
 * promise any more) until the returned function is called. One process listener serves every run
 * waiting at once (one each would trip MaxListenersExceededWarning past ten concurrent runs), and
 * it is installed only while someone waits.
 */
const idleWatchers = new Set<() => void>();

function whenNodeIdle(cb: () => void): () => void {
  const entry = (): void => cb(); // its own identity: the same `cb` may be registered twice
  if (idleWatchers.size === 0) process.on("beforeExit", nodeIdle);
  idleWatchers.add(entry);
  return () => {
    if (idleWatchers.delete(entry) && idleWatchers.size === 0) process.removeListener("beforeExit", nodeIdle);
  };
}

function nodeIdle(): void {
  for (const w of [...idleWatchers]) w();
}

function createdAtOf(t: Task<unknown>): { createdAt?: string } {
  const s = creationStackOf(t);
  return s === undefined ? {} : { createdAt: s };
}

/** Debug mode: asyncio reports these when collected ("Task was destroyed but it is pending!"). */
function reportAbandoned(loop: Loop, tasks: Task<unknown>[]): void {
  // Here the loop is closing, which is the moment they are abandoned.
  for (const t of tasks) {
    loop.callExceptionHandler({
      message: `Task ${JSON.stringify(t.name)} was still pending when the loop closed (${t._futWaiter === null ? "" : "waiting on " + t._waitingOnText() + ", "}never awaited to completion); cancelling it`,
      task: t,
      taskName: t.name,
      createdAt: creationStackOf(t) ?? "",
    });
  }
}

const MAIN_STUCK = "the main task can never be woken (nothing is scheduled, no timer is pending, nothing is in flight).";

function describeDeadlock(loop: Loop, what = MAIN_STUCK): string {
  const lines = [`deadlock: ${what}`];
  const tasks = pendingTasks(loop).filter((t) => !t.done());
  lines.push(`Waiting tasks (${tasks.length}):`);
  for (const t of tasks) lines.push(`  - ${JSON.stringify(t.name)} waits on ${(t as Task<unknown>)._waitingOnText()}`);
  return lines.join("\n");
}

// ------------------------------------------------------------------ the default loop at exit
//
// Without run(), tsaio's default loop has no end of its own: the program ends when Node's event
// loop does. So at that moment it reports what run() reports at its end. The two process listeners
// are installed once, when a default loop is first made, and do nothing unless it has tasks or
// lost errors; listeners never keep the process alive.

let exitLoop: Loop | null = null;
let exitHooked = false;

onDefaultLoop((loop) => {
  exitLoop = loop;
  // Worker threads are run and stopped by their pool, which reports their jobs' errors itself.
  if (exitHooked || !isMainThread) return;
  exitHooked = true;
  process.on("beforeExit", reportLostErrorsAtExit);
  process.on("exit", reportStuckTasksAtExit);
});

/**
 * Node's event loop is empty: report failed tasks and futures whose error nobody retrieved, exactly
 * as run() does at its end. Here, not at "exit", because the report may be written asynchronously.
 */
function reportLostErrorsAtExit(): void {
  const loop = exitLoop;
  if (loop !== null && !loop.isClosed() && loop._unretrieved.size > 0) loop._reportUnretrieved();
}

/**
 * The process is exiting: tasks still pending on the default loop can never run again. If Node
 * exits because the top-level await never settled (exit code 13), that is a deadlock, and the
 * DeadlockError report says which tasks wait on what, instead of Node's silent 13 (the code stays:
 * it is Node's documented meaning for exactly this, which scripts and supervisors may test for).
 * A program that simply ended with background tasks still waiting is not one: it exits as it
 * would, and only debug mode lists those tasks, as run() does.
 *
 * This must be the "exit" event, not "beforeExit": only here is Node's verdict on the top-level
 * await known (Node 20 sets exit code 13 from an earlier "exit" listener; Node 22 and later before
 * emitting "exit"), and another "beforeExit" listener could still schedule work that wakes the tasks.
 */
function reportStuckTasksAtExit(code: number): void {
  const loop = exitLoop;
  if (loop === null || loop.isClosed()) return;
  if (loop._unretrieved.size > 0) loop._reportUnretrieved(); // process.exit() skips "beforeExit"
  if ((loop._tasks?.size ?? 0) === 0) return;
  if (code === 13 || process.exitCode === 13) {
    const err = new DeadlockError(
      describeDeadlock(
        loop,
        "the program's top-level await never settled, and no task of the default loop can ever be woken " +
          "(nothing is scheduled, no timer is pending, nothing is in flight). Node exits with code 13 (unsettled top-level await).",
      ),
    );
    err.stack = `${err.name}: ${err.message}`; // where this report was made says nothing about the deadlock
    loop.callExceptionHandler({ message: "deadlock at exit: the top-level await never settled, and tasks of the default loop can never be woken", exception: err });
  } else if (loop.getDebug()) {
    for (const t of pendingTasks(loop)) {
      if (t.done()) continue;
      loop.callExceptionHandler({
        message: `Task ${JSON.stringify(t.name)} was still pending when the process exited (waiting on ${t._waitingOnText()}); it never finished`,
        task: t,
        taskName: t.name,
        ...createdAtOf(t),
      });
    }
  }
}

/**
 * Runs `main` as the main task of a fresh loop and returns its result (asyncio.run). SIGINT cancels
 * the main task (its `finally` blocks run) and then exits with code 130; a second SIGINT exits at
 * once. Leftover tasks are cancelled and awaited at the end (see `shutdownTimeout`). If nothing can
 * ever wake the main task, it rejects with `DeadlockError` naming the waiting tasks. `clock:
 * "virtual"` runs timers instantly.
 *
 * Called from inside a task or a loop callback (of any loop, the default one included), it rejects
 * with `InvalidStateError`: a loop started there could not be reached by the enclosing timeouts and
 * cancellations. Await the function directly instead. From plain code (the top level, a Node
 * callback, a test body) it runs, even while the default loop has tasks.
 * @example
 * ```ts
 * import { run, sleep, gather } from "tsaio";
 * const r = await run(async () => gather([() => sleep(3_000, 3), () => sleep(1_000, 1)]), { clock: "virtual" });
 * console.log(r); // [ 3, 1 ]
 * ```
 */
export async function run<T>(main: () => T | PromiseLike<T>, options: RunOptions = {}): Promise<T> {
  checkFunction(main, "run", "main");
  refuseInsideLoop("run()");
  const runner = new Runner(options);
  try {
    return await runner.run(main);
  } catch (e) {
    if (e instanceof KeyboardInterrupt && options.exitOnSigint !== false) {
      await runner.close();
      process.exit(130);
    }
    throw e;
  } finally {
    await runner.close();
  }
}

// getRunningLoop belongs to the loop layer; re-exported here, where it was first defined.
export { getRunningLoop } from "./loop.js";
