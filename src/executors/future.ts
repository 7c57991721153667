/**
 * ExecutorFuture: the tsaio Future of one job, which also *is* the job record (one allocation per
 * submit). Its `cancel()` reaches into the worker; whichever way it ends (result, error, cancel,
 * timeout, crash, shutdown, or a `setResult` from outside) the pool hears of it exactly once,
 * through `_scheduleCallbacks`, the one method every way of settling a Future goes through.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";
import { inspect } from "node:util";
import { Future } from "../futures.js";
import type { Loop } from "../loop.js";
import type { FnEntry } from "./functions.js";

/** @internal Job states. */
export const QUEUED = 0;
export const SENT = 1;
export const STOPPED = 2;

/** @internal What an ExecutorFuture needs from its pool. */
export interface JobOwner {
  /** The future was settled (by anyone): stop the job if it still runs, free what it held. */
  _futureSettled(job: ExecutorFuture<unknown>): void;
  /** Kill the job's worker now if the job is running there (`cancel({ force: true })`). */
  _forceStop(job: ExecutorFuture<unknown>): void;
  /** Whether the job is running in a worker right now (not just queued there). */
  _isRunning(job: ExecutorFuture<unknown>): boolean;
  /** For inspect: which worker holds the job. */
  _describeSlot(job: ExecutorFuture<unknown>): string;
}

/**
 * Options of {@link ExecutorFuture.cancel}.
 * @example
 * ```ts
 * fut.cancel("user pressed stop", { force: true }); // terminate its worker now
 * ```
 */
export interface CancelOptions {
  /**
   * Do not wait for the job to notice its aborted signal: terminate its worker at once (a thread
   * worker is terminated, a process worker gets SIGKILL) and replace it. No other job dies with it.
   */
  force?: boolean;
}

/**
 * The Future of a job submitted to an executor. Await it, combine it (`gather`, `wait`, `timeout`…),
 * or cancel it: a job still queued is dropped at once; a running job's worker-side task is cancelled
 * (its `currentTask().signal` aborts) and, if it has not ended after the executor's
 * `cancelGracePeriod` (or at once with `{ force: true }`), its worker is terminated and replaced.
 * The future itself ends cancelled immediately; {@link ExecutorFuture.stopped} tells when the job has
 * really stopped.
 * @typeParam T - the job's result type.
 * @example
 * ```ts
 * import { ThreadPoolExecutor, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
 * const fut = pool.submit(jobs.fns.spin, 60_000);
 * fut.cancel("no longer needed");
 * await fut.stopped(); // the worker noticed (or was replaced)
 * console.log(fut.cancelled(), fut.running()); // true false
 * ```
 */
export class ExecutorFuture<T> extends Future<T> {
  /** @internal */ _owner: JobOwner | null;
  /** @internal */ readonly _seq: number;
  /** @internal */ readonly _fn: FnEntry;
  /** @internal */ _args: unknown[] | null;
  /** @internal */ _transfer: TransferListItem[] | null = null;
  /** @internal Per-job timeout in ms, counted from the job's start; -1 for none. */
  _timeout: number;
  /** @internal */ _flags = 0;
  /** @internal QUEUED, SENT or STOPPED. */
  _job = QUEUED;
  /** @internal The worker slot holding the job (opaque to this module). */
  _slot: unknown = null;
  /** @internal The timeout or grace-period timer. */
  _timer: NodeJS.Timeout | null = null;
  /** @internal A start notice arrived. */
  _startedNotice = false;
  /** @internal Asked to stop it with `force`. */
  _force = false;
  /** @internal Asked to stop it (cancel sent to the worker). */
  _stopAsked = false;
  /** @internal */ _stoppedWaiters: (() => void)[] | null = null;
  /** @internal How many workers died holding it before it started (a job that kills workers at start is not retried forever). */
  _orphaned = 0;

  /** @internal Made by executors only. */
  constructor(loop: Loop, owner: JobOwner, seq: number, fn: FnEntry, args: unknown[], timeout: number) {
    super(loop);
    this._owner = owner;
    this._seq = seq;
    this._fn = fn;
    this._args = args;
    this._timeout = timeout;
  }

  /** The job's number in its executor (shown in errors and `util.inspect`). */
  get jobId(): number {
    return this._seq;
  }

  /**
   * Cancels the job. Returns false if the future is already done. A queued job is dropped; a running
   * one is asked to stop (its worker-side task is cancelled and its signal aborts), then its worker
   * is terminated if it has not stopped within the executor's `cancelGracePeriod`, or at once with
   * `{ force: true }` (which also works on a job that already timed out but is still running).
   */
  override cancel(msg?: string, options?: CancelOptions): boolean {
    if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError("cancel: `options` must be an object");
    if (options?.force === true) this._force = true;
    const r = super.cancel(msg);
    if (!r && this._force && this._job === SENT && this._owner !== null) this._owner._forceStop(this as ExecutorFuture<unknown>);
    return r;
  }

  /** Whether the job is running in a worker right now (Python's `Future.running()`). */
  running(): boolean {
    return this._job === SENT && this._owner !== null && this._owner._isRunning(this as ExecutorFuture<unknown>);
  }

  /**
   * Resolves once the job no longer occupies a worker: it finished, was dropped from the queue, or
   * its worker was terminated. The future may end earlier (cancel, timeout); this is when the
   * capacity it held is free again. Never rejects.
   */
  stopped(): Promise<void> {
    if (this._job === STOPPED) return Promise.resolve();
    return new Promise<void>((resolve) => (this._stoppedWaiters ??= []).push(resolve));
  }

  /** @internal The job left its worker (or the queue). */
  _markStopped(): void {
    if (this._job === STOPPED) return;
    this._job = STOPPED;
    this._args = null;
    this._transfer = null;
    this._slot = null;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const ws = this._stoppedWaiters;
    if (ws !== null) {
      this._stoppedWaiters = null;
      for (const w of ws) w();
    }
  }

  /** @internal Every way of settling a Future ends here, exactly once. */
  override _scheduleCallbacks(): void {
    const o = this._owner;
    if (o !== null) o._futureSettled(this as ExecutorFuture<unknown>);
    super._scheduleCallbacks();
  }

  /** @internal */
  override [inspect.custom](): string {
    let s = `<ExecutorFuture ${this._stateText()} job=#${this._seq} ${this._fn.def.b}`;
    if (this._job === SENT && this._owner !== null) {
      s += this.running() ? " running" : " sent";
      s += ` ${this._owner._describeSlot(this as ExecutorFuture<unknown>)}`;
    } else if (this._job === QUEUED) s += " queued";
    return s + ">";
  }
}
