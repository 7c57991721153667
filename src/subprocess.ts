/**
 * Subprocesses with asyncio's API (CPython 3.13's `Lib/asyncio/subprocess.py`):
 * `createSubprocessExec`, `createSubprocessShell` → `Subprocess` (asyncio's
 * `asyncio.subprocess.Process`), with `PIPE`, `STDOUT` and `DEVNULL`.
 *
 * ## Beyond asyncio: a cancelled wait does not leave the child behind
 * asyncio's `await proc.wait()` cancelled (or timed out) leaves the child running, orphaned as soon
 * as the program moves on. Here, when the task awaiting `wait()` or `communicate()` is cancelled —
 * or its `timeout()` expires, or the call's `signal` aborts — the child is sent SIGTERM, then SIGKILL
 * if it has not exited after `gracePeriod` ms, and the call waits for it to exit before raising
 * `CancelledError`: the child is reaped (Node reaps every child it spawned), never orphaned. With
 * `killProcessGroup`, the child runs in a process group of its own and these signals go to the
 * whole group (a shell's children too). `killOnCancel: false` restores asyncio's behaviour. Leaving
 * `await using proc` stops the child the same way if it still runs.
 *
 * Other differences, for Node: `wait()` returns when the child exits (asyncio waits for its pipes
 * to close too); reads and writes are `Buffer`s; `STDOUT` with `stdout: PIPE` runs the program
 * through `/bin/sh -c 'exec "$0" "$@" 2>&1'` (Node cannot pass one pipe as two stdio entries).
 * @module
 */
import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import { constants as osConstants } from "node:os";
import type { Socket } from "node:net";
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { CancelledError, InvalidStateError } from "./errors.js";
import { gather } from "./combinators.js";
import { cancelOnAbort, Future, throwAtCall } from "./futures.js";
import { LongTimeout } from "./internal/timers.js";
import { checkDelay, checkOptions, describe, signalOf } from "./internal/validate.js";
import { type DescribeOptions, FULL } from "./internal/describe.js";
import { abortedError, plainResume, WaiterList } from "./waiters.js";
import type { Loop } from "./loop.js";
import { checkLimit, DEFAULT_LIMIT, StreamReader } from "./streams/reader.js";
import { StreamTransport, untilEvent } from "./streams/transport.js";
import { StreamWriter } from "./streams/writer.js";

/**
 * A pipe between the parent and the child: its stream is `proc.stdin` / `proc.stdout` / `proc.stderr`.
 * @example
 * ```ts
 * import { createSubprocessExec, PIPE } from "tsaio";
 * const proc = await createSubprocessExec("echo", ["piped"], { stdout: PIPE });
 * console.log((await proc.stdout!.readline()).toString().trim()); // piped
 * await proc.wait();
 * ```
 */
export const PIPE = -1;
/**
 * For `stderr`: into the same place as stdout (asyncio's `subprocess.STDOUT`).
 * @example
 * ```ts
 * import { createSubprocessShell, PIPE, STDOUT } from "tsaio";
 * const proc = await createSubprocessShell("echo to-stderr >&2", { stdout: PIPE, stderr: STDOUT });
 * const [out] = await proc.communicate();
 * console.log(out!.toString().trim()); // to-stderr
 * ```
 */
export const STDOUT = -2;
/**
 * `/dev/null` (asyncio's `subprocess.DEVNULL`): nothing to read from, or output thrown away.
 * @example
 * ```ts
 * import { createSubprocessShell, DEVNULL } from "tsaio";
 * const proc = await createSubprocessShell("echo silenced", { stdout: DEVNULL }); // prints nothing
 * console.log(await proc.wait()); // 0
 * ```
 */
export const DEVNULL = -3;

/**
 * Where a child's stdin, stdout or stderr goes: `PIPE`, `DEVNULL`, `"inherit"` (the parent's own;
 * also `null`/`undefined`, the default, as asyncio's `None`), a file descriptor (an integer >= 0),
 * or Node's `"pipe"` / `"ignore"`. `stderr` also takes `STDOUT`.
 */
export type StdioSpec = typeof PIPE | typeof DEVNULL | "inherit" | "pipe" | "ignore" | number | null | undefined;

/** Options of `createSubprocessExec()` and `createSubprocessShell()`. */
export interface SubprocessOptions {
  /** The child's stdin. Default: inherited. */
  stdin?: StdioSpec;
  /** The child's stdout. Default: inherited. */
  stdout?: StdioSpec;
  /** The child's stderr (`STDOUT`: with stdout). Default: inherited. */
  stderr?: StdioSpec | typeof STDOUT;
  /** The line limit of the stdout/stderr readers (see `StreamReader`). Default 64 KiB. */
  limit?: number;
  /** The working directory. */
  cwd?: string | URL;
  /** The environment (default: `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Run the child in a new session and process group (asyncio's `start_new_session`). */
  startNewSession?: boolean;
  /**
   * `sendSignal`/`terminate`/`kill` and the stop on cancellation signal the child's whole process
   * group (implies `startNewSession`): a shell's children stop too. Default false.
   */
  killProcessGroup?: boolean;
  /** Stop the child when a `wait()`/`communicate()` is cancelled (see the module). Default true. */
  killOnCancel?: boolean;
  /** How long the child gets after SIGTERM before SIGKILL, in ms (real time). Default 3 000. */
  gracePeriod?: number;
  /** Aborting it cancels the start (the child, if spawned, is killed). */
  signal?: AbortSignal;
  /** The user id to run as. */
  uid?: number;
  /** The group id to run as. */
  gid?: number;
}

/** Options of `wait()` and `communicate()`. */
export interface WaitOptions {
  /** Aborting it cancels the wait: as a cancellation of the task, it stops the child. */
  signal?: AbortSignal;
}

const DEFAULT_GRACE = 3_000;

function stdioOf(spec: unknown, name: string, fnName: string): "pipe" | "ignore" | "inherit" | number {
  if (spec === undefined || spec === null || spec === "inherit") return "inherit";
  if (spec === PIPE || spec === "pipe") return "pipe";
  if (spec === DEVNULL || spec === "ignore") return "ignore";
  if (typeof spec === "number" && Number.isInteger(spec) && spec >= 0) return spec;
  if (typeof spec === "number") throw new RangeError(`${fnName}: \`${name}\` must be PIPE, DEVNULL${name === "stderr" ? ", STDOUT" : ""}, "inherit" or a file descriptor >= 0, got ${spec}`);
  throw new TypeError(`${fnName}: \`${name}\` must be PIPE, DEVNULL${name === "stderr" ? ", STDOUT" : ""}, "inherit" or a file descriptor, got ${describe(spec)}`);
}

/** A signal name or number as Node's `kill` takes it; TypeError/RangeError otherwise. */
function signalArg(sig: unknown, fnName: string): NodeJS.Signals | number {
  const signals = osConstants.signals as Record<string, number>;
  if (typeof sig === "string") {
    if (!Object.hasOwn(signals, sig)) throw new RangeError(`${fnName}: \`sig\` is not a signal: ${sig}`);
    return sig as NodeJS.Signals;
  }
  if (typeof sig === "number") {
    if (!Number.isInteger(sig) || sig < 0 || (sig !== 0 && !Object.values(signals).includes(sig))) throw new RangeError(`${fnName}: \`sig\` is not a signal: ${sig}`);
    return sig;
  }
  throw new TypeError(`${fnName}: \`sig\` must be a signal name ("SIGTERM") or number, got ${describe(sig)}`);
}

interface Prepared {
  stdio: StdioOptions;
  pipes: [boolean, boolean, boolean];
  /** stderr goes into the stdout pipe: the program runs through a shell redirection. */
  mergeIntoPipe: boolean;
  limit: number;
  group: boolean;
  killOnCancel: boolean;
  grace: number;
  signal: AbortSignal | undefined;
  spawnOptions: { cwd?: string | URL; env?: NodeJS.ProcessEnv; detached: boolean; uid?: number; gid?: number };
}

function prepare(options: SubprocessOptions | undefined, fnName: string): Prepared {
  checkOptions(options, fnName);
  const o = options ?? {};
  const stdin = stdioOf(o.stdin, "stdin", fnName);
  const stdout = stdioOf(o.stdout, "stdout", fnName);
  let stderr: "pipe" | "ignore" | "inherit" | number;
  let mergeIntoPipe = false;
  if (o.stderr === STDOUT) {
    if (stdout === "pipe") {
      stderr = "inherit"; // replaced by the shell's 2>&1
      mergeIntoPipe = true;
    } else stderr = stdout;
  } else stderr = stdioOf(o.stderr, "stderr", fnName);
  const limit = o.limit === undefined ? DEFAULT_LIMIT : checkLimit(o.limit, fnName);
  for (const k of ["startNewSession", "killProcessGroup", "killOnCancel"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "boolean") throw new TypeError(`${fnName}: \`${k}\` must be a boolean, got ${describe(o[k])}`);
  }
  if (o.gracePeriod !== undefined) checkDelay(o.gracePeriod, fnName, "gracePeriod");
  if (o.cwd !== undefined && typeof o.cwd !== "string" && !(o.cwd instanceof URL)) throw new TypeError(`${fnName}: \`cwd\` must be a string or a URL, got ${describe(o.cwd)}`);
  if (o.env !== undefined && (o.env === null || typeof o.env !== "object")) throw new TypeError(`${fnName}: \`env\` must be an object, got ${describe(o.env)}`);
  for (const k of ["uid", "gid"] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0)) throw new TypeError(`${fnName}: \`${k}\` must be an integer >= 0, got ${describe(v)}`);
  }
  const signal = signalOf(options, fnName);
  const group = o.killProcessGroup ?? false;
  return {
    stdio: [stdin, stdout, stderr],
    pipes: [stdin === "pipe", stdout === "pipe", stderr === "pipe"],
    mergeIntoPipe,
    limit,
    group,
    killOnCancel: o.killOnCancel ?? true,
    grace: o.gracePeriod ?? DEFAULT_GRACE,
    signal,
    spawnOptions: {
      detached: group || (o.startNewSession ?? false),
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
      ...(o.env === undefined ? {} : { env: o.env }),
      ...(o.uid === undefined ? {} : { uid: o.uid }),
      ...(o.gid === undefined ? {} : { gid: o.gid }),
    },
  };
}

/**
 * Runs `program` with `args` (no shell) and returns the running `Subprocess` once it has started
 * (asyncio's `create_subprocess_exec`). A program that cannot be started rejects with Node's error
 * (`ENOENT`, `EACCES`…). A cancellation point: cancelled while starting, the child is killed.
 * @example
 * ```ts
 * import { createSubprocessExec, PIPE } from "tsaio";
 * const proc = await createSubprocessExec("node", ["-e", "console.log(6 * 7)"], { stdout: PIPE });
 * const [out] = await proc.communicate();
 * console.log(out!.toString().trim(), proc.returncode); // 42 0
 * ```
 */
export async function createSubprocessExec(program: string, args: readonly string[] = [], options?: SubprocessOptions): Promise<Subprocess> {
  const fn = "createSubprocessExec";
  if (typeof program !== "string") throw new TypeError(`${fn}: \`program\` must be a string, got ${describe(program)}`);
  if (program === "") throw new RangeError(`${fn}: \`program\` must not be empty`);
  if (!Array.isArray(args)) throw new TypeError(`${fn}: \`args\` must be an array of strings, got ${describe(args)}`);
  for (const a of args) if (typeof a !== "string") throw new TypeError(`${fn}: \`args\` must be an array of strings, got an element ${describe(a)}`);
  const p = prepare(options, fn);
  if (p.signal !== undefined && p.signal.aborted) throw abortedError(p.signal);
  throwAtCall();
  if (p.mergeIntoPipe) return start(p, "/bin/sh", ["-c", 'exec "$0" "$@" 2>&1', program, ...args], `${program} ${args.join(" ")}`.trim());
  return start(p, program, args, `${program} ${args.join(" ")}`.trim());
}

/**
 * Runs `cmd` through `/bin/sh -c` and returns the running `Subprocess` (asyncio's
 * `create_subprocess_shell`). Quote what you interpolate; prefer `createSubprocessExec`. With
 * `killProcessGroup`, a cancel or `terminate()` reaches the commands the shell started too.
 * @example
 * ```ts
 * import { createSubprocessShell, PIPE, STDOUT } from "tsaio";
 * const proc = await createSubprocessShell("echo out; echo err >&2; exit 3", { stdout: PIPE, stderr: STDOUT });
 * const [out] = await proc.communicate();
 * console.log(JSON.stringify(out!.toString()), proc.returncode); // "out\nerr\n" 3
 * ```
 */
export async function createSubprocessShell(cmd: string, options?: SubprocessOptions): Promise<Subprocess> {
  const fn = "createSubprocessShell";
  if (typeof cmd !== "string") throw new TypeError(`${fn}: \`cmd\` must be a string, got ${describe(cmd)}`);
  const p = prepare(options, fn);
  if (p.signal !== undefined && p.signal.aborted) throw abortedError(p.signal);
  throwAtCall();
  return start(p, "/bin/sh", ["-c", p.mergeIntoPipe ? `exec 2>&1\n${cmd}` : cmd], cmd);
}

async function start(p: Prepared, file: string, args: readonly string[], label: string): Promise<Subprocess> {
  const loop = runningLoop();
  const child = spawn(file, args, { stdio: p.stdio, ...p.spawnOptions });
  const proc = new Subprocess(child, loop, p, label);
  const owner = { _describe: (o: DescribeOptions) => `<starting ${commandText(label, o)}>` }; // a describer (see internal/describe.ts)
  try {
    await untilEvent(loop, child, "spawn", owner, p.signal, Infinity, unreachable, () => proc._signalNow("SIGKILL"));
  } catch (e) {
    proc._closePipes();
    throw e;
  }
  return proc;
}

function unreachable(): Error {
  return new Error("unreachable");
}

/** A stop in progress: SIGTERM sent, SIGKILL armed. */
interface Stopping {
  done: Promise<void>;
}

/**
 * A child process (asyncio's `asyncio.subprocess.Process`), made by `createSubprocessExec()` or
 * `createSubprocessShell()`: `pid`, `returncode` (null while it runs; `-N` when signal N ended it),
 * `stdin` (a `StreamWriter`), `stdout`/`stderr` (`StreamReader`s) for the streams opened with
 * `PIPE`, `wait()`, `communicate(input)`, `sendSignal()`, `terminate()`, `kill()`. A cancelled
 * `wait()`/`communicate()` stops the child (see the module). `await using proc` stops it too.
 * @example
 * ```ts
 * import { createSubprocessExec, PIPE } from "tsaio";
 * await using proc = await createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
 * proc.stdin!.write("one\ntwo\n");
 * proc.stdin!.close();
 * for await (const line of proc.stdout!) console.log(line.toString().trim()); // one two
 * console.log(await proc.wait()); // 0
 * ```
 */
export class Subprocess implements AsyncDisposable {
  /** The child's process id. */
  readonly pid: number;
  /** The child's stdin, when opened with `PIPE`. */
  readonly stdin: StreamWriter | null = null;
  /** The child's stdout, when opened with `PIPE`. */
  readonly stdout: StreamReader | null = null;
  /** The child's stderr, when opened with `PIPE`. */
  readonly stderr: StreamReader | null = null;
  /** @internal */ readonly _child: ChildProcess;
  /** @internal */ readonly _loop: Loop;
  /** @internal */ readonly _label: string;
  /** @internal */ readonly _group: boolean;
  /** @internal */ readonly _killOnCancel: boolean;
  /** @internal */ readonly _grace: number;
  /** @internal */ _returncode: number | null = null;
  /** @internal */ readonly _exitWaiters: WaiterList;
  /** @internal Resolved when the child has exited (a native promise: a stop in progress is not interrupted). */
  readonly _exited: Promise<void>;
  /** @internal */ _stopping: Stopping | null = null;
  /** @internal */ readonly _transports: StreamTransport[] = [];

  /** @internal Made by createSubprocessExec() / createSubprocessShell(). */
  constructor(child: ChildProcess, loop: Loop, p: Prepared, label: string) {
    this._child = child;
    this._loop = loop;
    this._label = label;
    this._group = p.group;
    this._killOnCancel = p.killOnCancel;
    this._grace = p.grace;
    this.pid = child.pid ?? -1;
    this._exitWaiters = new WaiterList(this, plainResume);
    let onExit!: () => void;
    this._exited = new Promise<void>((resolve) => (onExit = resolve));
    child.once("exit", (code, signal) => {
      this._returncode = code ?? -((osConstants.signals as Record<string, number>)[signal ?? ""] ?? 0);
      onExit();
      this._exitWaiters.wakeAll(undefined);
    });
    // A spawn failure is reported by start(); later errors (a failed kill) must not be unhandled.
    child.on("error", noop);
    const limit = p.limit;
    if (child.stdin !== null && p.pipes[0]) {
      const t = new StreamTransport(child.stdin as Socket, null, loop, { label: `pid ${this.pid} stdin` });
      this._transports.push(t);
      this.stdin = new StreamWriter(t, null);
    }
    if (child.stdout !== null && p.pipes[1]) {
      const r = new StreamReader({ limit });
      this._transports.push(new StreamTransport(child.stdout as Socket, r, loop, { label: `pid ${this.pid} stdout` }));
      this.stdout = r;
    }
    if (child.stderr !== null && p.pipes[2]) {
      const r = new StreamReader({ limit });
      this._transports.push(new StreamTransport(child.stderr as Socket, r, loop, { label: `pid ${this.pid} stderr` }));
      this.stderr = r;
    }
  }

  /** The exit status: null while the child runs, its exit code, or `-N` if signal N ended it. */
  get returncode(): number | null {
    return this._returncode;
  }

  /**
   * Waits for the child to exit and returns its `returncode`. A cancellation point: cancelled (or
   * `signal` aborted), it stops the child (SIGTERM, SIGKILL after `gracePeriod`), waits for it to
   * exit, then raises `CancelledError` — unless `killOnCancel: false`. With stdout/stderr piped, read
   * them meanwhile (or use `communicate()`): a child blocked writing to a full pipe never exits.
   */
  wait(options?: WaitOptions): Promise<number> {
    const signal = options === undefined ? undefined : signalOf(options, "Subprocess.wait");
    if (signal !== undefined && signal.aborted) return Promise.reject(abortedError(signal));
    throwAtCall();
    if (this._returncode !== null) return Promise.resolve(this._returncode);
    return this._waitSlow(signal);
  }

  /** @internal */
  private async _waitSlow(signal: AbortSignal | undefined): Promise<number> {
    try {
      await this._exitWaiters.add(this._loop, signal);
    } catch (e) {
      if (e instanceof CancelledError && this._killOnCancel) await this._stop();
      throw e;
    }
    return this._returncode as number;
  }

  /**
   * Sends `input` (if given) to stdin and closes it, reads stdout and stderr to their end — all at
   * once, so that a child that writes a lot before reading cannot deadlock — then waits for the
   * child to exit. Returns `[stdout, stderr]`: the bytes read, or null for a stream not piped. A
   * child that exits without reading its input is not an error (EPIPE is ignored, as asyncio does).
   * Cancelled, it stops the child as `wait()` does.
   */
  async communicate(input?: Uint8Array | string | null, options?: WaitOptions): Promise<[Buffer | null, Buffer | null]> {
    if (input !== undefined && input !== null && typeof input !== "string" && !(input instanceof Uint8Array)) {
      throw new TypeError(`Subprocess.communicate: \`input\` must be a Uint8Array, a string or null, got ${describe(input)}`);
    }
    const signal = options === undefined ? undefined : signalOf(options, "Subprocess.communicate");
    if (signal !== undefined && signal.aborted) throw abortedError(signal);
    throwAtCall();
    const hasInput = input !== undefined && input !== null;
    if (hasInput && this.stdin === null) throw new InvalidStateError("Subprocess.communicate(input): the child's stdin is not a pipe (start it with stdin: PIPE)");
    try {
      const all = gather([() => this._feedStdin(hasInput ? input : null), () => this._readAll(this.stdout), () => this._readAll(this.stderr)]);
      if (signal !== undefined) cancelOnAbort(all as Future<unknown>, signal);
      const [, out, err] = await all;
      if (this._returncode === null) await this._exitWaiters.add(this._loop, signal);
      return [out, err];
    } catch (e) {
      if (e instanceof CancelledError && this._killOnCancel) await this._stop();
      throw e;
    }
  }

  /** @internal */
  private async _feedStdin(input: Uint8Array | string | null): Promise<void> {
    const w = this.stdin;
    if (w === null) return;
    try {
      if (input !== null) w.write(input);
      await w.drain();
    } catch (e) {
      // communicate() ignores a child that stopped reading (asyncio: BrokenPipeError, ConnectionResetError).
      const code = (e as NodeJS.ErrnoException | null)?.code;
      if (code !== "EPIPE" && code !== "ECONNRESET") throw e;
    }
    w.close();
  }

  /** @internal */
  private async _readAll(r: StreamReader | null): Promise<Buffer | null> {
    if (r === null) return null;
    const data = await r.read();
    // asyncio closes the pipe once read (`transport.close()`).
    this._transports.find((t) => t._reader === r)?.close();
    return data;
  }

  /** Sends `sig` (a name like `"SIGHUP"` or a number) to the child — or its group, with `killProcessGroup`. Nothing once it has exited. */
  sendSignal(sig: NodeJS.Signals | number): void {
    this._signalNow(signalArg(sig, "Subprocess.sendSignal"));
  }

  /** Sends SIGTERM (see `sendSignal`). */
  terminate(): void {
    this._signalNow("SIGTERM");
  }

  /** Sends SIGKILL (see `sendSignal`). */
  kill(): void {
    this._signalNow("SIGKILL");
  }

  /** @internal */
  _signalNow(sig: NodeJS.Signals | number): void {
    if (this._returncode !== null) return;
    if (this._group && this.pid > 0) {
      try {
        process.kill(-this.pid, sig);
      } catch {
        // the group is gone
      }
    } else this._child.kill(sig);
  }

  /**
   * @internal The stop after a cancelled wait: SIGTERM, SIGKILL after the grace period, then wait
   * for the exit. With a process group, members that outlive the leader get SIGKILL at the deadline.
   */
  _stop(): Promise<void> {
    if (this._stopping !== null) return this._stopping.done;
    const group = this._group && this.pid > 0;
    if (this._returncode !== null && !group) return Promise.resolve();
    const deadline = performance.now() + this._grace;
    this._signalNow("SIGTERM");
    if (group && this._returncode !== null) signalGroup(this.pid, "SIGTERM");
    const killer = new LongTimeout(() => (group ? signalGroup(this.pid, "SIGKILL") : this._signalNow("SIGKILL")), this._grace, true);
    const done = this._exited.then(async () => {
      killer.cancel();
      if (group) await reapGroup(this.pid, deadline);
    });
    this._stopping = { done };
    return done;
  }

  /** @internal Closes the parent's ends of the pipes (the streams see EOF / lose their connection). */
  _closePipes(): void {
    for (const t of this._transports) t.abort();
  }

  /** `await using proc`: stops the child if it still runs (as a cancelled wait does), then closes the pipes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this._returncode === null) await this._stop();
    this._closePipes();
  }

  /** @internal Its describer (see internal/describe.ts); redacted, the program without its arguments. */
  _describe(o: DescribeOptions): string {
    const state = this._returncode === null ? (this._stopping !== null ? "stopping" : "running") : `returncode=${this._returncode}`;
    return `<Subprocess pid=${this.pid} ${state} ${commandText(this._label, o)}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

function noop(): void {}

/** A command line for inspect output: cut at 40 characters; redacted, its first word (arguments may hold secrets). */
function commandText(label: string, o: DescribeOptions): string {
  if (o.redact) {
    const sp = label.indexOf(" ");
    return JSON.stringify(sp < 0 ? label : label.slice(0, sp) + " …");
  }
  return JSON.stringify(label.length > 40 ? label.slice(0, 37) + "..." : label);
}

function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits (polling, real time) until the group `pgid` is empty; SIGKILL to what is left at `deadline`. */
async function reapGroup(pgid: number, deadline: number): Promise<void> {
  for (let wait = 5; signalGroup(pgid, 0 as unknown as NodeJS.Signals); wait = Math.min(wait * 2, 100)) {
    if (performance.now() >= deadline) {
      signalGroup(pgid, "SIGKILL");
      return;
    }
    // Not unref'd: the process must not exit before the group is gone.
    await new Promise<void>((resolve) => new LongTimeout(resolve, Math.min(wait, Math.max(1, deadline - performance.now()))));
  }
}
