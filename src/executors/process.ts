/**
 * ProcessPoolExecutor: the pool on child processes (`node -e <bootstrap>` with an IPC channel using
 * the structured-clone serializer). Each process holds one job at a time and reports when it starts
 * it, so a crash is always blamed on the right job.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { TransferListItem } from "node:worker_threads";
import { BOOTSTRAP, tsxApiUrl, WORKER_ENTRY } from "./bootstrap.js";
import type { ExecutorFuture } from "./future.js";
import type { ExecutorOptions, Settings } from "./options.js";
import { defaultProcessWorkers, Executor } from "./pool.js";
import type { WorkerInit } from "./protocol.js";
import { WorkerSlot, type SlotInit } from "./slot.js";

type Job = ExecutorFuture<unknown>;

/** Options of the parent that make no sense in a worker process (they would run tests, watch, debug, eval…). */
const DROP = /^(--test|--experimental-test|--watch|--inspect|--debug|--eval$|-e$|--print$|-p$|--input-type|--interactive$|-i$|--check$|-c$|--experimental-default-type)/;
const TAKES_VALUE = new Set(["--test-reporter", "--test-reporter-destination", "--test-name-pattern", "--test-skip-pattern", "--test-concurrency", "--test-timeout", "--test-shard", "--watch-path", "--inspect-port", "--eval", "-e", "--print", "-p", "--input-type"]);

/** @internal `src` (the parent's `execArgv`) minus the options that must not reach a child. */
export function inheritableExecArgv(src: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < src.length; i++) {
    const a = src[i];
    if (DROP.test(a)) {
      if (TAKES_VALUE.has(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function childExecArgv(settings: Settings): string[] {
  const out = inheritableExecArgv(settings.execArgv ?? process.execArgv);
  const rl = settings.resourceLimits;
  if (rl !== undefined) {
    if (rl.maxOldGenerationSizeMb !== undefined) out.push(`--max-old-space-size=${Math.max(1, Math.round(rl.maxOldGenerationSizeMb))}`);
    if (rl.maxYoungGenerationSizeMb !== undefined) out.push(`--max-semi-space-size=${Math.max(1, Math.round(rl.maxYoungGenerationSizeMb / 3))}`);
    if (rl.stackSizeMb !== undefined) out.push(`--stack-size=${Math.max(64, Math.round(rl.stackSizeMb * 1024))}`);
  }
  return out;
}

/**
 * One worker process. It holds one job at a time, which may start the moment it is sent (so it
 * counts as running from then on, and is never vetoed); its start notice tells the pool when the
 * job's timeout starts.
 */
class ProcessSlot extends WorkerSlot {
  readonly pipelined = false;
  private readonly _child: ChildProcess;
  private _refd = true;

  constructor({ id, settings, events }: SlotInit) {
    super(id);
    const init: WorkerInit = {
      kind: "process",
      entry: WORKER_ENTRY,
      tsxApi: tsxApiUrl(),
      initializer: settings.initializer,
      initargs: settings.initargs,
      maxHeapUsed: settings.maxHeapUsed,
      parentPid: process.pid,
    };
    const child = spawn(process.execPath, [...childExecArgv(settings), "-e", BOOTSTRAP], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
      windowsHide: true,
    });
    this._child = child;
    child.on("message", (m: unknown) => {
      events.message(this, m);
      events.reportsDone(this);
    });
    child.on("error", (e: unknown) => {
      // spawn failure, or a send on a closed channel: the 'exit' (or its absence) tells the rest.
      if (this.crashError === undefined && child.pid === undefined) this.crashError = e;
    });
    // IPC messages are delivered before 'exit': nothing is left to report first.
    child.on("exit", (code, signal) => events.exited(this, code, signal));
    if (child.pid === undefined) {
      // Could not spawn at all: 'error' then 'exit'-less; report it as an exit.
      child.once("error", () => events.exited(this, null, null));
    }
    try {
      child.send(init);
    } catch {
      /* the exit handler reports it */
    }
    this.setRef(false);
  }

  describe(): string {
    return `process worker #${this.id}${this._child.pid === undefined ? "" : ` (pid ${this._child.pid})`}`;
  }

  post(batch: unknown[], _transfer: TransferListItem[]): void {
    if (!this._child.connected) return; // dying: its exit re-queues the jobs
    this._child.send(batch);
  }

  terminate(graceful: boolean): void {
    if (graceful && this._child.connected) this._child.disconnect();
    else this._child.kill("SIGKILL");
  }

  runningSeq(): number {
    // Its one job may start the moment it arrives: once the worker is up, the job it holds is the
    // one running (a crash is blamed on it). Before that, jobs wait in the bootstrap's buffer.
    if (!this.ready || this.inflight.size === 0) return 0;
    return this.inflight.values()[0]._seq;
  }

  isRunning(job: Job): boolean {
    return this.inflight.get(job._seq) === job;
  }

  doom(job: Job): boolean {
    // Its only job: killing the process kills that job and nothing else, started or about to start.
    if (this.inflight.get(job._seq) !== job) return false;
    this.doomedSeq = job._seq;
    this.accepting = false;
    return true;
  }

  veto(_job: Job): boolean {
    return false; // sent means it may have started
  }

  setRef(on: boolean): void {
    if (on === this._refd) return;
    this._refd = on;
    const ch = this._child.channel;
    if (on) {
      this._child.ref();
      ch?.ref();
    } else {
      this._child.unref();
      ch?.unref();
    }
  }
}

/**
 * A pool of child processes (concurrent.futures' `ProcessPoolExecutor`): full isolation — a job may
 * crash, leak or call `process.exit` without touching the parent — at the cost of a process per
 * worker and copies of every argument and result (no `SharedArrayBuffer`, transfers are copies).
 * Same API and options as {@link ThreadPoolExecutor} (the table on {@link ExecutorOptions});
 * `maxWorkers` defaults to the number of CPUs. A worker process dies within a second of losing its
 * parent (even in a synchronous loop), so a killed parent leaves no orphan behind.
 * Arguments and results use the structured-clone serializer (Map, Set, Date, typed arrays, Errors…).
 * @example
 * ```ts
 * import { ProcessPoolExecutor, workerModule } from "tsaio";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 2, timeout: 10_000 });
 * console.log(await pool.submit(jobs.fns.countPrimes, 1_000_000)); // 78498
 * ```
 */
export class ProcessPoolExecutor extends Executor {
  constructor(options?: ExecutorOptions) {
    super("ProcessPoolExecutor", options, defaultProcessWorkers());
  }

  /** @internal */
  protected _spawn(init: SlotInit): WorkerSlot {
    return new ProcessSlot(init);
  }
}
