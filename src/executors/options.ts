/**
 * Every option of the executors, checked in one place and documented in one table (on
 * {@link ExecutorOptions}). The executor keeps the checked values as {@link Settings}, which the
 * other parts read and never change.
 * @module
 */
import type { ResourceLimits, TransferListItem } from "node:worker_threads";
import { checkIntAtLeast, checkMs, checkOptions, checkPositive, describe } from "../internal/validate.js";
import { currentTaskOrNull } from "../tasks.js";
import { checkNotImportingJob } from "./bootstrap.js";
import { checkEntry, fnEntry } from "./functions.js";
import type { FnDef } from "./protocol.js";

/**
 * Options of {@link ThreadPoolExecutor} and {@link ProcessPoolExecutor}. Every one is optional:
 *
 * | option | default | what it does |
 * | --- | --- | --- |
 * | `maxWorkers` | threads `min(32, cpus + 4)`, processes `cpus` | most workers alive at once (an integer >= 1) |
 * | `prestart` | `false` | start every worker when the executor is made, instead of on demand |
 * | `initializer`, `initargs` | none, `[]` | run in each worker before its first job; if it throws, the executor is broken |
 * | `maxTasksPerWorker` | never | replace a worker after it has run this many jobs (Python's `max_tasks_per_child`) |
 * | `idleTimeout` | 60 000 ms | an idle worker exits after this long (idle workers never keep the process alive) |
 * | `resourceLimits` | Node's | heap and stack limits of each worker; a worker over them dies and its job fails |
 * | `timeout` | none | per-job time limit in ms, counted from when the job starts running |
 * | `cancelGracePeriod` | 3 000 ms | how long a cancelled or timed-out job may take to stop before its worker is terminated |
 * | `maxHeapUsed` | never | recycle a worker between jobs once its V8 heap in use exceeds this many bytes |
 * | `execArgv` | this process's | Node options of the workers (so `--import tsx` reaches them) |
 * | `name` | the class name | shown in `util.inspect` and error messages |
 *
 * Durations are in ms; `Infinity` means never (`timeout`, `cancelGracePeriod`, `idleTimeout`).
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
 * console.log(await pool.submit(jobs.fns.render, "intro")); // rendered intro with the small model
 * await pool.shutdown();
 * ```
 */
export interface ExecutorOptions {
  /**
   * Most workers alive at once (an integer >= 1). Workers start on demand (see `prestart`). Default:
   * threads `min(32, availableParallelism() + 4)` (Python's choice, for blocking calls); processes
   * `availableParallelism()`.
   */
  maxWorkers?: number;
  /**
   * Start all `maxWorkers` workers now, so that the first jobs do not wait for a worker to boot.
   * Default false: workers start on demand. Prestarted workers still exit after `idleTimeout`.
   */
  prestart?: boolean;
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
   * Memory limits of each worker (each field a positive number of MB; `stackSizeMb` at least 0.5).
   * Threads: passed to `new Worker`; processes: mapped to `--max-old-space-size`,
   * `--max-semi-space-size` and `--stack-size`. A worker that exceeds them dies; its job fails
   * with `BrokenExecutorError`.
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
 * import { ThreadPoolExecutor, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const ac = new AbortController(); // ac.abort() would cancel the job
 * const fut = pool.submitWith({ timeout: 5_000, signal: ac.signal }, jobs.fns.render, "scene-1");
 * console.log(await fut); // rendered scene-1
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
 * import { ThreadPoolExecutor, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const texts = ["a", "b", "c"];
 * for await (const digest of pool.map(jobs.fns.hash, texts, { chunksize: 16, timeout: 60_000 })) console.log(digest.slice(0, 8)); // ca978112 3e23e816 2e7d2c03
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
 * import { ThreadPoolExecutor, sleep, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
 * const futs = [1, 2, 3, 4, 5].map(() => pool.submit(jobs.fns.spin, 100));
 * while (!futs[0].running()) await sleep(1);
 * await pool.shutdown({ wait: true, cancelFutures: true }); // drop what has not started, wait for the rest
 * console.log(futs.map((f) => f.cancelled())); // e.g. [ false, true, true, true, true ]
 * console.log(futs[0].cancelled(), futs[4].cancelled()); // false true
 * ```
 */
export interface ShutdownOptions {
  /** Wait until every submitted job has ended and every worker has exited. Default true. */
  wait?: boolean;
  /** Cancel the jobs that have not started yet. Default false. */
  cancelFutures?: boolean;
}

/** @internal An executor's options, checked, with their defaults filled in. */
export interface Settings {
  /** The class name, for messages: "ThreadPoolExecutor". */
  readonly kind: string;
  readonly name: string;
  readonly maxWorkers: number;
  readonly prestart: boolean;
  readonly initializer: FnDef | null;
  readonly initargs: unknown[];
  /** Infinity: never. */
  readonly maxTasksPerWorker: number;
  readonly idleTimeout: number;
  readonly resourceLimits: ResourceLimits | undefined;
  /** Default per-job timeout; null: none. */
  readonly timeout: number | null;
  readonly grace: number;
  /** 0: never. */
  readonly maxHeapUsed: number;
  readonly execArgv: readonly string[] | undefined;
}

/**
 * @internal For code that starts workers without an executor (`tsaio/multiprocessing`'s `Process`…):
 * throws, as `new ThreadPoolExecutor()` does, when called by a job module's top-level code in a
 * worker (see `checkNotImportingJob` in bootstrap.ts). `what` names the call: "Process.start()".
 */
export function refuseWhileImportingJob(what: string): void {
  checkNotImportingJob(what, isJobCode);
}

/** Whether the running code is a job's (worker.ts runs each job in a task of the class eager.ts defines). */
function isJobCode(): boolean {
  return currentTaskOrNull()?.constructor.name === "JobTask";
}

const LIMIT_FIELDS = ["maxOldGenerationSizeMb", "maxYoungGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"] as const;
/** A thread started with a smaller stack cannot even boot, and takes the whole process down (exit 6). */
const MIN_STACK_MB = 0.5;

/** @internal Checks `options` of executor class `kind` (each problem named) and fills in the defaults. */
export function executorSettings(kind: string, options: ExecutorOptions | undefined, defaultMax: number): Settings {
  // A worker importing a job module that starts executors (a main module): refuse, before anything starts.
  refuseWhileImportingJob(`new ${kind}()`);
  checkOptions(options, kind);
  const o = options ?? {};
  const max = o.maxWorkers ?? defaultMax;
  checkIntAtLeast(max, kind, "maxWorkers", 1);
  if (o.prestart !== undefined && typeof o.prestart !== "boolean") throw new TypeError(`${kind}: \`prestart\` must be a boolean, got ${describe(o.prestart)}`);
  let initializer: FnDef | null = null;
  if (o.initializer !== undefined && o.initializer !== null) {
    const e = fnEntry(o.initializer, `${kind}: initializer`);
    const problem = checkEntry(e);
    if (problem !== null) throw problem;
    initializer = e.def;
  }
  if (o.initargs !== undefined && !Array.isArray(o.initargs)) throw new TypeError(`${kind}: \`initargs\` must be an array, got ${describe(o.initargs)}`);
  checkIntAtLeast(o.maxTasksPerWorker, kind, "maxTasksPerWorker", 1, true);
  checkMs(o.idleTimeout, kind, "idleTimeout", false);
  checkMs(o.timeout, kind, "timeout", true);
  checkMs(o.cancelGracePeriod, kind, "cancelGracePeriod", false);
  const mh = o.maxHeapUsed;
  if (mh !== undefined && mh !== null) {
    if (typeof mh !== "number") throw new TypeError(`${kind}: \`maxHeapUsed\` must be a number of bytes or null, got ${describe(mh)}`);
    if (!(mh > 0)) throw new RangeError(`${kind}: \`maxHeapUsed\` must be > 0 bytes, got ${mh}`);
  }
  checkResourceLimits(kind, o.resourceLimits);
  if (o.execArgv !== undefined && (!Array.isArray(o.execArgv) || !o.execArgv.every((a) => typeof a === "string"))) {
    throw new TypeError(`${kind}: \`execArgv\` must be an array of strings`);
  }
  return {
    kind,
    name: o.name === undefined ? kind : String(o.name),
    maxWorkers: max,
    prestart: o.prestart ?? false,
    initializer,
    initargs: o.initargs === undefined ? [] : [...o.initargs],
    maxTasksPerWorker: o.maxTasksPerWorker ?? Infinity,
    idleTimeout: o.idleTimeout ?? 60_000,
    resourceLimits: o.resourceLimits === undefined ? undefined : { ...o.resourceLimits },
    timeout: o.timeout ?? null,
    grace: o.cancelGracePeriod ?? 3_000,
    maxHeapUsed: mh ?? 0,
    execArgv: o.execArgv === undefined ? undefined : [...o.execArgv],
  };
}

function checkResourceLimits(kind: string, rl: unknown): void {
  if (rl === undefined) return;
  if (rl === null || typeof rl !== "object") throw new TypeError(`${kind}: \`resourceLimits\` must be an object, got ${describe(rl)}`);
  for (const key of Object.keys(rl)) {
    if (!(LIMIT_FIELDS as readonly string[]).includes(key)) {
      throw new TypeError(`${kind}: \`resourceLimits.${key}\` is not a resource limit (the fields are ${LIMIT_FIELDS.join(", ")})`);
    }
    const v = (rl as Record<string, unknown>)[key];
    checkPositive(v, kind, `resourceLimits.${key}`, "MB", key === "stackSizeMb" ? MIN_STACK_MB : 0);
  }
}

/** @internal A job's timeout: `submitWith`'s, else the executor's; null for none. */
export function jobTimeout(options: JobOptions | undefined, fallback: number | null): number | null {
  if (options === undefined || options.timeout === undefined) return fallback;
  checkMs(options.timeout, "Executor.submitWith", "timeout", true);
  return options.timeout;
}

/** @internal `map`'s options, checked. */
export function mapSettings(options: ExecutorMapOptions | undefined, maxWorkers: number): { chunksize: number; buffersize: number; timeout: number | null } {
  checkOptions(options, "Executor.map");
  const chunksize = options?.chunksize ?? 1;
  checkIntAtLeast(chunksize, "Executor.map", "chunksize", 1);
  const buffersize = options?.buffersize ?? Math.max(64, 4 * maxWorkers);
  checkIntAtLeast(buffersize, "Executor.map", "buffersize", 1);
  checkMs(options?.timeout, "Executor.map", "timeout", true);
  return { chunksize, buffersize, timeout: options?.timeout ?? null };
}
