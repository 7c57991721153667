/**
 * The executor: concurrent.futures' `Executor`, the base of ThreadPoolExecutor and
 * ProcessPoolExecutor. It is assembled from parts that each own their state:
 *
 * | part | file | owns |
 * | --- | --- | --- |
 * | options | options.ts | the checked options (`Settings`), read by every other part |
 * | job record | future.ts | one job: its future, where it is (QUEUED/SENT/STOPPED), its two timers |
 * | queue | queue.ts | the jobs waiting for a worker; each worker's jobs in flight |
 * | slots | slots.ts | the workers, the dispatch policy (pipelining depth, least-busy choice), batches, idle retirement |
 * | stopper | stopper.ts | per-job timeout, cancel into the worker, grace period, kill |
 * | reports | reports.ts | what workers report, turned into outcomes; crash blame; hand-backs |
 * | backends | thread.ts, process.ts | one worker each (`WorkerSlot`), reporting through `SlotEvents` |
 * | map | map.ts | `map()`'s window of chunks |
 *
 * This class holds what is left: the public API, the executor's state (running, shut down,
 * broken), and the wiring between the parts.
 *
 * ## Life of a job
 * `submit` makes an {@link ExecutorFuture} (the job record itself), sends it at once to an idle
 * worker or queues it (slots.ts). A job is QUEUED (main queue), SENT (in a worker: waiting there or
 * running) or STOPPED. Outcomes come back one per message, or — plain values from thread workers —
 * through a ring in shared memory (protocol.ts), read in bulk on a doorbell. However its future
 * ends, the job record tells the executor once (`JobOwner.jobSettled`): a queued job is dropped, a
 * sent one is stopped (stopper.ts).
 *
 * While a job is in flight its loop's `_nDetached` count is raised, as for a task awaiting a foreign
 * promise, so that `run()`'s deadlock detection (virtual clock) knows something can still wake it.
 * @module
 */
import { inspect } from "node:util";
import { availableParallelism } from "node:os";
import type { TransferListItem } from "node:worker_threads";
import { runningLoop } from "../context.js";
import { BrokenExecutorError, InvalidStateError } from "../errors.js";
import { abortMessage } from "../futures.js";
import { checkItems, checkOptions, describe as describeValue } from "../internal/validate.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { checkEntry, fnEntry, type FnEntry } from "./functions.js";
import { ExecutorFuture, QUEUED, STOPPED, type JobOwner } from "./future.js";
import { mapChunks } from "./map.js";
import { executorSettings, jobTimeout, mapSettings, type ExecutorMapOptions, type ExecutorOptions, type JobOptions, type Settings, type ShutdownOptions } from "./options.js";
import { ARG_TAG, encodeError, F_CHUNK, F_SHARED, JOB_DONE, mayHoldShared, R_ERR, R_OK, R_OK_SHARED, reviveShared, type SharedArg, type TransferMarker, wireDeep } from "./protocol.js";
import { JobQueue } from "./queue.js";
import { errorText, Reports } from "./reports.js";
import type { SlotEvents, SlotInit, WorkerSlot } from "./slot.js";
import { Slots } from "./slots.js";
import { JobStopper } from "./stopper.js";

export type { ExecutorOptions, JobOptions, ExecutorMapOptions, ShutdownOptions } from "./options.js";

const RUNNING = 0;
const SHUT_DOWN = 1;
const BROKEN = 2;

type Job = ExecutorFuture<unknown>;

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
export abstract class Executor implements AsyncDisposable {
  /** @internal */ readonly _settings: Settings;
  /** @internal */ readonly _queue = new JobQueue();
  /** @internal */ readonly _slots: Slots;
  /** @internal */ readonly _stopper: JobStopper;
  /** @internal */ readonly _reports: Reports;
  /** @internal What workers report to: the reports, plus the revival of results holding handles. */
  readonly _events: SlotEvents;
  /** @internal What every job record of this executor reports to. */
  readonly _owner: JobOwner;
  /** @internal */ _seq = 0;
  /** @internal */ _state = RUNNING;
  /** @internal */ _brokenError: BrokenExecutorError | null = null;
  /** @internal */ _shutdownWaiters: (() => void)[] = [];

  /** @internal */
  constructor(kind: string, options: ExecutorOptions | undefined, defaultMax: number) {
    const settings = (this._settings = executorSettings(kind, options, defaultMax));
    const queue = this._queue;
    const slots = (this._slots = new Slots(
      {
        queue,
        spawn: (id) => this._spawn({ id, settings, events: this._events }),
        cannotSpawn: (cause) => this._break(new BrokenExecutorError(`${settings.name}: cannot start a worker: ${errorText(cause)}`, { cause })),
        isOpen: () => this._state === RUNNING,
        isBroken: () => this._state === BROKEN,
        refused: (job, error) => {
          if (!job.done()) job.setException(error);
        },
      },
      settings,
    ));
    const stopper = (this._stopper = new JobStopper(settings, slots));
    this._reports = new Reports(
      settings,
      { isBroken: () => this._state === BROKEN, breakDown: (e) => this._break(e), checkShutdownComplete: () => this._checkShutdownComplete() },
      queue,
      slots,
      stopper,
    );
    const reports = this._reports;
    this._events = {
      message: (slot, m) => {
        if ((m as unknown[])[0] === R_OK_SHARED) this._sharedResult(slot, m as unknown[]);
        else reports.message(slot, m);
      },
      result: (slot, seq, value) => reports.result(slot, seq, value),
      reportsDone: (slot) => reports.reportsDone(slot),
      exited: (slot, code, signal) => reports.exited(slot, code, signal),
    };
    this._owner = {
      jobSettled: (job) => {
        job._loop._nDetached--;
        if (job._job === STOPPED) return;
        if (job._job === QUEUED) {
          queue.dropped();
          job._markStopped();
          this._checkShutdownComplete();
        } else stopper.stop(job);
      },
      forceStop: (job) => stopper.forceStop(job),
      isRunning: (job) => {
        const slot = job._slot as WorkerSlot | null;
        return slot !== null && !slot.dead && slot.isRunning(job);
      },
      describeSlot: (job) => {
        const slot = job._slot as WorkerSlot | null;
        return slot === null ? "" : `on ${slot.describe()}`;
      },
    };
    if (settings.prestart) slots.prestart();
  }

  /** @internal Starts a worker: the backend. */
  protected abstract _spawn(init: SlotInit): WorkerSlot;

  /** Most workers alive at once. */
  get maxWorkers(): number {
    return this._settings.maxWorkers;
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
    return this._submit(fnEntry(fn, "Executor.submit"), args, undefined, 0) as ExecutorFuture<Awaited<R>>;
  }

  /**
   * `submit` with per-job options: a `timeout` counted from the job's start, a `transfer` list,
   * a cancelling `signal`.
   * @example
   * ```ts
   * import { ThreadPoolExecutor, TimeoutError, workerModule } from "tsaio";
   * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
   * const buf = new Float64Array(1e6).fill(0.5).buffer;
   * try {
   *   const total = await pool.submitWith({ timeout: 1_000, transfer: [buf] }, jobs.fns.sum, buf);
   *   console.log(total, buf.byteLength); // 500000 0
   * } catch (e) {
   *   if (e instanceof TimeoutError) console.log("took over 1 s: stopped");
   * }
   * ```
   */
  submitWith<A extends unknown[], R>(options: JobOptions, fn: (...args: A) => R, ...args: A): ExecutorFuture<Awaited<R>> {
    if (options === null || typeof options !== "object") throw new TypeError(`Executor.submitWith: \`options\` must be an object, got ${describeValue(options)}`);
    return this._submit(fnEntry(fn, "Executor.submitWith"), args, options, 0) as ExecutorFuture<Awaited<R>>;
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
    const entry = fnEntry(fn, "Executor.map");
    checkItems(items, "Executor.map", "`items` must be an iterable or async iterable");
    const { chunksize, buffersize, timeout } = mapSettings(options, this._settings.maxWorkers);
    this._checkOpen();
    const deadline = timeout === null ? Infinity : performance.now() + timeout;
    const submitChunk = (chunk: unknown[]): Job => this._submit(entry, [chunk], undefined, F_CHUNK);
    return mapChunks(submitChunk, items, chunksize, buffersize, deadline, timeout) as AsyncGenerator<Awaited<R>, void, undefined>;
  }

  /**
   * Stops accepting jobs. `wait` (default true): resolve once every submitted job has ended and
   * every worker has exited. `cancelFutures`: cancel the jobs that have not started (they never
   * will). Idle workers exit at once; the others after their last job. Calling it again is harmless.
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
    checkOptions(options, "Executor.shutdown");
    const wait = options?.wait ?? true;
    const cancelFutures = options?.cancelFutures ?? false;
    if (this._state === RUNNING) this._state = SHUT_DOWN;
    const slots = [...this._slots.list];
    if (cancelFutures) {
      for (const j of this._queue.waiting()) j.cancel("executor shut down");
      // Jobs waiting inside a worker: only those the worker can be stopped from starting.
      for (const s of slots) for (const j of s.inflight.values()) if (!j.done() && s.veto(j)) j.cancel("executor shut down");
    }
    for (const s of slots) this._slots.maybeIdle(s);
    if (wait && !this._shutdownComplete()) await new Promise<void>((resolve) => this._shutdownWaiters.push(resolve));
  }

  /** `await using pool = new ThreadPoolExecutor(…)`: shuts down and waits at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  /**
   * @internal Its describer: counts, then each worker (state, running job, jobs held and done) and,
   * unless redacted, the first queued jobs by number and function (never their arguments).
   */
  _describe(o: DescribeOptions): string {
    const state = this._state === RUNNING ? "" : this._state === SHUT_DOWN ? " shutdown" : " broken";
    const name = this._settings.name === this.constructor.name ? "" : ` name=${JSON.stringify(this._settings.name)}`;
    let s = `<${this.constructor.name}${state}${name} workers=${this._slots.list.length}/${this._settings.maxWorkers} busy=${this._slots.busyCount()} queued=${this._queue.size}`;
    const slots = this._slots.list;
    if (slots.length > 0) s += ` slots=[${slots.map((w) => w._describe(o)).join(", ")}]`;
    if (!o.redact && this._queue.size > 0) {
      const waiting = this._queue.waiting();
      const shown = waiting.slice(0, 5).map((j) => `#${j._seq} ${j._fn.def.b}`);
      if (waiting.length > 5) shown.push(`… ${waiting.length - 5} more`);
      s += ` queue=[${shown.join(", ")}]`;
    }
    return s + ">";
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }

  /** @internal */
  _checkOpen(): void {
    if (this._state === RUNNING) return;
    if (this._state === BROKEN) throw new BrokenExecutorError(`${this._settings.name} is broken: ${(this._brokenError as Error).message}`, { cause: this._brokenError });
    throw new InvalidStateError(`${this._settings.name} is shut down: cannot submit new jobs after shutdown()`);
  }

  /** @internal Makes the job record, checks what can be checked here, then sends or queues it. */
  _submit(entry: FnEntry, args: unknown[], options: JobOptions | undefined, kind: number): Job {
    this._checkOpen();
    const timeout = jobTimeout(options, this._settings.timeout);
    const loop = runningLoop();
    const job = new ExecutorFuture<unknown>(loop, this._owner, ++this._seq, entry, args, timeout, kind);
    loop._nDetached++; // in flight: the loop's deadlock detection must not give up on its awaiters
    const problem = this._prepare(job, entry, args, options);
    if (problem !== null) {
      job._markStopped();
      if (problem === "aborted") job.cancel(abortMessage(options?.signal as AbortSignal));
      else job.setException(problem);
      return job;
    }
    if (this._slots.sendNow(job)) return job;
    this._queue.push(job);
    this._slots.schedulePump();
    return job;
  }

  /** @internal Checks the arguments, unwraps transfer markers, wires the signal: a problem, "aborted", or null. */
  private _prepare(job: Job, entry: FnEntry, args: unknown[], options: JobOptions | undefined): Error | "aborted" | null {
    const problem = checkEntry(entry);
    if (problem !== null) return problem;
    let transfer: TransferListItem[] | null = null;
    // Objects that travel as handles (tsaio/threading primitives, tsaio/multiprocessing connections,
    // queues, proxies) may sit anywhere inside the arguments (or a map() chunk): scanned only when a
    // module able to make them is loaded in this thread, so other programs pay nothing.
    const scan = mayHoldShared();
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const t = typeof a;
      if (t === "function" || t === "symbol") return new TypeError(`${entry.def.b}: argument ${i + 1} is a ${t}, which cannot be sent to a worker (structured clone)`);
      if (t === "object" && a !== null) {
        const tag = (a as { [ARG_TAG]?: unknown })[ARG_TAG];
        if (tag === true) {
          const m = a as TransferMarker;
          args[i] = m.value;
          (transfer ??= []).push(...m.transferList);
        } else if (typeof tag === "function" || scan) {
          // Its wire form (or a copy of the container with them) is revived in the worker (protocol.ts).
          let w: unknown;
          try {
            w = wireDeep(a, (wire, nested, obj) => {
              const bad = this._refuse(entry, i, wire, nested);
              if (bad === null && typeof (obj as { [JOB_DONE]?: unknown })[JOB_DONE] === "function") {
                job._addEntry({ _onDone: () => (obj as { [JOB_DONE]: () => void })[JOB_DONE]() });
              }
              return bad;
            });
          } catch (e) {
            return e instanceof Error ? e : new TypeError(String(e));
          }
          if (w !== a) {
            args[i] = w;
            job._kind |= F_SHARED;
          }
        }
      }
    }
    if (options !== undefined) {
      if (options.transfer !== undefined) {
        if (!Array.isArray(options.transfer)) return new TypeError("Executor.submitWith: `transfer` must be an array of transferable objects");
        (transfer ??= []).push(...options.transfer);
      }
      const signal = options.signal;
      if (signal !== undefined) {
        if (!(signal instanceof AbortSignal)) return new TypeError(`Executor.submitWith: \`signal\` must be an AbortSignal, got ${describeValue(signal)}`);
        if (signal.aborted) return "aborted";
        const onAbort = (): void => void job.cancel(abortMessage(signal));
        signal.addEventListener("abort", onAbort, { once: true });
        job._addEntry({ _onDone: () => signal.removeEventListener("abort", onAbort) });
      }
    }
    job._transfer = transfer;
    return null;
  }

  /**
   * @internal A result holding handles (a Lock, a Connection… returned by the job): revived here,
   * then reported as a plain result; after an import when the reviving module is not loaded yet.
   */
  private _sharedResult(slot: WorkerSlot, m: unknown[]): void {
    const seq = m[1];
    const reports = this._reports;
    let v: unknown;
    try {
      v = reviveShared(m[2]);
    } catch (e) {
      reports.message(slot, [R_ERR, seq, encodeError(e)]);
      return;
    }
    if (!(v instanceof Promise)) {
      reports.message(slot, [R_OK, seq, v]);
      return;
    }
    v.then(
      (x: unknown) => reports.message(slot, [R_OK, seq, x]),
      (e: unknown) => reports.message(slot, [R_ERR, seq, encodeError(e)]),
    ).finally(() => reports.reportsDone(slot));
  }

  /** @internal The error for a wire form that cannot go to this executor's workers, or null. */
  private _refuse(entry: FnEntry, i: number, wire: SharedArg, nested: boolean): Error | null {
    if (this._settings.kind !== "ProcessPoolExecutor" || wire.process === true) return null;
    return new TypeError(
      `${entry.def.b}: argument ${i + 1} ${nested ? "holds" : "is"} a tsaio/threading ${wire.h.kind}, whose shared memory cannot reach another process: use ThreadPoolExecutor, or tsaio/multiprocessing's Queue, Pipe or Manager`,
    );
  }

  /** @internal The executor cannot go on (initializer failure, workers that cannot start): fail everything. */
  private _break(error: BrokenExecutorError): void {
    if (this._state === BROKEN) return;
    this._state = BROKEN;
    this._brokenError = error;
    for (const j of this._queue.takeAll()) {
      j._markStopped();
      if (!j.done()) j.setException(error);
    }
    for (const s of [...this._slots.list]) {
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
    this._checkShutdownComplete();
  }

  /** @internal */
  private _shutdownComplete(): boolean {
    return this._state !== RUNNING && this._queue.size === 0 && this._slots.list.length === 0;
  }

  /** @internal */
  _checkShutdownComplete(): void {
    if (this._shutdownWaiters.length === 0 || !this._shutdownComplete()) return;
    const ws = this._shutdownWaiters;
    this._shutdownWaiters = [];
    for (const w of ws) w();
  }
}

/** @internal The default size of a thread pool: Python's `min(32, cpus + 4)`. */
export function defaultThreadWorkers(): number {
  return Math.min(32, availableParallelism() + 4);
}

/** @internal */
export function defaultProcessWorkers(): number {
  return availableParallelism();
}
