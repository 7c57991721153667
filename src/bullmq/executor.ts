/**
 * BullMQExecutor: the executors' interface (`submit`, `submitWith`, `map`, `shutdown`) on a BullMQ
 * queue, so work spreads over every machine that runs `tsaio worker` on that queue.
 *
 * ## Life of a job
 * `submit` makes a {@link BullMQFuture} (an ExecutorFuture: the job record), and jobs submitted in
 * the same tick are added in one `addBulk`. The worker that runs a job RPUSHes its final outcome to
 * this executor's own result list (wire.ts), which one blocking connection pops in batches — so no
 * outcome is lost under a burst, as `completed` events of a capped stream are. A timer looks at the
 * jobs that have been out a while (their BullMQ hash) as a fallback: a job that failed without a
 * worker reporting it (stalled too often) or that was removed from outside still settles its future.
 *
 * ## Stopping a job
 * However a future ends before its outcome arrives (cancel, `timeout()`, a task group failing, its
 * signal), the job is removed if it is still waiting; if a worker holds it, a message on the
 * queue's cancel channel reaches every worker, and the one holding it aborts it (see worker.ts).
 *
 * ## Redis going away
 * ioredis queues commands while it reconnects, forever under BullMQ's `maxRetriesPerRequest: null`.
 * So every call here has a local deadline (`connectTimeout`), and a health check (PING while jobs
 * are out) fails the futures still out once Redis has not answered for `connectTimeout`; the
 * connections keep reconnecting, and the executor works again once Redis is back.
 * @module
 */
import { basename } from "node:path";
import { inspect } from "node:util";
import { randomBytes } from "node:crypto";
import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { runningLoop } from "../context.js";
import { InvalidStateError } from "../errors.js";
import { abortMessage, cancelOnAbort } from "../futures.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { LongTimeout } from "../internal/timers.js";
import { checkIntAtLeast, checkItems, checkMs, checkOptions, checkSignal, describe as describeValue } from "../internal/validate.js";
import { fnEntry, workerModule, type FnEntry, type WorkerModule } from "../executors/functions.js";
import { ExecutorFuture, QUEUED, SENT, STOPPED, type JobOwner } from "../executors/future.js";
import { mapChunks } from "../executors/map.js";
import { mapSettings, type ExecutorMapOptions, type ShutdownOptions } from "../executors/options.js";
import {
  cancelChannel,
  checkConnection,
  checkModuleName,
  checkQueueName,
  decodeErrorValue,
  decodeValue,
  encodeValue,
  K_CANCELLED,
  K_OK,
  makeClient,
  resultKey,
  whereText,
  type JobData,
  type Outcome,
  type RedisConnection,
} from "./wire.js";

/** The URL scheme of {@link remoteModule} handles: the module is named, not located. */
const SCHEME = "tsaio-worker:";

/**
 * A typed handle on a module known to the workers by `name` (the name a worker was started with:
 * `tsaio worker jobs=./dist/jobs.js`, or a package specifier it was given: `tsaio worker my-pkg/jobs`).
 * Nothing is loaded on this machine: the type argument only brings the types. Use it where the
 * module's file is not on the caller's machine; where it is, a plain `workerModule(url)` handle works
 * too (see {@link BullMQExecutorOptions.modules}). Only a {@link BullMQExecutor} can run its functions.
 * @example
 * ```ts
 * import { remoteModule } from "tsaio/bullmq";
 * const thumbs = remoteModule<typeof import("./jobs.js")>("thumbs");
 * console.log(thumbs.fns.hash.exportName, thumbs.url); // hash tsaio-worker:thumbs
 * ```
 */
export function remoteModule<M = Record<string, (...args: unknown[]) => unknown>>(name: string): WorkerModule<M> {
  checkModuleName(name, "remoteModule");
  return workerModule<M>(SCHEME + encodeURIComponent(name));
}

/**
 * Options of {@link BullMQExecutor}. Only `queue` is required.
 * @example
 * ```ts
 * // not run: needs a Redis server and a worker serving queue "cpu" (tsaio worker ./jobs.ts --queue cpu)
 * import { workerModule } from "tsaio";
 * import { BullMQExecutor } from "tsaio/bullmq";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * const pool = new BullMQExecutor({
 *   queue: "cpu", connection: "redis://127.0.0.1:6379", modules: { jobs },
 *   attempts: 3, backoff: { type: "exponential", delay: 500 }, timeout: 60_000, connectTimeout: 5_000,
 * });
 * console.log(await pool.submit(jobs.fns.countPrimes, 1_000_000)); // 78498
 * await pool.shutdown();
 * ```
 */
export interface BullMQExecutorOptions {
  /** The BullMQ queue's name (no `:`); the workers must run on the same. */
  queue: string;
  /** Redis: a `redis://` URL or ioredis options. Default `REDIS_URL`, else redis://127.0.0.1:6379. */
  connection?: RedisConnection;
  /** BullMQ's key prefix. Default `"bull"`. */
  prefix?: string;
  /**
   * The names of `workerModule(url)` handles, as the workers know them: `{ thumbs: jobs }`. A handle
   * not listed here is named by its file's base name (`…/jobs.ts` → `"jobs"`, which is also what
   * `tsaio worker ./jobs.ts` calls it). A job carries that name and the export's, never a file URL.
   */
  modules?: Readonly<Record<string, WorkerModule<unknown>>>;
  /** Runs a job may take in all (a failure is retried until then; a cancelled job never is). Default 1. */
  attempts?: number;
  /** Delay before a retry: ms, or BullMQ's `{ type: "fixed" | "exponential", delay }`. Default none. */
  backoff?: number | { type: "fixed" | "exponential"; delay: number };
  /** Default per-job timeout in ms, counted from the job's start on its worker. Default none. */
  timeout?: number | null;
  /** How long a call (and a job out) waits for an unreachable Redis before failing. Default 10 000 ms. */
  connectTimeout?: number;
  /** A name shown in `util.inspect` and error messages. */
  name?: string;
  /** @internal How often jobs out are checked in their BullMQ hash (ms). Default 2 000. */
  _checkInterval?: number;
}

/**
 * Per-job options of {@link BullMQExecutor.submitWith}.
 * @example
 * ```ts
 * // not run: needs a Redis server and a worker serving queue "cpu" (tsaio worker ./jobs.ts --queue cpu)
 * import { BullMQExecutor, remoteModule } from "tsaio/bullmq";
 * const jobs = remoteModule<typeof import("./jobs.js")>("jobs");
 * await using pool = new BullMQExecutor({ queue: "cpu" });
 * const n = await pool.submitWith({ timeout: 5_000, priority: 1, attempts: 2 }, jobs.fns.countPrimes, 1e6);
 * console.log(n); // 78498
 * ```
 */
export interface BullMQJobOptions {
  /** Timeout in ms from the job's start on its worker (null: none). Default: the executor's. */
  timeout?: number | null;
  /** Aborting it cancels the job, like `future.cancel()`. */
  signal?: AbortSignal;
  /** BullMQ priority: 1 is the highest, 2 097 152 the lowest; none (the default) goes before all. */
  priority?: number;
  /** Runs the job may take in all. Default: the executor's. */
  attempts?: number;
  /** Delay before a retry. Default: the executor's. */
  backoff?: number | { type: "fixed" | "exponential"; delay: number };
}

/**
 * The error of a call or a job when Redis has not answered for `connectTimeout`.
 * @example
 * ```ts
 * import { BullMQConnectionError } from "tsaio/bullmq";
 * const e = new BullMQConnectionError("Redis at redis://127.0.0.1:6379 unreachable for 5000 ms");
 * console.log(e.name, e instanceof Error); // BullMQConnectionError true
 * ```
 */
export class BullMQConnectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BullMQConnectionError";
  }
}

/**
 * The Future of a job on a {@link BullMQExecutor}: an {@link ExecutorFuture} that also tells how many
 * runs the job took and where it ran.
 * @typeParam T - the job's result type.
 * @example
 * ```ts
 * // not run: needs a Redis server and a worker serving queue "cpu" (tsaio worker ./jobs.ts --queue cpu)
 * import { BullMQExecutor, remoteModule } from "tsaio/bullmq";
 * const jobs = remoteModule<typeof import("./jobs.js")>("jobs");
 * await using pool = new BullMQExecutor({ queue: "cpu" });
 * const fut = pool.submit(jobs.fns.countPrimes, 1e6);
 * console.log(await fut, fut.attempts, fut.worker); // e.g. 78498 1 host-2:4711/w1
 * ```
 */
export class BullMQFuture<T> extends ExecutorFuture<T> {
  /** @internal */ readonly _bullId: string;
  /** @internal */ _data: JobData | null = null;
  /** @internal */ _opts: JobsOptions | null = null;
  /** @internal */ _attempts = 0;
  /** @internal */ _worker: string | null = null;
  /** @internal Settled by the worker's outcome (not by a cancel or an error from here). */
  _byOutcome = false;
  /** @internal Its addBulk is in flight. */
  _adding = false;
  /** @internal A stop (remove or cancel message) is queued until Redis answers again. */
  _stopPending = false;
  /** @internal Seen finished (or gone) in its hash once with no outcome: the next check settles it. */
  _suspect = false;
  /** @internal When it was sent (performance.now()). */
  _sentAt = 0;

  /** @internal */
  constructor(...args: ConstructorParameters<typeof ExecutorFuture<T>>) {
    super(...args);
    this._bullId = "";
  }

  /** The BullMQ job id (as dashboards and `queue.getJob()` show it). */
  get queueJobId(): string {
    return this._bullId;
  }

  /** Runs the job took (1 normally; more after a retry or a worker that died mid-job); 0 until it ends. */
  get attempts(): number {
    return this._attempts;
  }

  /** The worker that ran it, `host:pid/name`; null until it ends (or if it never ran). */
  get worker(): string | null {
    return this._worker;
  }

  /** @internal */
  override _describe(o: DescribeOptions): string {
    let s = `<BullMQFuture ${this._stateText(o)} job=${this._bullId} ${this._fn.def.b}`;
    if (this._job === SENT) s += " sent";
    else if (this._job === QUEUED) s += " queued";
    if (this._attempts > 0) s += ` attempts=${this._attempts}`;
    if (this._worker !== null) s += ` worker=${this._worker}`;
    return s + ">";
  }
}

type Job = BullMQFuture<unknown>;
type Backoff = number | { type: "fixed" | "exponential"; delay: number };

const RUNNING = 0;
const SHUT_DOWN = 1;
const CLOSED = 2;

/** Jobs per addBulk call of a flush. */
const ADD_CHUNK = 500;
/** Outcomes popped per round trip. */
const POP_BATCH = 1000;
/** How long an outcome list lives after its last push, if its caller is gone (s). */
export const RESULT_TTL_S = 3600;

function checkBackoff(b: unknown, where: string): void {
  if (b === undefined) return;
  if (typeof b === "number") {
    checkMs(b, where, "backoff", false);
    return;
  }
  if (b === null || typeof b !== "object") throw new TypeError(`${where}: \`backoff\` must be a number of ms or { type, delay }, got ${describeValue(b)}`);
  const o = b as { type?: unknown; delay?: unknown };
  if (o.type !== "fixed" && o.type !== "exponential") throw new TypeError(`${where}: \`backoff.type\` must be "fixed" or "exponential", got ${describeValue(o.type)}`);
  checkMs(o.delay, where, "backoff.delay", false);
  if (o.delay === undefined) throw new TypeError(`${where}: \`backoff.delay\` is required`);
}

/**
 * An executor whose workers are BullMQ workers on any number of machines (`tsaio worker`, or
 * {@link runWorker}): `submit`, `submitWith`, `map`, `shutdown` and `await using` as on
 * `ThreadPoolExecutor`, with the same typed `workerModule` handles, so moving work off the machine
 * changes one line. Results and errors come back typed (an error keeps its name, message and stack);
 * cancelling a job's future (a cancelled task, `timeout()`, a failing task group, a signal) removes it
 * if it waits, and aborts it on whichever worker runs it. A job whose worker dies runs again on
 * another one (BullMQ's stalled-job recovery) and its future settles once; `future.attempts` counts
 * the runs. While Redis is unreachable every call and every job out fails after `connectTimeout`,
 * and the executor reconnects when Redis is back.
 *
 * Functions are named by a module name and an export, never by a file URL (see
 * {@link BullMQExecutorOptions.modules} and {@link remoteModule}); functions sent by source are refused
 * with a TypeError. Arguments and results travel through V8's serializer (structured clone's types).
 * Its Redis connections keep the process alive until `shutdown()` (or the end of an `await using`
 * scope). `running()` of its futures is true once the job is in the queue (it may be waiting there).
 * @example
 * ```ts
 * // not run: needs a Redis server and a worker: tsaio worker ./jobs.ts --queue cpu
 * import { gather, workerModule } from "tsaio";
 * import { BullMQExecutor } from "tsaio/bullmq";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new BullMQExecutor({ queue: "cpu", connection: "redis://127.0.0.1:6379" });
 * console.log(await gather([1e6, 2e6].map((n) => pool.submit(jobs.fns.countPrimes, n)))); // [ 78498, 148933 ]
 * ```
 */
export class BullMQExecutor implements AsyncDisposable {
  /** @internal */ readonly _name: string;
  /** @internal */ readonly _queueName: string;
  /** @internal */ readonly _prefix: string;
  /** @internal */ readonly _callerId = randomBytes(8).toString("hex");
  /** @internal */ readonly _connection: RedisConnection | undefined;
  /** @internal */ readonly _where: string;
  /** @internal */ readonly _client: Redis;
  /** @internal */ readonly _reader: Redis;
  /** @internal */ readonly _queue: Queue;
  /** @internal */ readonly _resultKey: string;
  /** @internal */ readonly _channel: string;
  /** @internal */ readonly _names = new Map<string, string>();
  /** @internal */ readonly _attempts: number;
  /** @internal */ readonly _backoff: Backoff | undefined;
  /** @internal */ readonly _timeout: number | null;
  /** @internal */ readonly _connectTimeout: number;
  /** @internal */ readonly _checkInterval: number;
  /** @internal Jobs sent (or being added) and not stopped, by BullMQ id. */
  readonly _pending = new Map<string, Job>();
  /** @internal Jobs submitted this tick, added together. */
  _batch: Job[] = [];
  /** @internal Jobs whose stop waits for Redis. */
  _stops: Job[] = [];
  /** @internal */ _seq = 0;
  /** @internal */ _state = RUNNING;
  /** @internal */ _reading = false;
  /** @internal Last time the main connection answered (performance.now()). */
  _lastHeard = performance.now();
  /** @internal When the jobs out were last failed for an outage. */
  _failedAt = 0;
  /** @internal */ _lastError: unknown = null;
  /** @internal */ _checkTimer: LongTimeout | null = null;
  /** @internal */ _checking = false;
  /** @internal */ _shutdownWaiters: (() => void)[] = [];
  /** @internal Futures submitted and not done yet. */
  _undone = 0;
  /** @internal Waiting for `_undone` to reach 0. */
  _settledWaiters: (() => void)[] = [];
  /** @internal */ _settledCount = 0;
  /** @internal */ readonly _owner: JobOwner;

  constructor(options: BullMQExecutorOptions) {
    const where = "BullMQExecutor";
    if (options === null || typeof options !== "object") throw new TypeError(`${where}: \`options\` must be an object with at least \`queue\`, got ${describeValue(options)}`);
    checkQueueName(options.queue, where);
    checkConnection(options.connection, where);
    if (options.prefix !== undefined && (typeof options.prefix !== "string" || options.prefix === "")) throw new TypeError(`${where}: \`prefix\` must be a non-empty string, got ${describeValue(options.prefix)}`);
    checkIntAtLeast(options.attempts, where, "attempts", 1);
    checkBackoff(options.backoff, where);
    checkMs(options.timeout, where, "timeout", true);
    checkMs(options.connectTimeout, where, "connectTimeout", false);
    checkMs(options._checkInterval, where, "_checkInterval", false);
    if (options.modules !== undefined) {
      if (options.modules === null || typeof options.modules !== "object") throw new TypeError(`${where}: \`modules\` must be an object { name: workerModule(…) }, got ${describeValue(options.modules)}`);
      for (const [name, mod] of Object.entries(options.modules)) {
        checkModuleName(name, `${where}: modules`);
        if (mod === null || typeof mod !== "object" || typeof (mod as { url?: unknown }).url !== "string") throw new TypeError(`${where}: \`modules.${name}\` must be a workerModule() handle, got ${describeValue(mod)}`);
        this._names.set(mod.url, name);
      }
    }
    this._name = options.name === undefined ? "BullMQExecutor" : String(options.name);
    this._queueName = options.queue;
    this._prefix = options.prefix ?? "bull";
    this._connection = options.connection;
    this._where = whereText(options.connection);
    this._attempts = options.attempts ?? 1;
    this._backoff = options.backoff;
    this._timeout = options.timeout ?? null;
    this._connectTimeout = options.connectTimeout ?? 10_000;
    this._checkInterval = options._checkInterval ?? 2_000;
    this._resultKey = resultKey(this._prefix, this._queueName, this._callerId);
    this._channel = cancelChannel(this._prefix, this._queueName);
    // Reconnect quickly and forever: a call's own deadline is what fails it, never ioredis.
    const retryStrategy = (times: number): number => Math.min(50 * times, 1_000);
    this._client = makeClient(options.connection, { maxRetriesPerRequest: null, retryStrategy, enableAutoPipelining: true, lazyConnect: false });
    this._reader = makeClient(options.connection, { maxRetriesPerRequest: null, retryStrategy, lazyConnect: false });
    const onError = (e: unknown): void => {
      this._lastError = e;
    };
    this._client.on("error", onError);
    this._reader.on("error", onError);
    this._client.on("ready", () => {
      this._lastHeard = performance.now();
      this._flushStops();
    });
    this._queue = new Queue(this._queueName, { connection: this._client, prefix: this._prefix });
    this._queue.on("error", onError);
    const pending = this._pending;
    this._owner = {
      jobSettled: (j) => {
        const job = j as Job;
        job._loop._nDetached--;
        this._settledCount++;
        if (--this._undone === 0 && this._settledWaiters.length > 0) {
          const ws = this._settledWaiters;
          this._settledWaiters = [];
          for (const w of ws) w();
        }
        if (job._job === STOPPED || job._adding) return; // (_adding: handled when its addBulk returns)
        if (job._byOutcome || job._job === QUEUED) {
          // Its outcome arrived, or it never left: nothing runs anywhere.
          this._stopped(job);
        } else this._stop(job, false);
        void pending;
      },
      forceStop: (j) => {
        const job = j as Job;
        if (job._job === SENT && !job._adding) this._stop(job, true);
      },
      isRunning: (j) => j._job === SENT,
      describeSlot: () => `on queue ${this._queueName}`,
    };
  }

  /** The queue's name. */
  get queue(): string {
    return this._queueName;
  }

  /**
   * Runs `fn(...args)` on a worker of the queue and returns the Future of its result. `fn` is a
   * worker function (`mod.fns.name` of a {@link workerModule} or {@link remoteModule} handle); a
   * function sent by source throws a TypeError (a worker never evaluates code it is sent). Arguments
   * are serialized here (structured clone's types): one that cannot be fails the future.
   * @example
   * ```ts
   * // not run: needs a Redis server and a worker on queue "cpu" (tsaio worker ./jobs.ts --queue cpu)
   * import { BullMQExecutor, remoteModule } from "tsaio/bullmq";
   * const jobs = remoteModule<typeof import("./jobs.js")>("jobs");
   * await using pool = new BullMQExecutor({ queue: "cpu" });
   * console.log(await pool.submit(jobs.fns.countPrimes, 1e6)); // 78498
   * ```
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): BullMQFuture<Awaited<R>> {
    return this._submit(fn, args, undefined, 0, "BullMQExecutor.submit") as BullMQFuture<Awaited<R>>;
  }

  /**
   * `submit` with per-job options: `timeout` (from the job's start on its worker), `signal`,
   * `priority`, `attempts`, `backoff`.
   * @example
   * ```ts
   * // not run: needs a Redis server and a worker on queue "cpu"
   * import { TimeoutError } from "tsaio";
   * import { BullMQExecutor, remoteModule } from "tsaio/bullmq";
   * const jobs = remoteModule<typeof import("./jobs.js")>("jobs");
   * await using pool = new BullMQExecutor({ queue: "cpu" });
   * try {
   *   console.log(await pool.submitWith({ timeout: 100 }, jobs.fns.spin, 60_000));
   * } catch (e) {
   *   console.log(e instanceof TimeoutError); // true
   * }
   * ```
   */
  submitWith<A extends unknown[], R>(options: BullMQJobOptions, fn: (...args: A) => R, ...args: A): BullMQFuture<Awaited<R>> {
    if (options === null || typeof options !== "object") throw new TypeError(`BullMQExecutor.submitWith: \`options\` must be an object, got ${describeValue(options)}`);
    return this._submit(fn, args, options, 0, "BullMQExecutor.submitWith") as BullMQFuture<Awaited<R>>;
  }

  /**
   * Runs `fn` over every item on the queue's workers and yields the results in input order (as
   * `Executor.map`): at most `buffersize` chunks out at once (default 256), `chunksize` items per job,
   * `timeout` for the whole iteration; leaving the loop early cancels the chunks still out.
   * @example
   * ```ts
   * // not run: needs a Redis server and a worker on queue "cpu"
   * import { BullMQExecutor, remoteModule } from "tsaio/bullmq";
   * const jobs = remoteModule<typeof import("./jobs.js")>("jobs");
   * await using pool = new BullMQExecutor({ queue: "cpu" });
   * const out: number[] = [];
   * for await (const n of pool.map(jobs.fns.countPrimes, [10, 100, 1000], { chunksize: 2 })) out.push(n);
   * console.log(out); // [ 4, 25, 168 ]
   * ```
   */
  map<T, R>(fn: (item: T) => R, items: Iterable<T> | AsyncIterable<T>, options?: ExecutorMapOptions): AsyncGenerator<Awaited<R>, void, undefined> {
    const where = "BullMQExecutor.map";
    this._nameOf(fn, where);
    checkItems(items, where, "`items` must be an iterable or async iterable");
    const { chunksize, buffersize, timeout } = mapSettings(options, 64);
    this._checkOpen();
    const deadline = timeout === null ? Infinity : performance.now() + timeout;
    const submitChunk = (chunk: unknown[]): ExecutorFuture<unknown> => this._submit(fn, [chunk], undefined, 1, where);
    return mapChunks(submitChunk, items, chunksize, buffersize, deadline, timeout) as AsyncGenerator<Awaited<R>, void, undefined>;
  }

  /**
   * Stops accepting jobs. `wait` (default true): resolve once every job submitted has ended, then
   * close the Redis connections. `cancelFutures`: cancel the jobs still out (waiting ones are removed,
   * running ones aborted on their workers). Calling it again is harmless.
   * @example
   * ```ts
   * // needs: redis
   * import { BullMQExecutor } from "tsaio/bullmq";
   * const pool = new BullMQExecutor({ queue: "cpu" });
   * await pool.shutdown({ cancelFutures: true });
   * console.log(pool); // e.g. <BullMQExecutor closed queue=cpu out=0 settled=0 at=redis://127.0.0.1:6379>
   * ```
   */
  async shutdown(options?: ShutdownOptions): Promise<void> {
    checkOptions(options, "BullMQExecutor.shutdown");
    const wait = options?.wait ?? true;
    if (this._state === RUNNING) this._state = SHUT_DOWN;
    if (options?.cancelFutures === true) {
      for (const j of [...this._batch, ...this._pending.values()]) j.cancel("executor shut down");
    }
    if (this._state === CLOSED) return;
    if (!wait) {
      void this._waitIdle().then(() => this._close());
      return;
    }
    await this._waitIdle();
    await this._close();
  }

  /** `await using pool = new BullMQExecutor(…)`: shuts down and waits at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown({ wait: true });
  }

  /** @internal Its describer: state, queue, jobs out. */
  _describe(_o: DescribeOptions): string {
    const state = this._state === RUNNING ? "" : this._state === SHUT_DOWN ? " shutdown" : " closed";
    const name = this._name === "BullMQExecutor" ? "" : ` name=${JSON.stringify(this._name)}`;
    const redis = this._client.status === "ready" ? "" : ` redis=${this._client.status}`;
    return `<BullMQExecutor${state}${name} queue=${this._queueName} out=${this._pending.size + this._batch.length} settled=${this._settledCount}${redis} at=${this._where}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }

  // ---------------------------------------------------------------------------------- internals

  /** @internal */
  _checkOpen(): void {
    if (this._state !== RUNNING) throw new InvalidStateError(`${this._name} is shut down: cannot submit new jobs after shutdown()`);
  }

  /** @internal The module name a job carries for `fn`'s module; throws TypeError for what cannot be named. */
  _nameOf(fn: unknown, where: string): { entry: FnEntry; module: string } {
    const entry = fnEntry(fn, where);
    if (entry.def.kind !== 0) {
      throw new TypeError(
        `${where}: ${entry.def.b} is a function sent by source; a BullMQ worker runs only the exports of the modules it was started with. Export it from a module and use workerModule() or remoteModule().`,
      );
    }
    const url = entry.def.a;
    const named = this._names.get(url);
    if (named !== undefined) return { entry, module: named };
    if (url.startsWith(SCHEME)) return { entry, module: decodeURIComponent(url.slice(SCHEME.length)) };
    if (url.startsWith("file:")) {
      const base = basename(new URL(url).pathname).replace(/\.(js|mjs|cjs|ts|mts|cts|tsx|jsx)$/, "");
      return { entry, module: decodeURIComponent(base) };
    }
    throw new TypeError(`${where}: cannot name module ${url} for a worker; list it in the \`modules\` option or use remoteModule(name)`);
  }

  /** @internal */
  _submit(fn: unknown, args: unknown[], options: BullMQJobOptions | undefined, chunk: 0 | 1, where: string): Job {
    const { entry, module } = this._nameOf(fn, where);
    this._checkOpen();
    let timeout = this._timeout;
    let priority: number | undefined;
    let attempts = this._attempts;
    let backoff = this._backoff;
    if (options !== undefined) {
      if (options.timeout !== undefined) {
        checkMs(options.timeout, where, "timeout", true);
        timeout = options.timeout;
      }
      checkSignal(options.signal, where);
      if (options.priority !== undefined) {
        checkIntAtLeast(options.priority, where, "priority", 0);
        if (options.priority > 2_097_152) throw new RangeError(`${where}: \`priority\` must be <= 2097152, got ${options.priority}`);
        priority = options.priority;
      }
      if (options.attempts !== undefined) {
        checkIntAtLeast(options.attempts, where, "attempts", 1);
        attempts = options.attempts;
      }
      if (options.backoff !== undefined) {
        checkBackoff(options.backoff, where);
        backoff = options.backoff;
      }
    }
    const loop = runningLoop();
    const seq = ++this._seq;
    const job = new BullMQFuture<unknown>(loop, this._owner, seq, entry, [], timeout, chunk);
    (job as { _bullId: string })._bullId = `${this._callerId}-${seq}`;
    this._undone++;
    loop._nDetached++; // out on the fleet: run()'s deadlock detection must not give up on its awaiters
    let a: string;
    try {
      a = encodeValue(args);
    } catch (e) {
      job._markStopped();
      job.setException(new TypeError(`${where}: ${entry.def.b}: an argument cannot be sent to a worker: ${(e as Error).message}`, { cause: e }));
      return job;
    }
    const signal = options?.signal;
    if (signal?.aborted === true) {
      job._markStopped();
      job.cancel(abortMessage(signal));
      return job;
    }
    job._data = { v: 1, m: module, f: entry.def.b, a, r: this._callerId, t: timeout, c: chunk };
    const opts: JobsOptions = {
      jobId: job._bullId,
      attempts,
      removeOnComplete: { age: RESULT_TTL_S },
      removeOnFail: { age: 24 * RESULT_TTL_S },
    };
    if (priority !== undefined && priority > 0) opts.priority = priority;
    if (backoff !== undefined) opts.backoff = backoff;
    job._opts = opts;
    if (signal !== undefined) cancelOnAbort(job, signal);
    if (this._batch.length === 0) queueMicrotask(() => void this._flush());
    this._batch.push(job);
    return job;
  }

  /** @internal Adds this tick's jobs in one addBulk. */
  async _flush(): Promise<void> {
    const jobs = this._batch.filter((j) => !j.done());
    for (const j of this._batch) if (j.done() && j._job === QUEUED) j._markStopped();
    this._batch = [];
    if (jobs.length === 0) return;
    const deadline = performance.now() + this._connectTimeout;
    for (const j of jobs) {
      j._adding = true;
      this._pending.set(j._bullId, j);
    }
    this._ensureReading();
    this._armCheck();
    // In chunks, all sent at once: each chunk that returns shows Redis is alive, however long the burst takes.
    const add = this._ready(deadline, "submit").then(() => {
      const parts: Promise<unknown>[] = [];
      for (let i = 0; i < jobs.length; i += ADD_CHUNK) {
        const part = jobs.slice(i, i + ADD_CHUNK).map((j) => ({ name: `${(j._data as JobData).m}.${(j._data as JobData).f}`, data: j._data, opts: j._opts as JobsOptions }));
        parts.push(this._queue.addBulk(part).then(() => this._heard()));
      }
      return Promise.all(parts);
    });
    let failure: unknown = null;
    try {
      await this._within(add, deadline, "submit");
    } catch (e) {
      failure = e;
    }
    const now = performance.now();
    for (const j of jobs) {
      j._adding = false;
      j._job = SENT;
      j._sentAt = now;
      j._data = null;
      j._opts = null;
      if (failure !== null && !j.done()) j.setException(this._callError(failure, "submit"));
      else if (j.done() && !j._byOutcome) this._stop(j, false);
    }
    if (failure !== null) {
      // The addBulk may still land once Redis is back: remove what it adds.
      add.then(
        () => {
          for (const j of jobs) if (j._job !== STOPPED) this._stop(j, false);
        },
        () => {
          for (const j of jobs) if (j._job !== STOPPED) this._stopped(j);
        },
      );
    }
  }

  /** @internal Resolves once the main connection is ready, or rejects at `deadline`. */
  _ready(deadline: number, what: string): Promise<void> {
    if (this._client.status === "ready") return Promise.resolve();
    if (this._state === CLOSED) return Promise.reject(new InvalidStateError(`${this._name} is closed`));
    return new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        timer.cancel();
        resolve();
      };
      const timer = new LongTimeout(
        () => {
          this._client.off("ready", onReady);
          reject(this._callError(null, what));
        },
        Math.max(0, deadline - performance.now()),
        true,
      );
      this._client.once("ready", onReady);
    });
  }

  /**
   * @internal `p`, or a BullMQConnectionError once Redis has given no answer for `connectTimeout`
   * since `deadline - connectTimeout` (the call's start): a busy Redis that keeps answering other
   * commands (a big addBulk, chunk by chunk) is slow, not gone.
   */
  _within<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: LongTimeout;
      const arm = (): void => {
        const until = Math.max(deadline, this._lastHeard + this._connectTimeout);
        timer = new LongTimeout(
          () => {
            if (this._lastHeard + this._connectTimeout > performance.now() + 1) arm();
            else reject(this._callError(null, what));
          },
          Math.max(0, until - performance.now()),
          true,
        );
      };
      arm();
      p.then(
        (v) => {
          timer.cancel();
          this._heard();
          resolve(v);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e);
        },
      );
    });
  }

  /** @internal Redis answered something. */
  _heard(): void {
    this._lastHeard = performance.now();
  }

  /** @internal */
  _callError(cause: unknown, what: string): Error {
    if (cause instanceof Error && !/connect|closed|ECONN|ETIMEDOUT|EPIPE|stream/i.test(cause.message)) return cause;
    const last = this._lastError instanceof Error ? ` (last error: ${this._lastError.message})` : "";
    return new BullMQConnectionError(`${this._name}.${what}: Redis at ${this._where} did not answer within ${this._connectTimeout} ms${last}`, { cause: cause ?? this._lastError ?? undefined });
  }

  /** @internal The job left every queue and worker. */
  _stopped(job: Job): void {
    job._markStopped();
    this._pending.delete(job._bullId);
    this._checkIdle();
  }

  /** @internal Removes `job` if it waits; else asks its worker to cancel it. Queued for later while Redis is away. */
  _stop(job: Job, force: boolean): void {
    if (job._stopPending) return;
    if (this._state === CLOSED) {
      this._stopped(job);
      return;
    }
    if (this._client.status !== "ready") {
      job._stopPending = true;
      this._stops.push(job);
      return;
    }
    const deadline = performance.now() + this._connectTimeout;
    const msg = job.cancelled() ? "cancelled by its caller" : "its future ended";
    this._within(this._queue.remove(job._bullId), deadline, "cancel").then(
      (removed) => {
        if (removed === 1) {
          this._stopped(job);
          return;
        }
        // Held by a worker (or already over): tell the workers; its outcome message ends it here.
        return this._within(this._client.publish(this._channel, `${job._bullId}\n${force ? 1 : 0}\n${msg}`), deadline, "cancel").then(() => {
          job._suspect = false;
        });
      },
      () => {
        if (job._job === STOPPED) return;
        job._stopPending = true;
        this._stops.push(job);
      },
    ).catch(() => {
      if (job._job === STOPPED) return;
      job._stopPending = true;
      this._stops.push(job);
    });
  }

  /** @internal Redis is back: the stops that waited for it. */
  _flushStops(): void {
    const stops = this._stops;
    this._stops = [];
    for (const j of stops) {
      j._stopPending = false;
      if (j._job !== STOPPED) this._stop(j, j._force);
    }
  }

  /** @internal Starts the loop that pops outcomes, unless it runs. */
  _ensureReading(): void {
    if (this._reading) return;
    this._reading = true;
    void this._readLoop();
  }

  /** @internal Pops outcomes in batches while jobs are out. */
  async _readLoop(): Promise<void> {
    try {
      while (this._state !== CLOSED && this._pending.size > 0) {
        let r: unknown;
        try {
          r = await this._reader.call("BLMPOP", "1", "1", this._resultKey, "LEFT", "COUNT", String(POP_BATCH));
        } catch (e) {
          if (this._state === CLOSED) return;
          this._lastError = e;
          await new Promise((res) => setTimeout(res, 100).unref());
          continue;
        }
        this._heard();
        if (r === null || !Array.isArray(r)) continue;
        for (const m of r[1] as string[]) this._onOutcome(m);
      }
    } finally {
      this._reading = false;
      if (this._state !== CLOSED && this._pending.size > 0) this._ensureReading();
    }
  }

  /** @internal One outcome message from a worker. */
  _onOutcome(text: string): void {
    let o: Outcome;
    try {
      o = JSON.parse(text) as Outcome;
    } catch {
      return; // not ours: nothing else writes this key
    }
    const job = this._pending.get(o.id);
    if (job === undefined) return; // a second outcome (a job that ran twice): the first one counted
    job._attempts = o.n;
    job._worker = o.w;
    job._byOutcome = true;
    if (job.done()) {
      this._stopped(job);
      return;
    }
    try {
      if (o.k === K_OK) job.setResult(decodeValue(o.p));
      else if (o.k === K_CANCELLED) job.cancel(`cancelled on worker ${o.w}`);
      else job.setException(decodeErrorValue(o.p));
    } catch (e) {
      if (!job.done()) job.setException(new Error(`${this._name}: cannot read the outcome of job ${o.id}: ${(e as Error).message}`, { cause: e }));
    }
  }

  /** @internal Arms the health check and the fallback look at the jobs out. */
  _armCheck(): void {
    if (this._checkTimer !== null || this._state === CLOSED) return;
    const every = Math.min(this._checkInterval, Math.max(100, this._connectTimeout / 4));
    this._checkTimer = new LongTimeout(() => {
      this._checkTimer = null;
      void this._check().finally(() => {
        if (this._pending.size > 0 || this._stops.length > 0) this._armCheck();
      });
    }, every, true);
  }

  /** @internal PINGs Redis (failing the jobs out when it has been away for `connectTimeout`) and looks at old jobs. */
  async _check(): Promise<void> {
    if (this._checking || this._state === CLOSED) return;
    this._checking = true;
    try {
      const now = performance.now();
      if (now - Math.max(this._lastHeard, this._failedAt) > this._connectTimeout) {
        this._failedAt = now; // one failure per outage window
        const err = this._callError(null, "job");
        for (const j of [...this._pending.values()]) if (!j.done() && !j._adding) j.setException(err);
        // A connection that looks fine but gets no answer (a dead peer) must start over.
        if (this._client.status === "ready") this._client.disconnect(true);
        if (this._reader.status === "ready") this._reader.disconnect(true);
        return;
      }
      if (this._client.status !== "ready") return;
      const deadline = now + this._connectTimeout;
      await this._within(this._client.ping(), deadline, "ping");
      await this._lookAtOldJobs(deadline);
    } catch {
      // an unreachable Redis: the next check counts the time
    } finally {
      this._checking = false;
    }
  }

  /** @internal The fallback: jobs out for a while whose hash says they ended (or are gone) without an outcome. */
  async _lookAtOldJobs(deadline: number): Promise<void> {
    const now = performance.now();
    const old: Job[] = [];
    for (const j of this._pending.values()) {
      if (j._job === SENT && !j._adding && !j._stopPending && now - j._sentAt >= this._checkInterval) old.push(j);
      if (old.length >= 500) break;
    }
    if (old.length === 0) return;
    const p = this._client.pipeline();
    p.llen(this._resultKey);
    for (const j of old) p.hmget(`${this._prefix}:${this._queueName}:${j._bullId}`, "finishedOn", "failedReason", "returnvalue", "ats", "stacktrace", "timestamp");
    const res = (await this._within(p.exec(), deadline, "check")) ?? [];
    const backlog = Number(res[0]?.[1] ?? 0);
    for (let i = 0; i < old.length; i++) {
      const j = old[i];
      if (j._job === STOPPED) continue;
      const [finishedOn, failedReason, returnvalue, ats, stacktrace, timestamp] = (res[i + 1]?.[1] ?? []) as (string | null)[];
      const gone = timestamp === null; // every job hash has it, from its add on
      if (!gone && finishedOn === null) {
        j._suspect = false;
        continue;
      }
      // Its outcome may be in the list, not popped yet: settle only on a second look with an empty list.
      if (!j._suspect || backlog > 0) {
        j._suspect = true;
        continue;
      }
      j._byOutcome = true;
      j._attempts = Number(ats ?? 0);
      if (j.done()) this._stopped(j);
      else if (gone) j.setException(new Error(`${this._name}: job ${j._bullId} (${j._fn.def.b}) was removed from queue ${this._queueName} before it ended`));
      else if (failedReason !== null) {
        const e = new Error(failedReason);
        try {
          const st = JSON.parse(stacktrace ?? "[]") as string[];
          if (st.length > 0) e.stack = st[st.length - 1];
        } catch {
          // no stack then
        }
        j.setException(e);
      } else {
        try {
          j.setResult(decodeValue(JSON.parse(returnvalue ?? '""') as string));
        } catch (e) {
          j.setException(new Error(`${this._name}: cannot read the result of job ${j._bullId}: ${(e as Error).message}`, { cause: e }));
        }
      }
    }
  }

  /** @internal */
  _checkIdle(): void {
    if (this._pending.size > 0 || this._batch.length > 0) return;
    const ws = this._shutdownWaiters;
    this._shutdownWaiters = [];
    for (const w of ws) w();
  }

  /**
   * @internal Resolves once every future has ended and every job has stopped — except that a job
   * whose stop still waits (for Redis to come back, or for its worker's word) is waited for at most
   * `connectTimeout` + two checks: shutdown never hangs on an unreachable Redis.
   */
  async _waitIdle(): Promise<void> {
    if (this._undone > 0) await new Promise<void>((resolve) => this._settledWaiters.push(resolve));
    if (this._pending.size === 0 && this._batch.length === 0) return;
    await new Promise<void>((resolve) => {
      const timer = new LongTimeout(resolve, this._connectTimeout + 2 * this._checkInterval);
      this._shutdownWaiters.push(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  /** @internal Closes the connections. */
  async _close(): Promise<void> {
    if (this._state === CLOSED) return;
    this._state = CLOSED;
    this._checkTimer?.cancel();
    this._checkTimer = null;
    this._reader.disconnect();
    try {
      await this._queue.close();
    } catch {
      // closing a connection that is down: nothing left to release
    }
    this._client.disconnect();
  }
}
