/**
 * ExecutorFuture: the tsaio Future of one job, which also *is* the job record (one allocation per
 * submit). Its `cancel()` reaches into the worker. Whichever way it ends — its outcome, `cancel()`,
 * a timeout, a crash, shutdown, or a `setResult`/`setException` from outside — its owner hears of
 * it exactly once, through {@link JobOwner.jobSettled}: this class overrides the three public ways
 * of settling a Future (nothing else can settle one that is not a Task), never a private hook.
 * @module
 */
import type { TransferListItem } from "node:worker_threads";
import { Future, PENDING } from "../futures.js";
import type { DescribeOptions } from "../internal/describe.js";
import type { LongTimeout } from "../internal/timers.js";
import type { Loop } from "../loop.js";
import type { FnEntry } from "./functions.js";

/** @internal Where a job is: the executor's queue, a worker (waiting there or running), or nowhere. */
export const QUEUED = 0;
export const SENT = 1;
export const STOPPED = 2;

/** @internal What an ExecutorFuture needs from its executor: the narrow interface between the two. */
export interface JobOwner {
  /** The future was settled (by anyone): drop the job if queued, stop it if it runs. */
  jobSettled(job: ExecutorFuture<unknown>): void;
  /** `cancel(msg, { force: true })` on a job already settled but still running: kill its worker now. */
  forceStop(job: ExecutorFuture<unknown>): void;
  /** Whether the job may be running in its worker now (a job that can start counts). */
  isRunning(job: ExecutorFuture<unknown>): boolean;
  /** For inspect: which worker holds the job. */
  describeSlot(job: ExecutorFuture<unknown>): string;
}

/**
 * Options of {@link ExecutorFuture.cancel}.
 * @example
 * ```ts
 * import { ThreadPoolExecutor, sleep, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
 * const fut = pool.submit(jobs.fns.spin, 60_000); // busy for a minute, never looks at its signal
 * while (!fut.running()) await sleep(1);
 * fut.cancel("user pressed stop", { force: true }); // terminate its worker now
 * await fut.stopped();
 * console.log(fut.cancelled()); // true
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
 * or cancel it: a job that has not started never will; a running job's worker-side task is cancelled
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
  /** @internal Arguments (with the transferred objects, if any): dropped once the job stops. */
  _args: unknown[] | null;
  /** @internal */ _transfer: TransferListItem[] | null = null;
  /** @internal Per-job time limit in ms, counted from the job's start; null: none. */
  readonly _timeout: number | null;
  /** @internal F_CHUNK for map() chunks (protocol.ts). */
  _kind: number;
  /** @internal QUEUED, SENT or STOPPED. */
  _job = QUEUED;
  /** @internal The worker slot holding the job (opaque to this module). */
  _slot: unknown = null;
  /** @internal The job's entry in its thread worker's veto table (protocol.ts), -1 for none. */
  _vi = -1;
  /** @internal The per-job timeout's timer, armed at the start notice. */
  _timeoutTimer: LongTimeout | null = null;
  /** @internal The grace period's timer, armed when a running job is asked to stop. */
  _graceTimer: LongTimeout | null = null;
  /** @internal A start notice arrived (process workers; thread workers running a timed job). */
  _startedNotice = false;
  /** @internal Asked to stop it with `force`. */
  _force = false;
  /** @internal Asked to stop it (cancel sent to the worker). */
  _stopAsked = false;
  /** @internal Vetoed in its thread worker before it started: it never will. */
  _vetoed = false;
  /** @internal */ _stoppedWaiters: (() => void)[] | null = null;

  /** @internal Made by executors only. */
  constructor(loop: Loop, owner: JobOwner, seq: number, fn: FnEntry, args: unknown[], timeout: number | null, kind: number) {
    super(loop);
    this._owner = owner;
    this._seq = seq;
    this._fn = fn;
    this._args = args;
    this._timeout = timeout;
    this._kind = kind;
  }

  /** The job's number in its executor (shown in errors and `util.inspect`). */
  get jobId(): number {
    return this._seq;
  }

  /**
   * Cancels the job. Returns false if the future is already done. A job that has not started is
   * dropped and never starts; a running one is asked to stop (its worker-side task is cancelled and
   * its signal aborts), then its worker is terminated if it has not stopped within the executor's
   * `cancelGracePeriod`, or at once with `{ force: true }` (which also works on a job that already
   * timed out but is still running).
   */
  override cancel(msg?: string, options?: CancelOptions): boolean {
    if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError("ExecutorFuture.cancel: `options` must be an object");
    if (options?.force === true) this._force = true;
    if (super.cancel(msg)) {
      this._settled();
      return true;
    }
    if (this._force && this._job === SENT && this._owner !== null) this._owner.forceStop(this as ExecutorFuture<unknown>);
    return false;
  }

  /** Marks the future done with `value` (the job, if still running, is stopped as by a cancel). */
  override setResult(value: T): void {
    super.setResult(value);
    this._settled();
  }

  /** Marks the future failed with `error` (the job, if still running, is stopped as by a cancel). */
  override setException(error: unknown): void {
    super.setException(error);
    this._settled();
  }

  /**
   * Whether the job is running in a worker right now (Python's `Future.running()`): from the moment
   * it can start — in a process worker, once it is sent — until it ends. A job for which `cancel()`
   * returned true while this was false never starts.
   */
  running(): boolean {
    return this._job === SENT && this._owner !== null && this._owner.isRunning(this as ExecutorFuture<unknown>);
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

  /** @internal The job left its worker (or the queue): drop what it held, stop its timers. */
  _markStopped(): void {
    if (this._job === STOPPED) return;
    this._job = STOPPED;
    this._args = null;
    this._transfer = null;
    this._slot = null;
    this._timeoutTimer?.cancel();
    this._timeoutTimer = null;
    this._graceTimer?.cancel();
    this._graceTimer = null;
    const ws = this._stoppedWaiters;
    if (ws !== null) {
      this._stoppedWaiters = null;
      for (const w of ws) w();
    }
  }

  /** @internal */
  private _settled(): void {
    if (this._state !== PENDING && this._owner !== null) this._owner.jobSettled(this as ExecutorFuture<unknown>);
  }

  /** @internal Its describer: the job's number and function (never its arguments) and where it is. */
  override _describe(o: DescribeOptions): string {
    let s = `<ExecutorFuture ${this._stateText(o)} job=#${this._seq} ${this._fn.def.b}`;
    if (this._job === SENT && this._owner !== null) {
      s += this.running() ? " running" : " sent";
      s += ` ${this._owner.describeSlot(this as ExecutorFuture<unknown>)}`;
    } else if (this._job === QUEUED) s += " queued";
    return s + ">";
  }
}
