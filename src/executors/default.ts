/**
 * `toThread` and the default executor: `loop.runInExecutor(null, …)` and `toThread` use a
 * ThreadPoolExecutor made on first use, one per loop; `run()` shuts it down at exit, and outside
 * `run()` its idle workers never keep the process alive.
 * @module
 */
import { registerDefaultExecutorFactory } from "../loop.js";
import { runningLoop } from "../context.js";
import type { ExecutorFuture } from "./future.js";
import { ThreadPoolExecutor } from "./thread.js";

/**
 * Runs `fn(...args)` on the running loop's default executor (a {@link ThreadPoolExecutor} unless
 * `loop.setDefaultExecutor()` chose another) and returns the Future of its result: asyncio's
 * `to_thread`. Use it to move a blocking or CPU-bound call off the event loop. `fn` is a worker
 * function (`mod.fns.name` from {@link workerModule}) or a self-contained function sent by source
 * (see `Executor.submit` for the limits). Cancelling the awaiting task cancels the job in the worker.
 * @example
 * ```ts
 * import { run, toThread } from "tsaio";
 * await run(async () => {
 *   // A blocking call, off the loop: Atomics.wait blocks the worker thread, not this one.
 *   const slept = await toThread((ms: number) => {
 *     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
 *     return ms;
 *   }, 200);
 *   console.log(slept); // 200
 * });
 * ```
 */
export function toThread<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): ExecutorFuture<Awaited<R>> {
  return runningLoop().runInExecutor(null, fn, ...args) as ExecutorFuture<Awaited<R>>;
}

registerDefaultExecutorFactory(() => new ThreadPoolExecutor({ name: "default executor" }));
