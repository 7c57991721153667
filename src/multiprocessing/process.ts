/**
 * `Process`: Python's `multiprocessing.Process` — one function run in a child process of its own.
 *
 * The child starts from the executors' bootstrap (`node -e`, an IPC channel with the
 * structured-clone serializer) and imports only the child entry (`child.ts`) and the target's
 * module: never the parent's main module, so a program that starts processes at its top level
 * does not start them again in every child. The target is named as the executors name work: an
 * export of a worker module (`workerModule(...).fns.work`) or a self-contained function sent by
 * source.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import { CancelledError, InvalidStateError } from "../errors.js";
import { BOOTSTRAP, tsxApiUrl } from "../executors/bootstrap.js";
import { inheritableExecArgv } from "../executors/process.js";
import { checkEntry, fnEntry, type WorkerFunction } from "../executors/functions.js";
import { refuseWhileImportingJob } from "../executors/options.js";
import { abortMessage, cancelOnAbort, throwAtCall, WaiterFuture } from "../futures.js";
import { type DescribeOptions, FULL } from "../internal/describe.js";
import { describe } from "../internal/validate.js";
import type { ChildInit } from "./child.js";
import { toProcess } from "./revive.js";

const HERE = import.meta.url;
/** URL of the child entry: `child.ts` when tsaio runs from source, `child.js` in dist/. */
const CHILD_ENTRY = new URL(/\.[cm]?tsx?$/.test(new URL(HERE).pathname) ? "./child.ts" : "./child.js", HERE).href;

/** @internal The parent's `execArgv` minus what must not reach a child (as the process pools pass it on). */
export function childExecArgv(): string[] {
  return inheritableExecArgv(process.execArgv);
}

/**
 * @internal Spawns a tsaio child process running module `entry` with `init` (plus the bootstrap's
 * fields); used by {@link Process} and the Manager's server.
 */
export function spawnChild(entry: string, init: Record<string, unknown>): ChildProcess {
  const child = spawn(process.execPath, [...childExecArgv(), "-e", BOOTSTRAP], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
    windowsHide: true,
  });
  try {
    child.send({ kind: "process", entry, tsxApi: tsxApiUrl(), parentPid: process.pid, ...init });
  } catch {
    /* the child died at once: its 'exit' tells */
  }
  return child;
}

/**
 * @internal Refuses to start a process from a worker (or a Process's child) that is importing the
 * module of its job or target: that module starts processes at its top level, as a main module
 * does, and every child would start children of its own without end (Python's "an attempt has been
 * made to start a new process before the current process has finished its bootstrapping phase").
 */
export function checkNotBootstrapping(what: string): void {
  refuseWhileImportingJob(what);
}

/** `[]`-accepting targets may leave `args` out; any other target must be given its arguments. */
type ArgsOption<A extends unknown[]> = [] extends A ? { readonly args?: A } : { readonly args: A };

/**
 * Options of {@link Process}.
 * @typeParam A - the target's parameter types: `args` must match them.
 * @example
 * ```ts
 * import { workerModule } from "tsaio";
 * import type { ProcessOptions } from "tsaio/multiprocessing";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * const options: ProcessOptions<[limit: number]> = { target: jobs.fns.countPrimes, args: [1_000], name: "primes", daemon: true };
 * console.log(options.name); // primes
 * ```
 */
export type ProcessOptions<A extends unknown[]> = {
  /**
   * The function the child runs: an export of a worker module (`workerModule(url).fns.work`), or a
   * self-contained function (sent by source, as the executors do). It may be async: the child
   * awaits it.
   */
  readonly target: WorkerFunction<A, unknown> | ((...args: A) => unknown);
  /** A name for messages and `util.inspect` (default `Process-<n>`). */
  readonly name?: string;
  /**
   * Python's `daemon`: true lets the parent's program end while this child runs (the child is then
   * killed with it); false (the default) keeps the parent's program alive until the child exits, as
   * Python joins its non-daemon children at exit. Either way a child never outlives its parent.
   */
  readonly daemon?: boolean;
} & ArgsOption<A>;

/**
 * Options of {@link Process.join}.
 * @example
 * ```ts
 * import type { JoinOptions } from "tsaio/multiprocessing";
 * const options: JoinOptions = { timeout: 5_000, signal: AbortSignal.timeout(10_000) };
 * console.log(options.timeout); // 5000
 * ```
 */
export interface JoinOptions {
  /** Give up waiting after this many ms (real time; `join` then returns null and the child runs on). */
  timeout?: number | null;
  /** Aborting it cancels the wait (the child runs on). */
  signal?: AbortSignal;
}

let counter = 0;

const signalNumbers = osConstants.signals as Record<string, number | undefined>;

function timeUp(f: WaiterFuture<void>): void {
  if (!f.done()) f.setResult(undefined);
}

type State = "initial" | "started" | "stopped" | "closed";

/**
 * A function run in a child process: Python's `multiprocessing.Process`. Give it a target — an export
 * of a worker module, typed so that `args` must match its parameters — then `start()` it and
 * `await join()`. The child imports the target's module, not your main module (no recursive
 * start-up), runs the target (awaiting it if it is async) and exits: `exitCode` is then 0, or 1 if
 * the target threw (the error is printed on the child's stderr, as Python prints its traceback), or
 * `-N` if signal N ended it (`terminate()`: -15, `kill()`: -9), or what the target gave
 * `process.exit()`. Work the target leaves behind without awaiting it (a timer, a server) ends with
 * the child.
 *
 * Arguments are structured-cloned. Connections, Queues and Manager proxies arrive in the child as
 * working objects; tsaio/threading primitives (shared memory) are refused with a TypeError.
 *
 * A child never outlives its parent: it exits when its parent's process ends, even killed with
 * SIGKILL and even in a synchronous loop (a watchdog thread in the child checks its parent, as the
 * process pool's workers do). `daemon: true` only decides whether a running child keeps the parent's
 * program alive. `await using` kills a child still running when the scope ends and waits for it.
 * @typeParam A - the target's parameter types.
 * @example
 * ```ts
 * import { workerModule } from "tsaio";
 * import { Process } from "tsaio/multiprocessing";
 * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
 * await using p = new Process({ target: jobs.fns.countPrimes, args: [1_000] });
 * p.start();
 * console.log(await p.join(), p.exitCode, p.isAlive()); // 0 0 false
 * ```
 */
export class Process<A extends unknown[] = unknown[]> implements AsyncDisposable {
  /** The process's name (`Process-<n>` unless given). */
  readonly name: string;
  /** Whether the child lets the parent's program end while it runs (see {@link ProcessOptions.daemon}). */
  readonly daemon: boolean;
  /** @internal */ private readonly _def: { kind: 0 | 1; a: string; b: string };
  /** @internal */ private readonly _label: string;
  /** @internal */ private readonly _args: unknown[];
  /** @internal */ private _child: ChildProcess | null = null;
  /** @internal */ private _state: State = "initial";
  /** @internal */ private _exitCode: number | null = null;
  /** @internal */ private _spawnError: unknown = undefined;
  /** @internal */ private readonly _joiners = new Set<WaiterFuture<void>>();

  constructor(options: ProcessOptions<A>) {
    if (options === null || typeof options !== "object") throw new TypeError(`Process: \`options\` must be an object with a \`target\`, got ${describe(options)}`);
    if (typeof options.target !== "function") {
      throw new TypeError(`Process: \`target\` must be a worker function (from workerModule()) or a self-contained function, got ${describe(options.target)}`);
    }
    const entry = fnEntry(options.target, "Process");
    const problem = checkEntry(entry);
    if (problem !== null) throw problem;
    const args: unknown = options.args ?? [];
    if (!Array.isArray(args)) throw new TypeError(`Process: \`args\` must be an array, got ${describe(args)}`);
    const name = options.name ?? `Process-${++counter}`;
    if (typeof name !== "string") throw new TypeError(`Process: \`name\` must be a string, got ${describe(name)}`);
    const daemon = options.daemon ?? false;
    if (typeof daemon !== "boolean") throw new TypeError(`Process: \`daemon\` must be a boolean, got ${describe(daemon)}`);
    this.name = name;
    this.daemon = daemon;
    this._def = entry.def;
    this._label = entry.label;
    this._args = args;
  }

  /** The child's process id: null before `start()`. */
  get pid(): number | null {
    return this._child?.pid ?? null;
  }

  /**
   * The child's exit status: null before it is started and while it runs; 0 when the target
   * returned; 1 when it threw; `-N` when signal N ended the child (Python's convention).
   */
  get exitCode(): number | null {
    return this._exitCode;
  }

  /**
   * Starts the child. Its arguments are cloned now: an argument that cannot be cloned, or a
   * tsaio/threading primitive, throws here (TypeError/DataCloneError) and nothing starts. A process
   * starts once.
   * @example
   * ```ts
   * import { workerModule } from "tsaio";
   * import { Process } from "tsaio/multiprocessing";
   * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
   * const p = new Process({ target: jobs.fns.hash, args: ["abc"], name: "hasher" });
   * p.start();
   * console.log(typeof p.pid, p.isAlive()); // number true
   * await p.join();
   * ```
   */
  start(): void {
    this._checkOpen("start");
    checkNotBootstrapping("Process.start()");
    if (this._state !== "initial") throw new InvalidStateError(`Process.start: ${this.name} was started already (a process can only be started once)`);
    const args = toProcess(this._args, "Process.start") as unknown[];
    // Clone once here, so that an argument that cannot cross fails at start() with its reason, not in the child.
    try {
      structuredClone(args);
    } catch (e) {
      throw new TypeError(`Process.start: the arguments of ${this.name} cannot be sent to a process (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
    const init: Omit<ChildInit, "kind" | "entry" | "tsxApi" | "parentPid"> = { target: this._def, label: this._label, args, name: this.name };
    const child = spawnChild(CHILD_ENTRY, init as unknown as Record<string, unknown>);
    this._child = child;
    this._state = "started";
    child.on("error", (e: unknown) => {
      if (child.pid === undefined && this._spawnError === undefined) {
        this._spawnError = e;
        this._exited(null, null);
      }
    });
    child.on("exit", (code, signal) => this._exited(code, signal));
    if (this.daemon) {
      child.unref();
      child.channel?.unref();
    }
  }

  /** @internal */
  private _exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this._exitCode !== null) return;
    this._exitCode = code ?? (signal === null ? 1 : -(signalNumbers[signal] ?? 1));
    if (this._state === "started") this._state = "stopped";
    for (const f of this._joiners) if (!f.done()) f.setResult(undefined);
    this._joiners.clear();
  }

  /** Whether the child was started and has not exited yet. */
  isAlive(): boolean {
    this._checkOpen("isAlive");
    return this._state === "started" && this._exitCode === null;
  }

  /**
   * Waits for the child to exit and returns its {@link exitCode}; with a timeout (a number of ms, or
   * `{ timeout }`) returns null if the child still runs then. A tsaio cancellation point: a cancelled
   * (or aborted) join raises `CancelledError` and leaves the child running, as Python's join does.
   * @example
   * ```ts
   * import { workerModule } from "tsaio";
   * import { Process } from "tsaio/multiprocessing";
   * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
   * const p = new Process({ target: jobs.fns.spin, args: [60_000] });
   * p.start();
   * console.log(await p.join(50)); // null
   * p.terminate();
   * console.log(await p.join()); // -15
   * ```
   */
  join(options?: number | JoinOptions | null): Promise<number | null> {
    let ms: number | null = null;
    let signal: AbortSignal | undefined;
    if (typeof options === "number") ms = options;
    else if (options !== undefined && options !== null) {
      if (typeof options !== "object") throw new TypeError(`Process.join: \`options\` must be a number of ms or an object, got ${describe(options)}`);
      ms = options.timeout ?? null;
      signal = options.signal;
      if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`Process.join: \`signal\` must be an AbortSignal, got ${describe(signal)}`);
    }
    if (ms !== null) {
      if (typeof ms !== "number") throw new TypeError(`Process.join: \`timeout\` must be a number of milliseconds or null, got ${describe(ms)}`);
      if (Number.isNaN(ms) || ms < 0) throw new RangeError(`Process.join: \`timeout\` must be >= 0 milliseconds, got ${ms}`);
    }
    this._checkOpen("join");
    if (this._state === "initial") throw new InvalidStateError(`Process.join: ${this.name} was not started (call start() first)`);
    throwAtCall();
    if (signal?.aborted === true) return Promise.reject(new CancelledError(abortMessage(signal)));
    if (this._exitCode !== null) return this._joined();
    return this._joinSlow(ms, signal);
  }

  /** @internal */
  private _joined(): Promise<number | null> {
    if (this._spawnError !== undefined) return Promise.reject(this._spawnError as Error);
    return Promise.resolve(this._exitCode);
  }

  /** @internal */
  private async _joinSlow(ms: number | null, signal: AbortSignal | undefined): Promise<number | null> {
    const loop = runningLoop();
    const f = new WaiterFuture<void>(loop, this);
    this._joiners.add(f);
    // The child's exit wakes this wait from outside the loop: run()'s deadlock detection must wait,
    // and a daemon child (unref'd) must keep this process alive while someone joins it.
    loop._nDetached++;
    if (this.daemon) this._child?.ref();
    // A real-clock timeout: the child runs in real time, whatever clock the loop keeps.
    const timer = ms === null || ms === Infinity ? null : setTimeout(timeUp, ms, f);
    if (signal !== undefined) cancelOnAbort(f, signal);
    try {
      await f;
    } finally {
      loop._nDetached--;
      if (timer !== null) clearTimeout(timer);
      this._joiners.delete(f);
      if (this.daemon && this._joiners.size === 0) this._child?.unref();
    }
    return this._exitCode === null ? null : this._joined();
  }

  /** @internal */
  private _signal(sig: NodeJS.Signals, what: string): void {
    this._checkOpen(what);
    const child = this._child;
    if (child === null) throw new InvalidStateError(`Process.${what}: ${this.name} was not started`);
    if (this._exitCode !== null) return; // exited already: nothing to signal (as Python)
    try {
      child.kill(sig);
    } catch {
      /* it is exiting: its 'exit' tells */
    }
  }

  /**
   * Asks the child to stop: SIGTERM (`exitCode` -15 unless the target handles the signal). Does not
   * wait: `await join()` after it.
   * @example
   * ```ts
   * import { workerModule } from "tsaio";
   * import { Process } from "tsaio/multiprocessing";
   * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
   * const p = new Process({ target: jobs.fns.spin, args: [60_000] });
   * p.start();
   * p.terminate();
   * console.log(await p.join()); // -15
   * ```
   */
  terminate(): void {
    this._signal("SIGTERM", "terminate");
  }

  /**
   * Kills the child: SIGKILL (`exitCode` -9). Does not wait: `await join()` after it.
   * @example
   * ```ts
   * import { workerModule } from "tsaio";
   * import { Process } from "tsaio/multiprocessing";
   * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
   * const p = new Process({ target: jobs.fns.spin, args: [60_000] });
   * p.start();
   * p.kill();
   * console.log(await p.join()); // -9
   * ```
   */
  kill(): void {
    this._signal("SIGKILL", "kill");
  }

  /**
   * Releases the process object (Python's `close()`): an InvalidStateError if the child still runs.
   * After it, every method but `close()` throws InvalidStateError; `name`, `pid` and `exitCode` stay
   * readable.
   * @example
   * ```ts
   * import { workerModule } from "tsaio";
   * import { Process } from "tsaio/multiprocessing";
   * const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));
   * const p = new Process({ target: jobs.fns.countPrimes, args: [100], name: "primes" });
   * p.start();
   * await p.join();
   * p.close();
   * console.log(p.exitCode, p); // 0 <Process name='primes' closed>
   * ```
   */
  close(): void {
    if (this._state === "closed") return;
    if (this._state === "started" && this._exitCode === null) {
      throw new InvalidStateError(`Process.close: ${this.name} is still running (join, terminate or kill it first)`);
    }
    this._state = "closed";
  }

  /** Kills the child if it still runs, waits for it to exit, then closes the object. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this._state === "closed") return;
    if (this._state === "started" && this._exitCode === null) {
      this.kill();
      if (this._exitCode === null) await this._joinSlow(null, undefined);
    }
    this._state = "closed";
  }

  /** @internal */
  private _checkOpen(what: string): void {
    if (this._state === "closed") throw new InvalidStateError(`Process.${what}: ${this.name} is closed`);
  }

  /** @internal One line of state (see internal/describe.ts). */
  _describe(o: DescribeOptions): string {
    const name = o.redact ? "" : ` name=${JSON.stringify(this.name).replace(/^"|"$/g, "'")}`;
    if (this._state === "closed") return `<Process${name} closed>`;
    const pid = this._child?.pid === undefined ? "" : ` pid=${this._child.pid}`;
    const state = this._state === "initial" ? "initial" : this._exitCode === null ? "started" : `stopped exitcode=${this._exitCode}`;
    return `<Process${name}${pid} parent=${process.pid} ${state}${this.daemon ? " daemon" : ""}${this._joiners.size > 0 ? ` joiners=${this._joiners.size}` : ""}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}
