/**
 * The worker side: `runWorker()` and the `tsaio worker` command. A BullMQ Worker takes jobs from the
 * queue and runs each in a tsaio thread (or process) pool of its own, so a job that ignores its
 * cancellation can be killed after a grace period without taking the worker down.
 *
 * - Only the exports of the modules it was started with run: a job names a module (by the name the
 *   worker gave it) and an export; anything else fails with an error saying what this worker runs.
 *   Nothing is ever evaluated.
 * - Cancellation: the queue's cancel channel (wire.ts) says which job to stop; the worker holding it
 *   cancels its pool future (its task's signal aborts; the pool kills it after `cancelGracePeriod`).
 *   A request that arrives before the job starts here is remembered for a while, so the job never
 *   starts. A cancelled job is never retried (`UnrecoverableError`).
 * - Outcomes: the final outcome of each job (its value, its error once no retry is left, or its
 *   cancellation) is pushed to its caller's result list before BullMQ marks the job done.
 * - Stopping (SIGTERM for the command, the signal or a cancelled await for the function): no new job
 *   is taken; running jobs may finish within `shutdownGracePeriod`, then they are handed back to the
 *   queue (moved to wait again, not counted as a failure) and another worker runs them.
 * @module
 */
import { availableParallelism } from "node:os";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { runningLoop } from "../context.js";
import { CancelledError } from "../errors.js";
import { type Future, throwAtCall } from "../futures.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { checkIntAtLeast, checkMs, checkSignal, describe as describeValue } from "../internal/validate.js";
import { fnEntry, workerModule, type WorkerModule } from "../executors/functions.js";
import type { ExecutorFuture } from "../executors/future.js";
import type { Executor } from "../executors/pool.js";
import { ProcessPoolExecutor } from "../executors/process.js";
import { F_CHUNK } from "../executors/protocol.js";
import { ThreadPoolExecutor } from "../executors/thread.js";
import {
  cancelChannel,
  checkConnection,
  checkModuleName,
  checkQueueName,
  decodeValue,
  encodeErrorValue,
  encodeValue,
  K_CANCELLED,
  K_ERR,
  K_OK,
  makeClient,
  processLabel,
  resultKey,
  type JobData,
  type Outcome,
  type RedisConnection,
} from "./wire.js";
import { RESULT_TTL_S } from "./executor.js";

/**
 * Options of {@link runWorker} (and of `tsaio worker`, whose flags have the same names).
 * @example
 * ```ts
 * // not run: serves a Redis queue for a minute, from ./jobs.ts and ./dist/thumbs.js
 * import { runWorker } from "tsaio/bullmq";
 * const ac = new AbortController();
 * const done = runWorker({ modules: ["./jobs.ts", "thumbs=./dist/thumbs.js"], queue: "cpu", concurrency: 8, signal: ac.signal });
 * setTimeout(() => ac.abort(), 60_000);
 * console.log(await done); // e.g. { completed: 1200, failed: 3, cancelled: 1, handedBack: 0 }
 * ```
 */
export interface RunWorkerOptions {
  /**
   * The modules whose exports this worker runs: `"./jobs.ts"` (named `jobs`, its base name),
   * `"thumbs=./dist/thumbs.js"` (named `thumbs`), `"my-pkg/jobs"` (a package specifier, named by
   * itself), or `{ thumbs: "./dist/thumbs.js" }`. Paths are relative to `cwd`.
   */
  modules: readonly string[] | Readonly<Record<string, string>>;
  /** The queue's name. */
  queue: string;
  /** Jobs held at once (BullMQ's concurrency). Default: the number of CPUs. */
  concurrency?: number;
  /** Redis: a `redis://` URL or ioredis options. Default `REDIS_URL`, else redis://127.0.0.1:6379. */
  connection?: RedisConnection;
  /** BullMQ's key prefix. Default `"bull"`. */
  prefix?: string;
  /** Aborting it stops the worker gracefully (as SIGTERM does for `tsaio worker`). */
  signal?: AbortSignal;
  /** Where jobs run: a pool of `"thread"`s (default) or child `"process"`es. */
  pool?: "thread" | "process";
  /** Size of that pool. Default: `min(concurrency, CPUs)`. */
  maxWorkers?: number;
  /** How long a cancelled job may take to stop before its thread/process is killed. Default 3 000 ms. */
  cancelGracePeriod?: number;
  /** On stop, how long running jobs may take to finish before they are handed back. Default 10 000 ms. */
  shutdownGracePeriod?: number;
  /** This worker's name in "where did it run" (`host:pid/name`). Default: none (`host:pid`). */
  name?: string;
  /** Print a progress line every this many jobs (0: never). Default 0. */
  progressEvery?: number;
  /** Where progress lines go. Default: stderr. */
  log?: (line: string) => void;
  /** BullMQ's lock duration (ms): a worker silent this long has its jobs taken over. Default 30 000. */
  lockDuration?: number;
  /** How often BullMQ looks for stalled jobs (ms). Default 30 000. */
  stalledInterval?: number;
  /** Times a job may stall (its worker died) before it fails. Default 1. */
  maxStalledCount?: number;
  /** Directory the module paths are relative to. Default `process.cwd()`. */
  cwd?: string;
}

/**
 * What a worker did, returned by {@link runWorker} when it stops.
 * @example
 * ```ts
 * import type { WorkerStats } from "tsaio/bullmq";
 * const s: WorkerStats = { completed: 10, failed: 1, cancelled: 0, handedBack: 0 };
 * console.log(s.completed + s.failed); // 11
 * ```
 */
export interface WorkerStats {
  /** Jobs that returned a value. */
  completed: number;
  /** Runs that threw (retried or not). */
  failed: number;
  /** Jobs cancelled by their caller. */
  cancelled: number;
  /** Running jobs handed back to the queue on stop. */
  handedBack: number;
}

interface Running {
  fut: ExecutorFuture<unknown> | null;
  handBack: boolean;
  cancelled: string | null;
}

/** How long a cancel request for a job this worker does not hold is remembered (ms). */
const REMEMBER_CANCEL_MS = 10 * 60_000;

/** @internal Parses one module spec: `name=target`, a path, or a package specifier. */
export function moduleSpec(spec: string, cwd: string, where: string): { name: string; url: string } {
  if (typeof spec !== "string" || spec === "") throw new TypeError(`${where}: a module must be a non-empty string, got ${describeValue(spec)}`);
  const eq = spec.indexOf("=");
  let name: string | null = null;
  let target = spec;
  if (eq > 0) {
    name = spec.slice(0, eq);
    target = spec.slice(eq + 1);
  }
  const isPath = target.startsWith(".") || target.startsWith("/") || /^[a-z]:[\\/]/i.test(target);
  let url: string;
  if (isPath) {
    const path = resolve(cwd, target);
    const siblings = [path, path.replace(/\.js$/, ".ts"), path.replace(/\.ts$/, ".js")];
    if (!siblings.some((p) => existsSync(p))) throw new TypeError(`${where}: no such module file: ${target} (looked in ${cwd})`);
    url = pathToFileURL(path).href;
    name ??= basename(path).replace(/\.(js|mjs|cjs|ts|mts|cts|tsx|jsx)$/, "");
  } else {
    try {
      url = pathToFileURL(createRequire(join(cwd, "noop.js")).resolve(target)).href;
    } catch {
      try {
        url = import.meta.resolve(target);
      } catch (e) {
        throw new TypeError(`${where}: cannot resolve module ${JSON.stringify(target)} from ${cwd}: ${(e as Error).message}`);
      }
    }
    name ??= target;
  }
  checkModuleName(name, where);
  return { name, url };
}

/** @internal The modules option as name → URL. */
export function moduleTable(modules: unknown, cwd: string, where: string): Map<string, string> {
  const table = new Map<string, string>();
  const add = (name: string, url: string): void => {
    if (table.has(name)) throw new TypeError(`${where}: two modules are named ${JSON.stringify(name)}; name one: other=./path`);
    table.set(name, url);
  };
  if (Array.isArray(modules)) {
    for (const s of modules as unknown[]) {
      const m = moduleSpec(s as string, cwd, where);
      add(m.name, m.url);
    }
  } else if (modules !== null && typeof modules === "object") {
    for (const [name, target] of Object.entries(modules)) {
      checkModuleName(name, where);
      add(name, moduleSpec(`${name}=${String(target)}`, cwd, where).url);
    }
  } else throw new TypeError(`${where}: \`modules\` must be an array of module specs or { name: path }, got ${describeValue(modules)}`);
  if (table.size === 0) throw new TypeError(`${where}: \`modules\` is empty: name at least one module whose exports this worker runs`);
  return table;
}

/** @internal A running worker: its state, for `util.inspect` and the progress line. */
export class WorkerState {
  readonly stats: WorkerStats = { completed: 0, failed: 0, cancelled: 0, handedBack: 0 };
  readonly running = new Map<string, Running>();
  readonly cancelledIds = new Map<string, number>();
  stopping = false;
  readonly startedAt = performance.now();
  constructor(
    readonly label: string,
    readonly queue: string,
    readonly modules: Map<string, WorkerModule<Record<string, (...args: unknown[]) => unknown>>>,
  ) {}

  /** @internal */
  _describe(_o: DescribeOptions): string {
    const s = this.stats;
    return `<tsaio worker ${this.label}${this.stopping ? " stopping" : ""} queue=${this.queue} modules=[${[...this.modules.keys()].join(", ")}] running=${this.running.size} completed=${s.completed} failed=${s.failed} cancelled=${s.cancelled} handedBack=${s.handedBack}>`;
  }

  [inspect.custom](): string {
    return this._describe(FULL);
  }

  progressLine(): string {
    const s = this.stats;
    const secs = (performance.now() - this.startedAt) / 1000;
    const done = s.completed + s.failed + s.cancelled;
    return `tsaio worker ${this.label}: ${done} jobs (${s.completed} ok, ${s.failed} failed, ${s.cancelled} cancelled), ${this.running.size} running, ${(done / Math.max(secs, 1e-3)).toFixed(0)}/s`;
  }
}

/**
 * Runs a worker for a {@link BullMQExecutor}'s queue until `signal` aborts or the awaiting task is
 * cancelled, then stops gracefully (running jobs finish within `shutdownGracePeriod`, else go back to
 * the queue) and resolves with what it did. It runs the exports of `modules` only, each job in a
 * thread (or process) of its own pool. The same as `tsaio worker <module…> --queue q`.
 * @example
 * ```ts
 * // not run: serves a Redis queue for a minute
 * import { run, timeout } from "tsaio";
 * import { runWorker } from "tsaio/bullmq";
 * await run(async () => {
 *   // Serve queue "cpu" for a minute, then stop gracefully:
 *   await timeout(60_000, () => runWorker({ modules: ["./jobs.ts"], queue: "cpu", concurrency: 4 })).catch(() => {});
 * });
 * ```
 */
export function runWorker(options: RunWorkerOptions): Future<WorkerStats> {
  throwAtCall();
  const where = "runWorker";
  if (options === null || typeof options !== "object") throw new TypeError(`${where}: \`options\` must be an object with \`modules\` and \`queue\`, got ${describeValue(options)}`);
  checkQueueName(options.queue, where);
  checkConnection(options.connection, where);
  checkSignal(options.signal, where);
  checkIntAtLeast(options.concurrency, where, "concurrency", 1);
  checkIntAtLeast(options.maxWorkers, where, "maxWorkers", 1);
  checkIntAtLeast(options.progressEvery, where, "progressEvery", 0);
  checkIntAtLeast(options.maxStalledCount, where, "maxStalledCount", 0);
  checkMs(options.cancelGracePeriod, where, "cancelGracePeriod", false);
  checkMs(options.shutdownGracePeriod, where, "shutdownGracePeriod", false);
  checkMs(options.lockDuration, where, "lockDuration", false);
  checkMs(options.stalledInterval, where, "stalledInterval", false);
  if (options.pool !== undefined && options.pool !== "thread" && options.pool !== "process") throw new TypeError(`${where}: \`pool\` must be "thread" or "process", got ${describeValue(options.pool)}`);
  if (options.log !== undefined && typeof options.log !== "function") throw new TypeError(`${where}: \`log\` must be a function, got ${describeValue(options.log)}`);
  if (options.prefix !== undefined && (typeof options.prefix !== "string" || options.prefix === "")) throw new TypeError(`${where}: \`prefix\` must be a non-empty string, got ${describeValue(options.prefix)}`);
  const table = moduleTable(options.modules, options.cwd ?? process.cwd(), where);
  const loop = runningLoop();
  const fut = loop.createFuture<WorkerStats>();
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted === true) stop.abort();
  loop._nDetached++; // it runs until stopped: nothing on the loop needs to be ready meanwhile
  fut.addDoneCallback(() => {
    if (fut.cancelled()) stop.abort();
  });
  serve(options, table, stop.signal).then(
    (stats) => {
      loop._nDetached--;
      options.signal?.removeEventListener("abort", onAbort);
      if (!fut.done()) fut.setResult(stats);
    },
    (e: unknown) => {
      loop._nDetached--;
      options.signal?.removeEventListener("abort", onAbort);
      if (!fut.done()) fut.setException(e);
    },
  );
  return fut;
}

/** The worker's body: runs until `stop` aborts, then stops gracefully. */
async function serve(options: RunWorkerOptions, table: Map<string, string>, stop: AbortSignal): Promise<WorkerStats> {
  const prefix = options.prefix ?? "bull";
  const queue = options.queue;
  const concurrency = options.concurrency ?? availableParallelism();
  const label = options.name === undefined ? processLabel() : `${processLabel()}/${options.name}`;
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const every = options.progressEvery ?? 0;
  const modules = new Map<string, WorkerModule<Record<string, (...args: unknown[]) => unknown>>>();
  for (const [name, url] of table) modules.set(name, workerModule(url));
  const state = new WorkerState(label, queue, modules);
  const maxWorkers = options.maxWorkers ?? Math.max(1, Math.min(concurrency, availableParallelism()));
  const poolOptions = { maxWorkers, cancelGracePeriod: options.cancelGracePeriod ?? 3_000, name: `tsaio worker ${label}` };
  const pool: Executor = options.pool === "process" ? new ProcessPoolExecutor(poolOptions) : new ThreadPoolExecutor(poolOptions);
  const retryStrategy = (times: number): number => Math.min(100 * times, 2_000);
  const connection = options.connection;
  const pub: Redis = makeClient(connection, { maxRetriesPerRequest: null, retryStrategy, enableAutoPipelining: true });
  const sub: Redis = makeClient(connection, { maxRetriesPerRequest: null, retryStrategy });
  const bull: Redis = makeClient(connection, { maxRetriesPerRequest: null, retryStrategy });
  let lastError: unknown = null;
  const onError = (e: unknown): void => {
    lastError = e;
  };
  for (const c of [pub, sub, bull]) c.on("error", onError);
  const channel = cancelChannel(prefix, queue);

  // The TTL of a caller's list is refreshed at most once a minute per caller, not once per job.
  const expired = new Map<string, number>();
  // Not awaited: the job's slot is not held for a round trip. Should a push be lost (Redis gone at
  // that moment), the caller's fallback check reads the outcome from the job's hash (returnvalue or
  // failedReason), which BullMQ writes when the job ends.
  const push = (data: JobData, o: Outcome): void => {
    const key = resultKey(prefix, queue, data.r);
    const now = performance.now();
    const last = expired.get(key);
    pub.rpush(key, JSON.stringify(o)).catch(onError);
    if (last === undefined || now - last > 60_000) {
      if (expired.size > 10_000) expired.clear();
      expired.set(key, now);
      pub.expire(key, RESULT_TTL_S).catch(onError);
    }
  };
  const noteDone = (): void => {
    const s = state.stats;
    const done = s.completed + s.failed + s.cancelled;
    if (every > 0 && done % every === 0) log(state.progressLine());
  };

  const processor = async (job: Job, token?: string, signal?: AbortSignal): Promise<string> => {
    const id = job.id as string;
    const data = job.data as Partial<JobData>;
    const n = job.attemptsStarted;
    if (data === null || typeof data !== "object" || data.v !== 1 || typeof data.m !== "string" || typeof data.f !== "string" || typeof data.a !== "string" || typeof data.r !== "string") {
      state.stats.failed++;
      throw new UnrecoverableError(`tsaio worker ${label}: job ${id} is not a tsaio job (its data lacks the module, export and arguments)`);
    }
    const d = data as JobData;
    const outcome = (k: 0 | 1 | 2, p: string): Outcome => ({ id, k, n, w: label, p });
    if (state.cancelledIds.has(id)) {
      state.cancelledIds.delete(id);
      state.stats.cancelled++;
      push(d, outcome(K_CANCELLED, ""));
      noteDone();
      throw new UnrecoverableError("cancelled by its caller before it started");
    }
    const mod = modules.get(d.m);
    if (mod === undefined) {
      const e = new Error(`tsaio worker ${label}: no module named ${JSON.stringify(d.m)} here (this worker runs: ${[...modules.keys()].join(", ")}); start workers with it: tsaio worker ${d.m}=<path> --queue ${queue}`);
      state.stats.failed++;
      push(d, outcome(K_ERR, encodeErrorValue(e)));
      noteDone();
      throw new UnrecoverableError(e.message);
    }
    const entry: Running = { fut: null, handBack: false, cancelled: null };
    state.running.set(id, entry);
    try {
      const args = decodeValue(d.a) as unknown[];
      if (!Array.isArray(args)) throw new TypeError(`job ${id}: its arguments are not an array`);
      const fn = mod.fn(d.f);
      const fut =
        d.c === 1
          ? (pool as unknown as { _submit(e: unknown, a: unknown[], o: unknown, k: number): ExecutorFuture<unknown> })._submit(fnEntry(fn, "tsaio worker"), [args[0]], { timeout: d.t }, F_CHUNK)
          : pool.submitWith({ timeout: d.t }, fn as (...a: unknown[]) => unknown, ...args);
      entry.fut = fut;
      const onAbort = (): void => {
        fut.cancel(entry.cancelled ?? "the job's lock was lost");
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      let value: unknown;
      try {
        value = await fut;
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
      const p = encodeValue(value);
      state.stats.completed++;
      push(d, outcome(K_OK, p));
      state.running.delete(id); // (its line must not count it as running)
      noteDone();
      return p;
    } catch (e) {
      if (entry.handBack) {
        // Stopping: back to the queue for another worker, not counted as a failure.
        state.stats.handedBack++;
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      if (e instanceof CancelledError || entry.cancelled !== null) {
        // Reported once it has really stopped (a job that ignores its signal: once its thread is killed).
        await entry.fut?.stopped();
        state.stats.cancelled++;
        push(d, outcome(K_CANCELLED, ""));
        state.running.delete(id); // (its line must not count it as running)
        noteDone();
        throw new UnrecoverableError(`cancelled: ${entry.cancelled ?? (e as Error).message}`);
      }
      state.stats.failed++;
      const final = e instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (final) push(d, outcome(K_ERR, encodeErrorValue(e)));
      state.running.delete(id); // (its line must not count it as running)
      noteDone();
      throw e;
    } finally {
      state.running.delete(id);
    }
  };

  sub.on("message", (ch: string, msg: string) => {
    if (ch !== channel) return;
    const [id, force, ...rest] = msg.split("\n");
    const reason = rest.join("\n") || "cancelled";
    const r = state.running.get(id);
    if (r === undefined) {
      // Not here (yet?): remember it, in case this worker is about to start it.
      const now = performance.now();
      state.cancelledIds.set(id, now);
      if (state.cancelledIds.size > 1000) for (const [k, t] of state.cancelledIds) if (now - t > REMEMBER_CANCEL_MS) state.cancelledIds.delete(k);
      return;
    }
    r.cancelled = reason;
    r.fut?.cancel(reason, { force: force === "1" });
  });
  await sub.subscribe(channel);

  const worker = new Worker(queue, processor, {
    connection: bull,
    prefix,
    concurrency,
    autorun: false,
    ...(options.lockDuration === undefined ? {} : { lockDuration: options.lockDuration }),
    ...(options.stalledInterval === undefined ? {} : { stalledInterval: options.stalledInterval }),
    ...(options.maxStalledCount === undefined ? {} : { maxStalledCount: options.maxStalledCount }),
  });
  worker.on("error", onError);
  const running = worker.run();
  running.catch(onError);
  try {
    await worker.waitUntilReady();
    if (every > 0) log(`tsaio worker ${label}: serving queue ${queue} (modules: ${[...modules.keys()].join(", ")}; concurrency ${concurrency}, ${maxWorkers} ${options.pool ?? "thread"}s)`);
    if (!stop.aborted) await new Promise<void>((res) => stop.addEventListener("abort", () => res(), { once: true }));
  } finally {
    state.stopping = true;
    if (every > 0) log(`tsaio worker ${label}: stopping (${state.running.size} running)`);
    const closing = worker.close();
    const grace = options.shutdownGracePeriod ?? 10_000;
    const handBack = setTimeout(() => {
      for (const r of state.running.values()) {
        r.handBack = true;
        r.fut?.cancel("the worker is stopping", { force: true });
      }
    }, grace);
    try {
      await closing;
    } finally {
      clearTimeout(handBack);
      await pool.shutdown({ cancelFutures: true });
      await sub.quit().catch(() => sub.disconnect());
      await pub.quit().catch(() => pub.disconnect());
      bull.disconnect();
      await running.catch(() => {});
    }
    if (every > 0) log(state.progressLine());
    void lastError;
  }
  return state.stats;
}
