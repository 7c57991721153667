/**
 * Executors: concurrent.futures' thread and process pools, on `worker_threads` and child processes,
 * returning tsaio Futures — so cancellation, `timeout()`, `gather()` and task groups work across the
 * thread boundary.
 *
 * ## Naming the work
 * JS cannot send a closure to another thread, so work is named by module and export:
 * ```ts
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await pool.submit(jobs.fns.hash, data);   // argument and result types are hash's
 * ```
 * The type argument only brings types (`typeof import(...)` loads nothing); each worker imports the
 * module on first use. Under tsx a worker loads `jobs.ts` (even on Node 20, where tsx does not
 * register itself in worker threads: the worker registers it); compiled code loads `jobs.js`.
 * A wrong export name is a compile error; if types are bypassed, the job's future rejects with an
 * error listing the module's exports. For one-offs, a *self-contained* function is sent by its
 * source text: one that reads outer variables or imports, `this`, an arrow's `arguments`, `super` or
 * a private member is refused at submit where a lexer can see it, else its first run fails with a
 * ReferenceError saying so; native, bound and Node built-in functions are refused; `currentTask` is
 * in scope in the worker. A worker whose job module starts an executor when imported (a main module
 * exporting its own jobs) fails that construction at once instead of starting workers without end.
 *
 * ## Cancellation reaches the worker: ask first, kill second
 * A job cancelled before it started never starts — also one already waiting inside a thread worker
 * behind a running job (a veto in shared memory stops it). A running job runs in its own tsaio Task
 * in the worker, so `currentTask().signal` aborts and tsaio awaits throw `CancelledError` when the
 * job is cancelled (by `future.cancel()`, a cancelled awaiting task, `timeout()`, a per-job
 * `timeout` counted from the job's start, or an AbortSignal). A job that has not ended
 * `cancelGracePeriod` ms later (or at once with `cancel(msg, { force: true })`) has its worker
 * terminated and replaced; a shared control word tells exactly which job a thread worker is
 * running, so no other job ever dies with it (jobs it held but had not started go back to the
 * queue). The future ends at once; `future.stopped()` resolves when the capacity is free again.
 * `running()` is true from the moment a job can start: for a process worker, once it is sent.
 *
 * ## Crashes lose nothing silently
 * A worker that dies (uncaught error, `process.exit`, out of memory under `resourceLimits`, a
 * SIGKILL) fails the one job it was running with `BrokenExecutorError` (naming the cause and the
 * job); the others run on a replacement. Results are posted one by one as jobs finish (never
 * buffered in the worker), so nothing a dead worker produced is lost; jobs are batched only on the
 * way in, where the pool keeps every job until its outcome arrives.
 *
 * ## Limits
 * - A thread stuck inside a native call (a long synchronous crypto or zlib call…) can only be
 *   terminated when that call returns; a process worker can always be killed.
 * - Arguments travel by structured clone; `transfer(value, list)` moves buffers (top-level
 *   arguments and return values). A job whose *transferred* arguments went to a worker that died
 *   before starting it fails (its data went with the worker) instead of being re-run.
 * - Process workers: no SharedArrayBuffer, no transfers (copies), one job at a time per process.
 * - Per-job timeouts and grace periods run on the real clock, even under a virtual-clock loop;
 *   Infinity means never, and delays past 2³¹−1 ms are re-armed (never cut short).
 * - A process worker whose parent dies (even by SIGKILL) dies too, within ~100 ms, whatever its job
 *   is doing: a watchdog thread in each worker process checks its parent.
 * @module
 */
export { Executor } from "./pool.js";
export type { ExecutorOptions, JobOptions, ExecutorMapOptions, ShutdownOptions } from "./options.js";
export { ThreadPoolExecutor } from "./thread.js";
export { ProcessPoolExecutor } from "./process.js";
export { ExecutorFuture, type CancelOptions } from "./future.js";
export { workerModule, type WorkerModule, type WorkerFunction, type WorkerFunctions, type FunctionKeys } from "./functions.js";
export { transfer } from "./protocol.js";
export { toThread } from "./default.js";
