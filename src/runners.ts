/**
 * `run()` and `Runner`: asyncio.run — a fresh loop per run, SIGINT handling, clean shutdown of
 * leftover tasks, and deadlock detection.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { CancelledError, DeadlockError, InvalidStateError, KeyboardInterrupt } from "./errors.js";
import { checkFunction, checkOptions } from "./internal/validate.js";
import { creationStackOf } from "./instrument.js";
import { enableIntrospection } from "./debug/introspect.js";
import { Loop, type LoopOptions } from "./loop.js";
import type { Task } from "./tasks.js";

/** Options of `run()` and `new Runner()`. */
export interface RunOptions extends LoopOptions {
  /**
   * Install a SIGINT handler while running: the first Ctrl-C cancels the main task (its `finally`
   * blocks run), a second one exits at once. Default true.
   */
  handleSigint?: boolean;
  /** After SIGINT ended the run, exit the process with code 130 (`run()` only). Default true. */
  exitOnSigint?: boolean;
}

/**
 * Runs functions as the main task of a loop it owns; `close()` cancels leftover tasks, reports
 * errors nobody retrieved, and closes the loop. Usable with `await using`.
 * @example
 * ```ts
 * import { Runner, sleep } from "tsaio";
 * const runner = new Runner({ clock: "virtual" });
 * console.log(await runner.run(() => sleep(1_000, "first")));
 * console.log(await runner.run(() => sleep(1_000, "second")), runner.getLoop().time()); // second 2000
 * await runner.close();
 * ```
 */
export class Runner implements AsyncDisposable {
  private _loop: Loop | null = null;
  private _closed = false;
  private _running = false;
  private readonly _options: RunOptions;
  /** @internal */ _interrupted = false;

  constructor(options: RunOptions = {}) {
    checkOptions(options, "Runner");
    this._options = { ...options };
    if (options.clock !== undefined && options.clock !== "real" && options.clock !== "virtual") {
      throw new TypeError(`Runner: \`clock\` must be "real" or "virtual", got ${String(options.clock)}`);
    }
  }

  /** The runner's loop (made on first use). */
  getLoop(): Loop {
    if (this._closed) throw new InvalidStateError("Runner is closed");
    if (this._loop === null) this._loop = new Loop(this._options);
    return this._loop;
  }

  /**
   * Runs `fn` as the main task and returns its result. Rejects with `DeadlockError` if the main
   * task can never be woken, and with `KeyboardInterrupt` if SIGINT cancelled it.
   */
  async run<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    checkFunction(fn, "run", "main");
    if (this._running) throw new InvalidStateError("Runner.run() cannot be called while it is already running");
    const loop = this.getLoop();
    if (process.env.TSAIO_INTROSPECT === "1") await enableIntrospection();
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
    const onBeforeExit = (): void => onDeadlock();
    const onIdle = (): void => {
      if (loop._nDetached === 0) onDeadlock();
    };
    const onSigint = (): void => {
      if (this._interrupted || task.done()) {
        process.exit(130);
      }
      this._interrupted = true;
      task.cancel("SIGINT");
    };
    const sigint = this._options.handleSigint !== false;
    if (sigint) process.on("SIGINT", onSigint);
    process.on("beforeExit", onBeforeExit);
    if (loop.isVirtual()) loop._idleHook = onIdle;
    try {
      await finished;
    } finally {
      this._running = false;
      if (sigint) process.removeListener("SIGINT", onSigint);
      process.removeListener("beforeExit", onBeforeExit);
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
   * retrieved to the exception handler, then closes the loop.
   */
  async close(): Promise<void> {
    if (this._closed) return;
    const loop = this._loop;
    this._closed = true;
    if (loop === null) return;
    await shutdownLoop(loop);
  }

  /** `await using runner = new Runner()` closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal */
  [inspect.custom](): string {
    return `<Runner ${this._closed ? "closed" : this._running ? "running" : "idle"}${this._loop === null ? "" : " " + inspect(this._loop)}>`;
  }
}

async function shutdownLoop(loop: Loop): Promise<void> {
  const leftovers = loop._pendingTasks().filter((t) => !t.done());
  if (loop.getDebug()) {
    // asyncio reports these when they are collected ("Task was destroyed but it is pending!");
    // here the loop is closing, which is the moment they are abandoned.
    for (const t of leftovers) {
      loop.callExceptionHandler({
        message: `Task ${JSON.stringify(t.name)} was still pending when the loop closed (${t._futWaiter === null ? "" : "waiting on " + t._waitingOnText() + ", "}never awaited to completion); cancelling it`,
        task: t,
        taskName: t.name,
        createdAt: creationStackOf(t) ?? "",
      });
    }
  }
  for (const t of leftovers) t.cancel();
  if (leftovers.length > 0) {
    // allSettled: these rejections are inspected below, one by one.
    await Promise.allSettled(leftovers);
  }
  for (const t of leftovers) {
    if (t.cancelled()) continue;
    const exception = t.exception();
    if (exception !== null) {
      loop.callExceptionHandler({ message: "unhandled exception during run() shutdown", exception, task: t });
    }
  }
  await loop._shutdownDefaultExecutor();
  loop._reportUnretrieved();
  loop.close();
}

function describeDeadlock(loop: Loop): string {
  const lines = ["deadlock: the main task can never be woken (nothing is scheduled, no timer is pending, nothing is in flight)."];
  const tasks = loop._pendingTasks().filter((t) => !t.done());
  lines.push(`Waiting tasks (${tasks.length}):`);
  for (const t of tasks) lines.push(`  - ${JSON.stringify(t.name)} waits on ${(t as Task<unknown>)._waitingOnText()}`);
  return lines.join("\n");
}

/**
 * Runs `main` as the main task of a fresh loop and returns its result (asyncio.run). SIGINT cancels
 * the main task (its `finally` blocks run) and then exits with code 130; a second SIGINT exits at
 * once. Leftover tasks are cancelled and awaited at the end. If nothing can ever wake the main task,
 * it rejects with `DeadlockError` naming the waiting tasks. `clock: "virtual"` runs timers instantly.
 * @example
 * ```ts
 * import { run, sleep, gather } from "tsaio";
 * const r = await run(async () => gather([() => sleep(3_000, 3), () => sleep(1_000, 1)]), { clock: "virtual" });
 * console.log(r); // [ 3, 1 ]
 * ```
 */
export async function run<T>(main: () => T | PromiseLike<T>, options: RunOptions = {}): Promise<T> {
  checkFunction(main, "run", "main");
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

/**
 * The loop of the current context: inside `run()` that run's loop; elsewhere the default loop,
 * bound to Node's own event loop.
 * @example
 * ```ts
 * import { getRunningLoop } from "tsaio";
 * console.log(typeof getRunningLoop().time()); // number
 * ```
 */
export function getRunningLoop(): Loop {
  return runningLoop();
}
