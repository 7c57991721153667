/**
 * The machinery shared by ThreadPoolExecutor and ProcessPoolExecutor: the job queue, dispatch with
 * adaptive pipelining, cancellation into workers, per-job timeouts, crash recovery and shutdown.
 *
 * ## Life of a job
 * `submit` makes an {@link ExecutorFuture} (the job record itself). If nothing is queued and a ready
 * worker is idle, the job is posted at once (the single round trip pays no extra hop); otherwise it
 * is queued and, a microtask later, `_pump` hands queued jobs to workers, batching every job bound
 * for one worker into one message. A job is QUEUED (main queue), SENT (in a worker: waiting there or
 * running) or STOPPED. Outcomes come back one per message, or — plain values from thread workers —
 * through a ring in shared memory (protocol.ts), read in bulk on a doorbell.
 *
 * While a job is in flight its loop's `_nDetached` count is raised, as for a task awaiting a foreign
 * promise, so that `run()`'s deadlock detection (virtual clock) knows something can still wake it.
 *
 * ## Pipelining
 * To keep workers busy through the round trip, a thread worker may hold several jobs: as many as
 * fit in ~2 ms of measured work (between 2 and 1024). A new job prefers an idle worker, then a new
 * worker (up to `maxWorkers`), and only then joins the least-loaded worker's pipeline. A process
 * worker holds one job at a time.
 *
 * ## Knowing which job a worker is running
 * A thread worker shares one Int32 with the pool (`ctl`): the seq of the job it runs, 0 between jobs.
 * It moves from 0 to a seq with compare-exchange before starting a job, and back after reporting it.
 * To kill a job, the pool compare-exchanges that seq to DOOMED: if it succeeds, the worker is still
 * inside that job and will never start another, so terminating it kills that job and nothing else;
 * if it fails, the job already ended (its outcome is on its way). Jobs sent but not started go back
 * to the front of the queue when a worker dies. A process worker posts a start notice instead.
 *
 * ## Cancellation: ask first, kill second
 * When a job's future is settled by anything but its outcome (cancel, timeout, a `setResult` from
 * outside, shutdown), `_futureSettled` runs: a queued job is dropped; a sent one gets `OP_CANCEL`
 * (the worker drops it, or cancels the job's task, which aborts `currentTask().signal`), and a grace
 * timer; when it fires (or at once with `force`) the worker is killed if it is still in that job.
 * Capacity is freed only when the worker reports the job over, or dies.
 *
 * Timers here are Node timers on the real clock, not loop timers: jobs run in real time, so a
 * virtual clock must not time them out.
 * @module
 */
import { inspect } from "node:util";
import type { ResourceLimits, TransferListItem } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { BrokenExecutorError, InvalidStateError, TimeoutError } from "../errors.js";
import { getRunningLoop } from "../runners.js";
import { describe as describeValue } from "../internal/validate.js";
import { checkEntry, fnEntry, type FnEntry } from "./functions.js";
import { ExecutorFuture, QUEUED, SENT, STOPPED, type JobOwner } from "./future.js";
import {
  decodeError,
  F_CHUNK,
  F_TIMED,
  isTransferMarker,
  OP_CANCEL,
  OP_DEFINE,
  OP_JOB,
  R_CANCELLED,
  R_ERR,
  R_FATAL,
  R_INIT_FAILED,
  R_OK,
  R_READY,
  R_RETIRE,
  R_RETURN,
  R_STARTED,
  type FnDef,
} from "./protocol.js";
import { Deque } from "../internal/ring.js";
import { Inflight } from "./queue.js";

/**
 * Options of {@link ThreadPoolExecutor} and {@link ProcessPoolExecutor} (every one is optional).
 * @example
 * ```ts
 * import { ThreadPoolExecutor, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * const pool = new ThreadPoolExecutor({
 *   maxWorkers: 4,
 *   initializer: jobs.fns.loadModel, initargs: ["small"],
 *   timeout: 30_000, cancelGracePeriod: 1_000,
 *   maxHeapUsed: 512 * 2 ** 20, resourceLimits: { maxOldGenerationSizeMb: 1024 },
 * });
 * ```
 */
export interface ExecutorOptions {
  /**
   * Most workers alive at once (an integer >= 1). Workers start on demand. Default: threads
   * `min(32, availableParallelism() + 4)` (Python's choice, for blocking calls); processes
   * `availableParallelism()`.
   */
  maxWorkers?: number;
  /**
   * Run in each worker when it starts, before any job (a worker function or a self-contained
   * function), with `initargs`. If it throws, the executor is broken: every pending job and every
   * later submit fails with `BrokenExecutorError`.
   */
  initializer?: ((...args: never[]) => unknown) | null;
  /** Arguments of `initializer`. Default `[]`. */
  initargs?: readonly unknown[];
  /** Replace a worker after it has run this many jobs (Python's `max_tasks_per_child`). Default: never. */
  maxTasksPerWorker?: number | null;
  /** An idle worker exits after this many ms (idle workers never keep the process alive). Default 60 000. */
  idleTimeout?: number;
  /**
   * Memory limits of each worker. Threads: passed to `new Worker`; processes: mapped to
   * `--max-old-space-size`, `--max-semi-space-size` and `--stack-size`. A worker that exceeds them
   * dies; its job fails with `BrokenExecutorError`.
   */
  resourceLimits?: ResourceLimits;
  /** Default per-job timeout in ms, counted from when the job starts running. Default: none. */
  timeout?: number | null;
  /**
   * How long (ms) a cancelled or timed-out job may take to notice its aborted signal before its
   * worker is terminated and replaced. Default 3 000.
   */
  cancelGracePeriod?: number;
  /** Recycle a worker between jobs once its V8 heap in use exceeds this many bytes. Default: never. */
  maxHeapUsed?: number | null;
  /** Node options of the workers. Default: those of this process (so `--import tsx` reaches them). */
  execArgv?: readonly string[];
  /** A name shown in `util.inspect` and error messages. */
  name?: string;
}

/**
 * Per-job options of {@link Executor.submitWith}.
 * @example
 * ```ts
 * const ac = new AbortController();
 * const fut = pool.submitWith({ timeout: 5_000, signal: ac.signal }, jobs.fns.render, scene);
 * ```
 */
export interface JobOptions {
  /** Timeout in ms counted from when the job starts running (null: none). Default: the executor's `timeout`. */
  timeout?: number | null;
  /** Objects to move (not copy) to the worker with the arguments (ArrayBuffers, MessagePorts…). */
  transfer?: readonly TransferListItem[];
  /** Aborting it cancels the job, like `future.cancel()`. */
  signal?: AbortSignal;
}

/**
 * Options of {@link Executor.map}.
 * @example
 * ```ts
 * for await (const digest of pool.map(jobs.fns.sha256, files, { chunksize: 16, timeout: 60_000 })) console.log(digest);
 * ```
 */
export interface ExecutorMapOptions {
  /** Items per job (each job runs the function over its chunk). Default 1. */
  chunksize?: number;
  /** Overall time limit in ms, from the call: waiting for a result past it throws `TimeoutError`. */
  timeout?: number | null;
  /**
   * Most chunks in flight at once; the input is consumed lazily, only as chunks complete.
   * Default `max(64, 4 × maxWorkers)`.
   */
  buffersize?: number;
}

/**
 * Options of {@link Executor.shutdown}.
 * @example
 * ```ts
 * await pool.shutdown({ wait: true, cancelFutures: true }); // drop what has not started, wait for the rest
 * ```
 */
export interface ShutdownOptions {
  /** Wait until every submitted job has ended and every worker has exited. Default true. */
  wait?: boolean;
  /** Cancel the jobs that have not started yet. Default false. */
  cancelFutures?: boolean;
}

const RUNNING = 0;
const SHUT_DOWN = 1;
const BROKEN = 2;

const RESOLVED = Promise.resolve();
const DEFAULT_CAP = 16;
const MAX_CAP = 1024;
/** Target amount of work (ms) queued inside one thread worker. */
const PIPELINE_MS = 2;

/** @internal One worker (thread or process) as the pool sees it. */
export abstract class WorkerSlot {
  readonly id: number;
  /** Jobs sent to this worker and not yet reported over, in send order. */
  readonly inflight = new Inflight<ExecutorFuture<unknown>>();
  /** Function ids this worker knows. */
  readonly defined = new Set<number>();
  /** The batch being built for this worker (flat ops, see protocol.ts). */
  ops: unknown[] = [];
  opsTransfer: TransferListItem[] = [];
  sent = 0;
  ready = false;
  accepting = true;
  dead = false;
  expectedExit = false;
  /** Why the pool killed it (for the killed job's record). */
  killNote: string | null = null;
  /** The uncaught error it died of, if known. */
  crashError: unknown = undefined;
  doomedSeq = 0;
  idleTimer: NodeJS.Timeout | null = null;
  idleSince = 0;
  lastDrain = 0;
  busyAtLastDrain = false;

  constructor(id: number) {
    this.id = id;
  }

  /** "worker thread #2", "process worker #3 (pid 1234)". */
  abstract describe(): string;
  /** Whether it may hold more than one job. */
  abstract readonly pipelined: boolean;
  /** Posts a batch; throws synchronously if it cannot be serialized. */
  abstract post(batch: unknown[], transfer: TransferListItem[]): void;
  /** Stops the worker now (its 'exit' follows). `graceful`: it is idle, let it exit cleanly. */
  abstract terminate(graceful: boolean): void;
  /** The seq of the job running in it now, 0 if none (or unknown). */
  abstract runningSeq(): number;
  /** Condemns the worker if job `seq` is running in it now (it will start nothing else); true if so. */
  abstract doom(seq: number): boolean;
  /** Whether the worker keeps the process alive. */
  abstract setRef(on: boolean): void;
  /** Delivers results already posted but not yet received (called on exit). */
  abstract drainPending(handle: (msg: unknown) => void, pool: Executor): void;
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function checkMs(v: unknown, where: string, name: string, allowNull: boolean): void {
  if (v === undefined || (allowNull && v === null)) return;
  if (typeof v !== "number") throw new TypeError(`${where}: \`${name}\` must be a number of milliseconds${allowNull ? " or null" : ""}, got ${describeValue(v)}`);
  if (Number.isNaN(v) || v < 0) throw new RangeError(`${where}: \`${name}\` must be >= 0 milliseconds, got ${v}`);
}

/**
 * The base of {@link ThreadPoolExecutor} and {@link ProcessPoolExecutor} (concurrent.futures'
 * `Executor`): submit work, map over inputs, shut down. Results are tsaio Futures.
 * @example
 * ```ts
 * import { ThreadPoolExecutor, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * for await (const n of pool.map(jobs.fns.countPrimes, [1e5, 1e6])) console.log(n); // 9592 78498
 * ```
 */
export abstract class Executor implements JobOwner, AsyncDisposable {
  /** @internal */ readonly _name: string;
  /** @internal */ readonly _maxWorkers: number;
  /** @internal */ readonly _initializer: FnDef | null;
  /** @internal */ readonly _initargs: unknown[];
  /** @internal */ readonly _maxTasksPerWorker: number;
  /** @internal */ readonly _idleTimeout: number;
  /** @internal */ readonly _resourceLimits: ResourceLimits | undefined;
  /** @internal */ readonly _timeout: number;
  /** @internal */ readonly _grace: number;
  /** @internal */ readonly _maxHeapUsed: number;
  /** @internal */ readonly _execArgv: readonly string[] | undefined;

  /** @internal */ _slots: WorkerSlot[] = [];
  /** @internal */ readonly _queue = new Deque<ExecutorFuture<unknown>>();
  /** @internal Live jobs in `_queue` (cancelled ones stay in the deque until reached). */
  _queued = 0;
  /** @internal */ _seq = 0;
  /** @internal */ _state = RUNNING;
  /** @internal */ _brokenError: BrokenExecutorError | null = null;
  /** @internal */ _pumpScheduled = false;
  /** @internal */ _startupFailures = 0;
  /** @internal */ _ema = 0;
  /** @internal */ _cap = DEFAULT_CAP;
  /** @internal */ _nextSlotId = 1;
  /** @internal */ _drainWaiters: (() => void)[] = [];
  /** @internal */ _completions = 0;

  /** @internal */
  constructor(kind: string, options: ExecutorOptions | undefined, defaultMax: number) {
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError(`${kind}: \`options\` must be an object, got ${describeValue(options)}`);
    }
    const o = options ?? {};
    const max = o.maxWorkers ?? defaultMax;
    if (typeof max !== "number") throw new TypeError(`${kind}: \`maxWorkers\` must be an integer >= 1, got ${describeValue(max)}`);
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`${kind}: \`maxWorkers\` must be an integer >= 1, got ${max}`);
    this._maxWorkers = max;
    this._name = o.name === undefined ? kind : String(o.name);
    if (o.initializer !== undefined && o.initializer !== null) {
      const e = fnEntry(o.initializer, `${kind}: initializer`);
      const problem = checkEntry(e);
      if (problem !== null) throw problem;
      this._initializer = e.def;
    } else this._initializer = null;
    if (o.initargs !== undefined && !Array.isArray(o.initargs)) throw new TypeError(`${kind}: \`initargs\` must be an array, got ${describeValue(o.initargs)}`);
    this._initargs = o.initargs === undefined ? [] : [...o.initargs];
    const mt = o.maxTasksPerWorker;
    if (mt !== undefined && mt !== null && (!isInt(mt) || mt < 1)) {
      if (typeof mt !== "number") throw new TypeError(`${kind}: \`maxTasksPerWorker\` must be an integer >= 1 or null, got ${describeValue(mt)}`);
      throw new RangeError(`${kind}: \`maxTasksPerWorker\` must be an integer >= 1 or null, got ${mt}`);
    }
    this._maxTasksPerWorker = mt ?? Infinity;
    checkMs(o.idleTimeout, kind, "idleTimeout", false);
    this._idleTimeout = o.idleTimeout ?? 60_000;
    checkMs(o.timeout, kind, "timeout", true);
    this._timeout = o.timeout ?? -1;
    checkMs(o.cancelGracePeriod, kind, "cancelGracePeriod", false);
    this._grace = o.cancelGracePeriod ?? 3_000;
    const mh = o.maxHeapUsed;
    if (mh !== undefined && mh !== null) {
      if (typeof mh !== "number") throw new TypeError(`${kind}: \`maxHeapUsed\` must be a number of bytes or null, got ${describeValue(mh)}`);
      if (!(mh > 0)) throw new RangeError(`${kind}: \`maxHeapUsed\` must be > 0 bytes, got ${mh}`);
    }
    this._maxHeapUsed = mh ?? 0;
    if (o.resourceLimits !== undefined && (o.resourceLimits === null || typeof o.resourceLimits !== "object")) {
      throw new TypeError(`${kind}: \`resourceLimits\` must be an object, got ${describeValue(o.resourceLimits)}`);
    }
    this._resourceLimits = o.resourceLimits;
    if (o.execArgv !== undefined && (!Array.isArray(o.execArgv) || !o.execArgv.every((a) => typeof a === "string"))) {
      throw new TypeError(`${kind}: \`execArgv\` must be an array of strings`);
    }
    this._execArgv = o.execArgv === undefined ? undefined : [...o.execArgv];
  }

  /** @internal Starts a worker. */
  protected abstract _spawn(id: number): WorkerSlot;

  // ------------------------------------------------------------------------------------ public API

  /** Most workers alive at once. */
  get maxWorkers(): number {
    return this._maxWorkers;
  }

  /**
   * Runs `fn(...args)` in a worker and returns the Future of its result. `fn` is a worker function
   * (`mod.fns.name` from {@link workerModule}) or a self-contained function sent by source (see
   * below). Arguments travel by structured clone (`transfer()` moves buffers instead).
   * Throws `InvalidStateError` after `shutdown()` (and `BrokenExecutorError` once broken); every other
   * problem — a missing module or export, an argument that cannot be cloned — rejects the future.
   *
   * A self-contained function is rebuilt in the worker from its source text: it cannot use
   * variables, functions or imports from where it was written (pass values as arguments; load
   * modules with `await import()` inside it), `this` is undefined, and native or bound functions
   * cannot be sent. `currentTask` is in scope in the worker, so it may read `currentTask()?.signal`.
   * For anything else, export it from a module.
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "tsaio";
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
   * console.log(await pool.submit((a: number, b: number) => a * b, 6, 7)); // 42
   * ```
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): ExecutorFuture<Awaited<R>> {
    return this._submit(fnEntry(fn, "submit"), args, undefined, 0) as ExecutorFuture<Awaited<R>>;
  }

  /**
   * `submit` with per-job options: a `timeout` counted from the job's start, a `transfer` list,
   * a cancelling `signal`.
   * @example
   * ```ts
   * import { ThreadPoolExecutor, TimeoutError, workerModule } from "tsaio";
   * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
   * const buf = new Float64Array(1e6).buffer;
   * try { await pool.submitWith({ timeout: 100, transfer: [buf] }, jobs.fns.sum, buf); }
   * catch (e) { console.log(e instanceof TimeoutError); }
   * ```
   */
  submitWith<A extends unknown[], R>(options: JobOptions, fn: (...args: A) => R, ...args: A): ExecutorFuture<Awaited<R>> {
    if (options === null || typeof options !== "object") throw new TypeError(`submitWith: \`options\` must be an object, got ${describeValue(options)}`);
    return this._submit(fnEntry(fn, "submitWith"), args, options, 0) as ExecutorFuture<Awaited<R>>;
  }

  /**
   * Runs `fn` over every item, in workers, and yields the results in input order (Python's
   * `Executor.map`, as an async iterable). The input (an iterable or async iterable) is consumed
   * lazily: at most `buffersize` chunks are in flight. An item's error is thrown when its turn comes
   * (results before it are yielded first); `timeout` bounds the whole iteration. Leaving the loop
   * early (break, error, cancellation) cancels the chunks still in flight.
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "tsaio";
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
   * const out: number[] = [];
   * for await (const sq of pool.map((x: number) => x * x, [1, 2, 3], { chunksize: 2 })) out.push(sq);
   * console.log(out); // [ 1, 4, 9 ]
   * ```
   */
  map<T, R>(fn: (item: T) => R, items: Iterable<T> | AsyncIterable<T>, options?: ExecutorMapOptions): AsyncGenerator<Awaited<R>, void, undefined> {
    const entry = fnEntry(fn, "map");
    if (items === null || items === undefined || (typeof (items as Iterable<T>)[Symbol.iterator] !== "function" && typeof (items as AsyncIterable<T>)[Symbol.asyncIterator] !== "function")) {
      throw new TypeError(`map: \`items\` must be an iterable or async iterable, got ${describeValue(items)}`);
    }
    if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError(`map: \`options\` must be an object, got ${describeValue(options)}`);
    const chunksize = options?.chunksize ?? 1;
    if (!isInt(chunksize) || chunksize < 1) {
      if (typeof chunksize !== "number") throw new TypeError(`map: \`chunksize\` must be an integer >= 1, got ${describeValue(chunksize)}`);
      throw new RangeError(`map: \`chunksize\` must be an integer >= 1, got ${chunksize}`);
    }
    const buffersize = options?.buffersize ?? Math.max(64, 4 * this._maxWorkers);
    if (!isInt(buffersize) || buffersize < 1) {
      if (typeof buffersize !== "number") throw new TypeError(`map: \`buffersize\` must be an integer >= 1, got ${describeValue(buffersize)}`);
      throw new RangeError(`map: \`buffersize\` must be an integer >= 1, got ${buffersize}`);
    }
    checkMs(options?.timeout, "map", "timeout", true);
    this._checkOpen();
    const timeout = options?.timeout ?? null;
    return this._map(entry, items, chunksize, buffersize, timeout === null ? Infinity : performance.now() + timeout, timeout) as AsyncGenerator<Awaited<R>, void, undefined>;
  }

  /**
   * Stops accepting jobs. `wait` (default true): resolve once every submitted job has ended and
   * every worker has exited. `cancelFutures`: cancel the jobs that have not started. Idle workers
   * exit at once; the others after their last job. Calling it again is harmless.
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "tsaio";
   * const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
   * const fut = pool.submit(() => 1 + 1);
   * await pool.shutdown({ wait: true });
   * console.log(fut.result()); // 2
   * ```
   */
  async shutdown(options?: ShutdownOptions): Promise<void> {
    if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError(`shutdown: \`options\` must be an object, got ${describeValue(options)}`);
    const wait = options?.wait ?? true;
    const cancelFutures = options?.cancelFutures ?? false;
    if (this._state === RUNNING) this._state = SHUT_DOWN;
    if (cancelFutures) {
      const queued: ExecutorFuture<unknown>[] = [];
      this._queue.forEach((j) => {
        if (j._job === QUEUED) queued.push(j);
      });
      for (const j of queued) j.cancel("executor shut down");
      for (const s of [...this._slots]) {
        const running = s.runningSeq();
        for (const j of s.inflight.values()) if (j._seq !== running && !j._startedNotice) j.cancel("executor shut down");
      }
    }
    for (const s of [...this._slots]) this._maybeIdle(s);
    if (wait && !this._drained()) await new Promise<void>((resolve) => this._drainWaiters.push(resolve));
  }

  /** `await using pool = new ThreadPoolExecutor(…)`: shuts down and waits at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  /** @internal */
  [inspect.custom](): string {
    const state = this._state === RUNNING ? "" : this._state === SHUT_DOWN ? " shutdown" : " broken";
    let busy = 0;
    for (const s of this._slots) if (s.inflight.size > 0) busy++;
    const name = this._name === this.constructor.name ? "" : ` name=${JSON.stringify(this._name)}`;
    return `<${this.constructor.name}${state}${name} workers=${this._slots.length}/${this._maxWorkers} busy=${busy} queued=${this._queued}>`;
  }

  // ------------------------------------------------------------------------------------ submit

  /** @internal */
  _checkOpen(): void {
    if (this._state === RUNNING) return;
    if (this._state === BROKEN) throw new BrokenExecutorError(`${this._name} is broken: ${(this._brokenError as Error).message}`, { cause: this._brokenError });
    throw new InvalidStateError(`${this._name} is shut down: cannot submit new jobs after shutdown()`);
  }

  /** @internal */
  _submit(entry: FnEntry, args: unknown[], options: JobOptions | undefined, flags: number): ExecutorFuture<unknown> {
    this._checkOpen();
    let timeout = this._timeout;
    if (options !== undefined && options.timeout !== undefined) {
      checkMs(options.timeout, "submitWith", "timeout", true);
      timeout = options.timeout ?? -1;
    }
    const loop = getRunningLoop();
    const job = new ExecutorFuture<unknown>(loop, this, ++this._seq, entry, args, timeout);
    job._flags = flags | (timeout >= 0 ? F_TIMED : 0);
    loop._nDetached++; // in flight: the loop's deadlock detection must not give up on its awaiters
    let problem: Error | "aborted" | null = checkEntry(entry);
    let transfer: TransferListItem[] | null = null;
    if (problem === null) {
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        const t = typeof a;
        if (t === "function" || t === "symbol") {
          problem = new TypeError(`${entry.def.b}: argument ${i + 1} is a ${t}, which cannot be sent to a worker (structured clone)`);
          break;
        }
        if (t === "object" && isTransferMarker(a)) {
          args[i] = a.value;
          (transfer ??= []).push(...a.transferList);
        }
      }
    }
    if (problem === null && options !== undefined) {
      if (options.transfer !== undefined) {
        if (!Array.isArray(options.transfer)) problem = new TypeError("submitWith: `transfer` must be an array of transferable objects");
        else (transfer ??= []).push(...options.transfer);
      }
      const signal = options.signal;
      if (signal !== undefined) {
        if (!(signal instanceof AbortSignal)) problem = new TypeError(`submitWith: \`signal\` must be an AbortSignal, got ${describeValue(signal)}`);
        else if (signal.aborted) problem = "aborted";
        else {
          const onAbort = (): void => void job.cancel(abortMessage(signal));
          signal.addEventListener("abort", onAbort, { once: true });
          job._addEntry({ _onDone: () => signal.removeEventListener("abort", onAbort) });
        }
      }
    }
    job._transfer = transfer;
    if (problem !== null) {
      job._markStopped();
      if (problem === "aborted") job.cancel(abortMessage(options?.signal as AbortSignal));
      else job.setException(problem);
      return job;
    }
    if (this._queued === 0 && !this._pumpScheduled) {
      // Nothing waiting: a job an idle worker can take goes out now, without a microtask hop (the
      // single round trip); the jobs submitted after it in this tick are batched by the pump.
      const idle = this._idleSlot();
      if (idle !== null) {
        this._assign(idle, job);
        this._flush(idle);
        return job;
      }
    }
    this._queue.push(job);
    this._queued++;
    this._schedulePump();
    return job;
  }

  /** A ready worker holding no job, or null. */
  private _idleSlot(): WorkerSlot | null {
    const slots = this._slots;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (s.accepting && s.ready && s.inflight.size === 0) return s;
    }
    return null;
  }

  /** @internal Pumps in a microtask: every job submitted in this tick goes out in one batch per worker. */
  _schedulePump(): void {
    if (!this._pumpScheduled) {
      this._pumpScheduled = true;
      void RESOLVED.then(this._pumpFromMicrotask);
    }
  }

  private readonly _pumpFromMicrotask = (): void => {
    this._pumpScheduled = false;
    this._pump();
  };

  // ------------------------------------------------------------------------------------ dispatch

  /** @internal Hands queued jobs to workers, then flushes each worker's batch. */
  _pump(): void {
    const q = this._queue;
    while (this._queued > 0 && this._state !== BROKEN) {
      const slot = this._pickSlot();
      if (slot === null) break;
      let job = q.shift();
      while (job !== undefined && job._job !== QUEUED) job = q.shift();
      if (job === undefined) {
        this._queued = 0;
        break;
      }
      this._queued--;
      this._assign(slot, job);
    }
    for (const s of this._slots) if (s.ops.length > 0) this._flush(s);
  }

  private _pickSlot(): WorkerSlot | null {
    let best: WorkerSlot | null = null;
    let bestLoad = Infinity;
    const cap = this._cap;
    for (const s of this._slots) {
      if (!s.accepting) continue;
      const n = s.inflight.size;
      if (n === 0) return s;
      if (s.pipelined && n < cap && n < bestLoad) {
        best = s;
        bestLoad = n;
      }
    }
    if (this._slots.length < this._maxWorkers) return this._startSlot();
    return best;
  }

  private _startSlot(): WorkerSlot | null {
    let slot: WorkerSlot;
    try {
      slot = this._spawn(this._nextSlotId++);
    } catch (cause) {
      this._break(new BrokenExecutorError(`${this._name}: cannot start a worker: ${errorText(cause)}`, { cause }));
      return null;
    }
    this._slots.push(slot);
    return slot;
  }

  private _assign(slot: WorkerSlot, job: ExecutorFuture<unknown>): void {
    const e = job._fn;
    if (!slot.defined.has(e.id)) {
      slot.defined.add(e.id);
      slot.ops.push(OP_DEFINE, e.id, e.def.kind, e.def.a, e.def.b);
    }
    slot.ops.push(OP_JOB, job._seq, e.id, job._args, job._flags);
    if (job._transfer !== null) slot.opsTransfer.push(...job._transfer);
    job._job = SENT;
    job._slot = slot;
    slot.inflight.set(job._seq, job);
    slot.sent++;
    if (slot.inflight.size === 1) slot.setRef(true);
    if (slot.sent >= this._maxTasksPerWorker) slot.accepting = false;
  }

  /** @internal Posts the worker's pending batch; a batch that cannot be cloned is retried job by job. */
  _flush(slot: WorkerSlot): void {
    const ops = slot.ops;
    const transfer = slot.opsTransfer;
    if (slot.dead) {
      // Its exit handler re-queues the jobs.
      ops.length = transfer.length = 0;
      return;
    }
    try {
      slot.post(ops, transfer);
      // Posting clones the batch synchronously: the arrays can be reused (no allocation per flush).
      ops.length = 0;
      if (transfer.length > 0) transfer.length = 0;
      return;
    } catch {
      // Find the culprits below: forget what this batch defined and send each job alone.
      slot.ops = [];
      slot.opsTransfer = [];
    }
    const cancels: unknown[] = [];
    const jobs: ExecutorFuture<unknown>[] = [];
    for (let i = 0; i < ops.length; ) {
      const op = ops[i];
      if (op === OP_DEFINE) {
        slot.defined.delete(ops[i + 1] as number);
        i += 5;
      } else if (op === OP_JOB) {
        const job = slot.inflight.get(ops[i + 1] as number);
        if (job !== undefined) jobs.push(job);
        i += 5;
      } else if (op === OP_CANCEL) {
        cancels.push(OP_CANCEL, ops[i + 1], ops[i + 2]);
        i += 3;
      } else i++;
    }
    let failed = false;
    for (const job of jobs) {
      if (job._job !== SENT || job._slot !== slot) continue;
      const e = job._fn;
      const single: unknown[] = [];
      if (!slot.defined.has(e.id)) single.push(OP_DEFINE, e.id, e.def.kind, e.def.a, e.def.b);
      single.push(OP_JOB, job._seq, e.id, job._args, job._flags);
      try {
        slot.post(single, job._transfer ?? []);
        slot.defined.add(e.id);
      } catch (err) {
        failed = true;
        slot.inflight.delete(job._seq);
        job._markStopped();
        if (!job.done()) {
          job.setException(new TypeError(`${e.def.b}: an argument cannot be sent to a worker: ${(err as Error).message ?? String(err)}`, { cause: err }));
        }
        this._maybeIdle(slot);
      }
    }
    // Cancels go after the jobs they may target.
    if (cancels.length > 0 && !slot.dead) slot.post(cancels, []);
    // The refused jobs freed pipeline room that queued jobs may use.
    if (failed && this._queued > 0) this._schedulePump();
  }

  // ------------------------------------------------------------------------------------ results

  /** @internal Called before a worker's messages are handled. */
  _beginDrain(): void {
    this._completions = 0;
  }

  /** @internal Handles one message from a worker. */
  _onMessage(slot: WorkerSlot, msg: unknown): void {
    const m = msg as unknown[];
    switch (m[0]) {
      case R_OK: {
        const job = this._take(slot, m[1] as number);
        if (job !== undefined && !job.done()) job.setResult(m[2]);
        break;
      }
      case R_ERR: {
        const job = this._take(slot, m[1] as number);
        if (job !== undefined && !job.done()) job.setException(decodeError(m[2]));
        break;
      }
      case R_CANCELLED: {
        const job = this._take(slot, m[1] as number);
        if (job !== undefined && !job.done()) job.cancel();
        break;
      }
      case R_STARTED: {
        const job = slot.inflight.get(m[1] as number);
        if (job !== undefined) {
          job._startedNotice = true;
          if (job._timeout >= 0 && !job.done() && job._timer === null) {
            job._timer = setTimeout(this._onTimeout, job._timeout, job);
            job._timer.unref();
          }
        }
        break;
      }
      case R_READY:
        slot.ready = true;
        this._startupFailures = 0;
        break;
      case R_INIT_FAILED: {
        const cause = decodeError(m[1]);
        this._break(new BrokenExecutorError(`${this._name}: the initializer failed in ${slot.describe()}: ${errorText(cause)}`, { cause }));
        break;
      }
      case R_RETIRE:
        slot.accepting = false;
        this._requeue(slot, m.slice(2) as number[]);
        break;
      case R_RETURN:
        this._requeue(slot, m.slice(1) as number[]);
        break;
      case R_FATAL:
        slot.crashError = decodeError(m[1]);
        break;
      // R_BELL: the ring is read after the messages (see ThreadSlot).
    }
  }

  /** @internal A result read from a thread worker's shared ring. */
  _ringResult(slot: WorkerSlot, seq: number, value: unknown): void {
    const job = this._take(slot, seq);
    if (job !== undefined && !job.done()) job.setResult(value);
  }

  /** @internal Called after a worker's messages were handled: adapt the pipeline, refill, go idle. */
  _endDrain(slot: WorkerSlot): void {
    const n = this._completions;
    const now = performance.now();
    if (n > 0) {
      // Job duration, learnt only over stretches where the worker was busy all along (from the
      // previous drain to this one): so neither start-up nor idle gaps count as work.
      if (slot.busyAtLastDrain) {
        const per = Math.max(0, now - slot.lastDrain) / n;
        this._ema = this._ema === 0 ? per : this._ema * 0.5 + per * 0.5;
        this._cap = Math.max(2, Math.min(MAX_CAP, Math.round(PIPELINE_MS / Math.max(this._ema, 1e-6))));
      }
      slot.lastDrain = now;
      slot.busyAtLastDrain = slot.inflight.size > 0;
    }
    this._maybeIdle(slot, now);
    if (this._queued > 0) this._pump();
    else if (slot.ops.length > 0) this._flush(slot);
    this._checkDrained();
  }

  /** The job `seq` is over in `slot`: it leaves the worker. */
  private _take(slot: WorkerSlot, seq: number): ExecutorFuture<unknown> | undefined {
    const job = slot.inflight.get(seq);
    if (job === undefined) return undefined;
    slot.inflight.delete(seq);
    this._completions++;
    job._markStopped();
    return job;
  }

  private readonly _onTimeout = (job: ExecutorFuture<unknown>): void => {
    job._timer = null;
    if (job.done()) return;
    const e = new TimeoutError(`${this._name}: job #${job._seq} ${job._fn.def.b} timed out after ${job._timeout} ms (counted from its start)`);
    job.setException(e);
  };

  /** Jobs handed back unstarted by a worker (retiring, or refused): to the front of the queue, in order. */
  private _requeue(slot: WorkerSlot, seqs: number[]): void {
    const back: ExecutorFuture<unknown>[] = [];
    for (const seq of seqs) {
      const job = slot.inflight.get(seq);
      if (job === undefined) continue;
      slot.inflight.delete(seq);
      back.push(job);
    }
    this._putBack(back);
  }

  private _putBack(jobs: ExecutorFuture<unknown>[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i];
      if (job.done()) {
        job._markStopped();
        continue;
      }
      if (job._transfer !== null && job._transfer.length > 0) {
        // Its transferred arguments went to the worker that handed it back or died.
        job._markStopped();
        job.setException(new BrokenExecutorError(`${this._name}: job #${job._seq} ${job._fn.def.b} lost its transferred arguments with its worker before it started`));
        continue;
      }
      job._job = QUEUED;
      job._slot = null;
      job._startedNotice = false;
      job._stopAsked = false;
      this._queue.unshift(job);
      this._queued++;
    }
  }

  // ------------------------------------------------------------------------------------ JobOwner

  /** @internal */
  _futureSettled(job: ExecutorFuture<unknown>): void {
    job._loop._nDetached--;
    const state = job._job;
    if (state === STOPPED) return;
    if (state === QUEUED) {
      this._queued--;
      job._markStopped();
      this._checkDrained();
      return;
    }
    // SENT: ask the worker to stop it; kill it if it does not stop in time.
    const slot = job._slot as WorkerSlot;
    if (job._timer !== null) {
      clearTimeout(job._timer);
      job._timer = null;
    }
    if (!job._stopAsked) {
      job._stopAsked = true;
      slot.ops.push(OP_CANCEL, job._seq, stopMessage(job));
      this._flush(slot);
    }
    if (job._force) this._forceStop(job);
    else if (job._job === SENT) {
      job._timer = setTimeout(this._graceExpired, this._grace, job);
      job._timer.unref();
    }
  }

  /** @internal */
  _forceStop(job: ExecutorFuture<unknown>): void {
    this._kill(job, "was cancelled with force");
  }

  private readonly _graceExpired = (job: ExecutorFuture<unknown>): void => {
    job._timer = null;
    this._kill(job, `did not stop within ${this._grace} ms of being ${job.cancelled() ? "cancelled" : "stopped"}`);
  };

  private _kill(job: ExecutorFuture<unknown>, why: string): void {
    if (job._job !== SENT) return;
    const slot = job._slot as WorkerSlot;
    if (slot.dead || !slot.doom(job._seq)) return; // not running now: it ended, or its worker will drop it
    slot.accepting = false;
    slot.killNote = `job #${job._seq} ${job._fn.def.b} ${why}`;
    slot.setRef(true);
    slot.terminate(false);
  }

  /** @internal */
  _isRunning(job: ExecutorFuture<unknown>): boolean {
    const slot = job._slot as WorkerSlot | null;
    return slot !== null && !slot.dead && (slot.runningSeq() === job._seq || (!slot.pipelined && job._startedNotice));
  }

  /** @internal */
  _describeSlot(job: ExecutorFuture<unknown>): string {
    const slot = job._slot as WorkerSlot | null;
    return slot === null ? "" : `on ${slot.describe()}`;
  }

  // ------------------------------------------------------------------------------------ workers

  /** @internal A worker may have become idle: unref it, retire it, or arm its idle timer. */
  _maybeIdle(slot: WorkerSlot, now = performance.now()): void {
    if (slot.dead || slot.inflight.size > 0 || slot.expectedExit || slot.killNote !== null) return; // busy, or on its way out
    slot.setRef(false);
    if (!slot.accepting || this._state !== RUNNING) {
      if (this._queued === 0 || !slot.accepting) this._retire(slot);
      return;
    }
    // One lazy timer per worker, not one per job: it checks how long the worker has been idle when
    // it fires, and re-arms itself for the rest if the worker worked meanwhile.
    slot.idleSince = now;
    if (slot.idleTimer === null && Number.isFinite(this._idleTimeout)) {
      slot.idleTimer = setTimeout(this._idleExpired, this._idleTimeout, slot);
      slot.idleTimer.unref();
    }
  }

  private readonly _idleExpired = (slot: WorkerSlot): void => {
    slot.idleTimer = null;
    if (slot.dead || slot.inflight.size > 0) return; // busy: re-armed when it is idle again
    const left = slot.idleSince + this._idleTimeout - performance.now();
    if (left <= 1) this._retire(slot);
    else {
      slot.idleTimer = setTimeout(this._idleExpired, left, slot);
      slot.idleTimer.unref();
    }
  };

  private _retire(slot: WorkerSlot): void {
    if (slot.dead || slot.expectedExit) return;
    slot.expectedExit = true;
    slot.accepting = false;
    if (slot.idleTimer !== null) {
      clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
    }
    slot.setRef(true); // until its exit is seen: shutdown({ wait }) must not be left hanging
    slot.terminate(true);
  }

  /** @internal A worker exited (expectedly or not): settle or re-queue what it held, replace it. */
  _onExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.dead) return;
    // Results it posted before dying are still in the port: take them first.
    this._beginDrain();
    slot.drainPending((m) => this._onMessage(slot, m), this);
    slot.dead = true;
    slot.accepting = false;
    if (slot.idleTimer !== null) {
      clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
    }
    const i = this._slots.indexOf(slot);
    if (i >= 0) this._slots.splice(i, 1);
    const running = slot.doomedSeq !== 0 ? slot.doomedSeq : slot.runningSeq();
    const back: ExecutorFuture<unknown>[] = [];
    for (const job of slot.inflight.values()) {
      if (job._seq === running) {
        job._markStopped();
        if (!job.done()) job.setException(this._crashError(slot, code, signal, job));
      } else back.push(job);
    }
    slot.inflight.clear();
    if (!slot.pipelined && slot.ready && !slot.expectedExit && slot.killNote === null) {
      // A process worker may die before its start notice for a job leaves it: a job orphaned by
      // several crashes in a row is failed rather than re-run forever. (A thread worker's control
      // word is exact: a job it hands back never started, and was not at fault.)
      for (let k = 0; k < back.length; k++) {
        const job = back[k];
        if (++job._orphaned >= 3 && !job.done()) {
          job._markStopped();
          job.setException(new BrokenExecutorError(`${this._name}: job #${job._seq} ${job._fn.label} was held by ${job._orphaned} workers that died before it could start; last: ${slot.describe()} ${exitText(code, signal, slot.crashError)}`, { cause: slot.crashError }));
        }
      }
    }
    this._putBack(back);
    if (!slot.ready && !slot.expectedExit && this._state !== BROKEN) {
      this._startupFailures++;
      if (this._startupFailures >= 3) {
        const cause = slot.crashError;
        this._break(
          new BrokenExecutorError(`${this._name}: workers fail to start (${this._startupFailures} in a row; last: ${slot.describe()} ${exitText(code, signal, cause)})`, {
            cause,
          }),
        );
      }
    }
    if (this._queued > 0) this._pump();
    this._checkDrained();
  }

  private _crashError(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null, job: ExecutorFuture<unknown>): BrokenExecutorError {
    const cause = slot.crashError;
    const what = slot.killNote !== null ? `was terminated (${slot.killNote})` : exitText(code, signal, cause);
    const msg = `${slot.describe()} ${what} while running job #${job._seq} ${job._fn.label}`;
    return cause === undefined ? new BrokenExecutorError(msg) : new BrokenExecutorError(msg, { cause });
  }

  /** The executor cannot go on (initializer failure, workers that cannot start): fail everything. */
  private _break(error: BrokenExecutorError): void {
    if (this._state === BROKEN) return;
    this._state = BROKEN;
    this._brokenError = error;
    const queued: ExecutorFuture<unknown>[] = [];
    this._queue.forEach((j) => {
      if (j._job === QUEUED) queued.push(j);
    });
    this._queue.clear();
    this._queued = 0;
    for (const j of queued) {
      j._markStopped();
      if (!j.done()) j.setException(error);
    }
    for (const s of [...this._slots]) {
      for (const j of s.inflight.values()) {
        j._markStopped();
        if (!j.done()) j.setException(error);
      }
      s.inflight.clear();
      s.accepting = false;
      s.expectedExit = true;
      s.setRef(true);
      s.terminate(false);
    }
    this._checkDrained();
  }

  private _drained(): boolean {
    return this._state !== RUNNING && this._queued === 0 && this._slots.length === 0;
  }

  /** @internal */
  _checkDrained(): void {
    if (this._drainWaiters.length === 0 || !this._drained()) return;
    const ws = this._drainWaiters;
    this._drainWaiters = [];
    for (const w of ws) w();
  }

  // ------------------------------------------------------------------------------------ map

  private async *_map(
    entry: FnEntry,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    chunksize: number,
    buffersize: number,
    deadline: number,
    timeout: number | null,
  ): AsyncGenerator<unknown, void, undefined> {
    const isAsync = typeof (items as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
    const it = isAsync ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (items as Iterable<unknown>)[Symbol.iterator]();
    const window = new Deque<ExecutorFuture<unknown>>(16);
    let current: ExecutorFuture<unknown> | null = null;
    let exhausted = false;
    try {
      for (;;) {
        while (!exhausted && window.length < buffersize) {
          const chunk: unknown[] = [];
          while (chunk.length < chunksize) {
            const r = isAsync ? await (it as AsyncIterator<unknown>).next() : (it as Iterator<unknown>).next();
            if (r.done === true) {
              exhausted = true;
              break;
            }
            chunk.push(r.value);
          }
          if (chunk.length > 0) {
            for (let i = 0; i < chunk.length; i++) {
              const t = typeof chunk[i];
              if (t === "function" || t === "symbol") throw new TypeError(`map: an item is a ${t}, which cannot be sent to a worker (structured clone)`);
            }
            window.push(this._submit(entry, [chunk], undefined, F_CHUNK));
          }
        }
        current = window.shift() ?? null;
        if (current === null) return;
        const [values, err] = (await awaitBy(current, deadline, timeout)) as [unknown[], unknown];
        current = null;
        for (const v of values) yield v;
        if (err !== undefined) throw decodeError(err);
      }
    } finally {
      current?.cancel("map() ended");
      window.forEach((f) => f.cancel("map() ended"));
      if (!exhausted) await it.return?.();
    }
  }
}

/** Awaits `fut`, or throws TimeoutError once the real clock passes `deadline`. */
async function awaitBy(fut: ExecutorFuture<unknown>, deadline: number, timeout: number | null): Promise<unknown> {
  if (deadline === Infinity || fut.done()) return await fut;
  const left = deadline - performance.now();
  if (left <= 0) throw new TimeoutError(`map: no result within ${timeout} ms`);
  const w = getRunningLoop().createFuture<unknown>();
  const timer = setTimeout(() => {
    if (!w.done()) w.setException(new TimeoutError(`map: no result within ${timeout} ms`));
  }, left);
  const relay = (): void => {
    if (w.done()) return;
    if (fut.cancelled()) w.cancel();
    else {
      const e = fut.exception();
      if (e !== null) w.setException(e);
      else w.setResult(fut.result());
    }
  };
  fut.addDoneCallback(relay);
  try {
    return await w;
  } finally {
    clearTimeout(timer);
    fut.removeDoneCallback(relay);
  }
}

function abortMessage(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message;
  return r === undefined ? "aborted" : String(r);
}

function stopMessage(job: ExecutorFuture<unknown>): string {
  if (job.cancelled()) return job._cancelMessage ?? "";
  const e = job._exception;
  if (e instanceof TimeoutError) return "timeout";
  return "the job's future was settled";
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function exitText(code: number | null, signal: NodeJS.Signals | null, cause: unknown): string {
  if (cause !== undefined) {
    if ((cause as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY") return `ran out of memory (resourceLimits): ${errorText(cause)}`;
    return `crashed with an uncaught ${errorText(cause)}`;
  }
  if (signal !== null) return `was killed by ${signal}${signal === "SIGABRT" || signal === "SIGTRAP" ? " (out of memory?)" : ""}`;
  return `exited with code ${code ?? "?"}`;
}

/** @internal The default size of a thread pool: Python's `min(32, cpus + 4)`. */
export function defaultThreadWorkers(): number {
  return Math.min(32, availableParallelism() + 4);
}

/** @internal */
export function defaultProcessWorkers(): number {
  return availableParallelism();
}
