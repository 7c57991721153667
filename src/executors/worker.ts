/**
 * The worker side of the executors: loaded by the bootstrap in every worker thread and worker
 * process. It runs the jobs it receives one at a time, each inside a tsaio Task on the worker's own
 * loop, so that job code sees `currentTask()` and its `signal`, and tsaio awaits inside it are
 * cancellation points. Every outcome is posted (or, for plain values in a thread worker, published
 * in the shared results ring) at once, never buffered, so a worker that dies has reported
 * everything it finished. An idle thread worker blocks in `Atomics.wait` (see "idle wait").
 * @internal
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getHeapStatistics } from "node:v8";
import { receiveMessageOnPort, type TransferListItem } from "node:worker_threads";
import { CancelledError } from "../errors.js";
import { getRunningLoop } from "../runners.js";
import type { Future } from "../futures.js";
import { currentTask, Task } from "../tasks.js";
import { INIT_KEY } from "./bootstrap.js";
import { moduleSiblings } from "./functions.js";
import {
  controlViews,
  CTL_BELL,
  CTL_HEAD,
  CTL_TAIL,
  CTL_WAKE,
  encodeError,
  R_BELL,
  RING_MASK,
  RING_SIZE,
  T_FALSE,
  T_NULL,
  T_NUMBER,
  T_TRUE,
  T_UNDEFINED,
  type SharedControl,
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
  type WorkerInit,
} from "./protocol.js";

type AnyFn = (...args: unknown[]) => unknown;

interface Init extends WorkerInit {
  tsxRegistered?: boolean;
  pending?: unknown[];
  unbuffer?: () => void;
}

interface FnRecord {
  def: FnDef;
  fn: AnyFn | null;
  error: unknown;
  loading: Promise<void> | null;
}

interface WJob {
  seq: number;
  fnId: number;
  args: unknown[];
  flags: number;
  cancelled: boolean;
  cancelMsg: string;
}

const init = (globalThis as unknown as Record<string, Init>)[INIT_KEY];
const isProcess = init.kind === "process";
const shared = init.control === undefined ? null : controlViews(init.control);
const ctl = shared === null ? null : shared.hdr;
/** Next results-ring entry to write (thread workers). */
let ringTail = 0;
const BELL = [R_BELL];
const loop = getRunningLoop();
const fns = new Map<number, FnRecord>();
const queue: (WJob | undefined)[] = [];
let qHead = 0;
const bySeq = new Map<number, WJob>();
let current: WJob | null = null;
let currentJobTask: Task<unknown> | null = null;
let ready = false;
/** Retired (heap), doomed, or dying: run nothing more, hand new jobs back. */
let stopped = false;
/** Idle wait (see below): a wait is scheduled; spin first (only right after a single job arrived). */
let idleScheduled = false;
let spinNext = true;

let send: (msg: unknown[], transfer?: readonly TransferListItem[]) => void;

if (isProcess) {
  send = (msg) => {
    // A closed channel means the pool is gone: 'disconnect' ends this process.
    if (process.connected) (process.send as (m: unknown) => boolean)(msg);
  };
  process.on("message", onBatch);
  init.unbuffer?.();
  process.on("disconnect", () => process.exit(0));
  process.on("uncaughtException", (e: unknown) => {
    stopped = true;
    const bye = (): never => process.exit(1);
    try {
      process.send?.([R_FATAL, encodeError(e)], undefined, undefined, bye);
    } catch {
      bye();
    }
    setTimeout(bye, 2_000).unref();
  });
} else {
  const port = init.port as import("node:worker_threads").MessagePort;
  send = (msg, transfer) => port.postMessage(msg, transfer as TransferListItem[] | undefined);
  port.on("message", onBatch);
}

async function start(): Promise<void> {
  // Messages that reached a process worker while this module loaded (buffered by the bootstrap).
  for (const m of init.pending ?? []) onBatch(m);
  if (init.initializer !== null) {
    try {
      const rec: FnRecord = { def: init.initializer, fn: null, error: undefined, loading: null };
      await load(rec);
      if (rec.fn === null) throw rec.error;
      const fn = rec.fn;
      await loop.createTask(() => fn(...init.initargs), { name: "initializer" });
    } catch (e) {
      stopped = true;
      send([R_INIT_FAILED, encodeError(e)]);
      return;
    }
  }
  ready = true;
  send([R_READY]);
  next();
}

function onBatch(msg: unknown): void {
  const b = msg as unknown[];
  // Spin when idle again only in the one-job-at-a-time pattern (idle, one job, idle…): in a burst
  // the pool (the main thread) is the bottleneck, and the CPU a spin would burn is better left to it.
  spinNext = b.length <= 10 && current === null && qHead >= queue.length;
  let returned: number[] | null = null;
  for (let i = 0; i < b.length; ) {
    const op = b[i];
    if (op === OP_JOB) {
      const seq = b[i + 1] as number;
      if (stopped) (returned ??= []).push(seq);
      else {
        const j: WJob = { seq, fnId: b[i + 2] as number, args: b[i + 3] as unknown[], flags: b[i + 4] as number, cancelled: false, cancelMsg: "" };
        queue.push(j);
        bySeq.set(seq, j);
      }
      i += 5;
    } else if (op === OP_DEFINE) {
      fns.set(b[i + 1] as number, { def: { kind: b[i + 2] as 0 | 1, a: b[i + 3] as string, b: b[i + 4] as string }, fn: null, error: undefined, loading: null });
      i += 5;
    } else if (op === OP_CANCEL) {
      cancelJob(b[i + 1] as number, b[i + 2] as string);
      i += 3;
    } else i++;
  }
  if (returned !== null) send([R_RETURN, ...returned]);
  if (current === null && ready && !stopped) next();
}

function cancelJob(seq: number, msg: string): void {
  const j = bySeq.get(seq);
  if (j === undefined || j.cancelled) return;
  j.cancelled = true;
  j.cancelMsg = msg;
  if (j === current) {
    if (currentJobTask !== null) currentJobTask.cancel(msg);
    // else: still loading its function; it is reported cancelled once loaded
  } else {
    bySeq.delete(seq);
    send([R_CANCELLED, seq]);
  }
}

/**
 * A job's task, started *eagerly* (Python 3.12's eager tasks): its first step runs at once, inside
 * `run()`, instead of one loop iteration later. A synchronous job is then over before `run()`
 * returns, and the worker goes straight to the next one: no loop iteration, no microtask hop, and
 * no waiting for Node's message dispatch to unwind before the job starts. The step the Task
 * constructor scheduled then finds the step done and does nothing.
 *
 * Running a step outside the loop is safe only when the loop is not waiting for another task's step
 * (`_stepping === null`); otherwise the job starts the ordinary way. A job that blocks on a foreign
 * promise during its eager step, outside the loop, leaves the loop waiting for its step: the
 * loop's watchdog is only armed from inside the loop, so `run()` arms one itself.
 */
class JobTask<T> extends Task<T> {
  _begun = false;
  override _step(): void {
    if (this._begun) return;
    this._begun = true;
    super._step();
  }
}

/** Inside `next()`: nested calls (from a job that ended synchronously) return and let the outer loop go on. */
let pumping = false;
let sliceTimer: NodeJS.Immediate | null = null;
/** Run jobs back to back for at most this long (ms) before letting the worker's event loop in (cancel messages). */
const SLICE_MS = 4;

/** Starts jobs until one is left running (asynchronous), the queue is empty, or the slice is used up. */
function next(): void {
  if (pumping || sliceTimer !== null) return;
  pumping = true;
  const sliceStart = performance.now();
  try {
    while (current === null && !stopped) {
      if (qHead >= queue.length) {
        queue.length = 0;
        qHead = 0;
        goingIdle();
        return;
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        sliceTimer = setImmediate(resumeAfterSlice);
        return;
      }
      const j = queue[qHead] as WJob;
      queue[qHead++] = undefined;
      if (qHead > 1024 && qHead * 2 > queue.length) {
        queue.splice(0, qHead);
        qHead = 0;
      }
      if (j.cancelled) continue;
      if (ctl !== null && Atomics.compareExchange(ctl, 0, 0, j.seq) !== 0) {
        // Condemned by the pool (a cancelled job overstayed): start nothing, wait to be terminated.
        stopped = true;
        return;
      }
      current = j;
      if (isProcess || (j.flags & F_TIMED) !== 0) send([R_STARTED, j.seq]);
      const rec = fns.get(j.fnId);
      if (rec === undefined) finish(j, null, new Error(`tsaio worker: unknown function id ${j.fnId}`));
      else if (rec.fn !== null) run(j, rec.fn, rec);
      else if (rec.error !== undefined) finish(j, null, rec.error);
      else {
        void load(rec).then(() => {
          if (j.cancelled) finish(j, null, undefined);
          else if (rec.fn !== null) run(j, rec.fn, rec);
          else finish(j, null, rec.error);
          next();
        });
      }
    }
  } finally {
    pumping = false;
  }
}

// ------------------------------------------------------------------------------ idle wait (threads)

/** Longest single block in Atomics.wait; then the event loop gets a turn (unref'd timers and such). */
const IDLE_BLOCK_MS = 200;
/**
 * Before blocking, poll for this long (µs): a thread (and its CPU) that has just gone to sleep wakes
 * slowly — tens of µs on virtual machines, whose hosts stop polling a halted vCPU — so a job
 * submitted right after the previous one ended (a sequential loop) is picked up at once. Spent only
 * when the worker runs out of work after a batch of a single job, at most once per batch.
 */
const SPIN_US = 50;

/** The worker has no job: from a fresh macrotask (microtasks drained), block until the pool posts. */
function goingIdle(): void {
  if (shared === null || idleScheduled || stopped) return;
  idleScheduled = true;
  setImmediate(idleWait);
}

function idleWait(): void {
  idleScheduled = false;
  const sh = shared as SharedControl;
  const port = init.port as import("node:worker_threads").MessagePort;
  while (current === null && !stopped && qHead >= queue.length) {
    // Anything alive in this worker besides its own port (a timer, a socket, a port of the job's
    // own, a file read…) must not be frozen: stay on the event loop.
    const active = process.getActiveResourcesInfo();
    if (active.length > 1 || (active.length === 1 && active[0] !== "MessagePort")) return;
    // Output still buffered on its way to the parent (console.log in a job) must not wait for us.
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) {
      setTimeout(goingIdle, 1);
      return;
    }
    const seen = Atomics.load(sh.hdr, CTL_WAKE);
    let r = receiveMessageOnPort(port);
    if (r === undefined && spinNext) {
      spinNext = false;
      const end = performance.now() + SPIN_US / 1000;
      while (Atomics.load(sh.hdr, CTL_WAKE) === seen && performance.now() < end);
      r = receiveMessageOnPort(port);
    }
    if (r === undefined) {
      const res = Atomics.wait(sh.hdr, CTL_WAKE, seen, IDLE_BLOCK_MS);
      r = receiveMessageOnPort(port);
      if (r === undefined) {
        if (res === "timed-out") {
          goingIdle(); // one event-loop turn, then wait again
          return;
        }
        continue;
      }
    }
    // Work arrived: handle it here (next() runs the jobs), then return so that microtasks run;
    // next() comes back here through goingIdle() once the queue is empty again.
    do onBatch(r.message);
    while ((r = receiveMessageOnPort(port)) !== undefined);
    return;
  }
}

function resumeAfterSlice(): void {
  sliceTimer = null;
  next();
}

/** The running job's function record (for messages). */
let currentRec: FnRecord | null = null;

/** Runs job `j` in its own task; a job that completes during its first step is finished here. */
function run(j: WJob, fn: AnyFn, rec: FnRecord): void {
  const args = j.args;
  const body = (j.flags & F_CHUNK) !== 0 ? () => runChunk(fn, args[0] as unknown[]) : () => fn(...args);
  const task = new JobTask<unknown>(body, undefined, loop);
  currentJobTask = task;
  currentRec = rec;
  if (j.cancelled) task.cancel(j.cancelMsg);
  else if (loop._stepping === null) {
    task._step();
    if (loop._stepping === task) armWatchdog(task);
  }
  if (task.done()) finish(j, task, undefined, rec);
  else task._addEntry(doneEntry);
}

/** What the loop does for a step it runs that blocks on a foreign promise (see JobTask). */
function armWatchdog(task: Task<unknown>): void {
  setImmediate(() => {
    if (loop._stepping === task) {
      task._detach();
      loop._stepEnded(task);
    }
  });
}

/** The done callback of an asynchronous job's task (one job runs at a time). */
const doneEntry = {
  _onDone(task: Future<unknown>): void {
    const j = current;
    if (j !== null && task === currentJobTask) {
      finish(j, task as Task<unknown>, undefined, currentRec as FnRecord);
      next();
    }
  },
};

/** Reports job `j` (from its task, or a load error), then moves on. */
function finish(j: WJob, task: Task<unknown> | null, error: unknown, rec?: FnRecord): void {
  current = null;
  currentJobTask = null;
  currentRec = null;
  bySeq.delete(j.seq);
  const seq = j.seq;
  if (task === null) {
    if (error === undefined) send([R_CANCELLED, seq]);
    else sendError(seq, error);
  } else if (task.cancelled()) {
    send([R_CANCELLED, seq]);
  } else {
    const e = task.exception();
    if (e === null) sendResult(seq, task.result(), rec as FnRecord);
    else sendError(seq, explain(e, rec as FnRecord));
  }
  if (ctl !== null && Atomics.compareExchange(ctl, 0, seq, 0) !== seq) {
    stopped = true; // DOOMED meanwhile: about to be terminated
    return;
  }
  if (init.maxHeapUsed > 0) {
    const used = getHeapStatistics().used_heap_size;
    if (used > init.maxHeapUsed) {
      stopped = true;
      const back: number[] = [];
      for (let k = qHead; k < queue.length; k++) {
        const q = queue[k];
        if (q !== undefined && !q.cancelled) back.push(q.seq);
      }
      queue.length = 0;
      qHead = 0;
      bySeq.clear();
      send([R_RETIRE, used, ...back]);
      return;
    }
  }
}

function sendResult(seq: number, value: unknown, rec: FnRecord): void {
  if (shared !== null && publish(shared, seq, value)) return;
  let v = value;
  let transfer: readonly TransferListItem[] | undefined;
  if (isTransferMarker(v)) {
    transfer = v.transferList;
    v = v.value;
  }
  try {
    send([R_OK, seq, v], transfer);
  } catch (e) {
    sendError(seq, new TypeError(`the result of ${rec.def.b} cannot be sent back from the worker: ${(e as Error).message ?? String(e)}`, { cause: e }));
  }
}

/** Writes a plain result into the shared ring (see protocol.ts); false if it does not fit there. */
function publish(sh: SharedControl, seq: number, value: unknown): boolean {
  const t = typeof value;
  const tag =
    t === "number" ? T_NUMBER : t === "boolean" ? (value === true ? T_TRUE : T_FALSE) : value === null ? T_NULL : value === undefined ? T_UNDEFINED : 0;
  if (tag === 0) return false;
  const hdr = sh.hdr;
  if (((ringTail - Atomics.load(hdr, CTL_HEAD)) | 0) >= RING_SIZE) return false; // full: the message path
  const i = ringTail & RING_MASK;
  sh.ringInts[2 * i] = seq;
  sh.ringInts[2 * i + 1] = tag;
  if (tag === T_NUMBER) sh.ringNums[i] = value as number;
  ringTail = (ringTail + 1) | 0;
  Atomics.store(hdr, CTL_TAIL, ringTail); // committed: survives this worker
  if (Atomics.compareExchange(hdr, CTL_BELL, 0, 1) === 0) send(BELL);
  return true;
}

function sendError(seq: number, error: unknown): void {
  try {
    send([R_ERR, seq, encodeError(error)]);
  } catch {
    send([R_ERR, seq, String((error as Error)?.stack ?? error)]);
  }
}

/** A function sent by source that uses an outer variable fails with ReferenceError: say why. */
function explain(e: unknown, rec: FnRecord): unknown {
  if (rec.def.kind === 1 && e instanceof ReferenceError && !e.message.includes("sent by source")) {
    e.message += ` (in ${rec.def.b}, a function sent by source: it cannot use variables or imports from where it was written; pass values as arguments, or export it from a module and use workerModule())`;
    if (typeof e.stack === "string") e.stack = `${e.name}: ${e.message}\n${e.stack.split("\n").slice(1).join("\n")}`;
  }
  return e;
}

/** Runs `fn` over a chunk of map() items: `[values, error?]`, values up to the first failing item. */
function runChunk(fn: AnyFn, items: unknown[]): [unknown[], unknown] | Promise<[unknown[], unknown]> {
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i++) {
    let r: unknown;
    try {
      r = fn(items[i]);
    } catch (e) {
      return [out, encodeError(e)];
    }
    if (r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function") return chunkAsync(fn, items, out, i, r as PromiseLike<unknown>);
    out.push(r);
  }
  return [out, undefined];
}

async function chunkAsync(fn: AnyFn, items: unknown[], out: unknown[], i: number, first: PromiseLike<unknown>): Promise<[unknown[], unknown]> {
  try {
    out.push(await first);
    for (let k = i + 1; k < items.length; k++) out.push(await fn(items[k]));
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    return [out, encodeError(e)];
  }
  return [out, undefined];
}

// ------------------------------------------------------------------------------ loading functions

function load(rec: FnRecord): Promise<void> {
  if (rec.loading === null) {
    rec.loading = (async () => {
      try {
        rec.fn = rec.def.kind === 0 ? await loadExport(rec.def.a, rec.def.b) : compile(rec.def.a, rec.def.b);
      } catch (e) {
        rec.error = e;
      }
    })();
  }
  return rec.loading;
}

async function loadExport(url: string, name: string): Promise<AnyFn> {
  const mod = await importModule(url);
  if (!(name in mod)) {
    const names = Object.keys(mod);
    throw new TypeError(`worker module ${url} has no export named "${name}" (its exports: ${names.length === 0 ? "none" : names.join(", ")})`);
  }
  const f = mod[name];
  if (typeof f !== "function") throw new TypeError(`export "${name}" of worker module ${url} is not a function (it is ${f === null ? "null" : typeof f})`);
  return f as AnyFn;
}

function codeOf(e: unknown): unknown {
  return (e as { code?: unknown } | null)?.code;
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const code = codeOf(e);
    const path = url.startsWith("file:") ? fileURLToPath(url) : null;
    const siblings = path === null ? [] : moduleSiblings(path).filter((p) => existsSync(p));
    const tsProblem = code === "ERR_UNKNOWN_FILE_EXTENSION" || (code === "ERR_MODULE_NOT_FOUND" && siblings.some((p) => /\.[cm]?tsx?$/.test(p)));
    try {
      if (tsProblem && init.tsxApi !== null && init.tsxRegistered !== true) {
        // This worker cannot load TypeScript yet (tsx registers itself in threads only on recent Node).
        const api = (await import(init.tsxApi)) as { register: () => unknown };
        api.register();
        init.tsxRegistered = true;
        // A failed load is cached per URL: retry under a fresh one.
        return (await import(code === "ERR_UNKNOWN_FILE_EXTENSION" ? `${url}${url.includes("?") ? "&" : "?"}tsaio-tsx` : url)) as Record<string, unknown>;
      }
      if (code === "ERR_MODULE_NOT_FOUND" && path !== null && !existsSync(path) && siblings.length > 0) {
        return (await import(pathToFileURL(siblings[0]).href)) as Record<string, unknown>;
      }
    } catch (e2) {
      throw wrapLoadError(url, e2);
    }
    throw wrapLoadError(url, e);
  }
}

function wrapLoadError(url: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const err = new Error(`cannot load worker module ${url}: ${msg}`, { cause: e });
  const code = codeOf(e);
  if (typeof code === "string") (err as Error & { code: string }).code = code;
  return err;
}

/** esbuild (tsx) wraps named inner functions in `__name(fn, "name")`; the worker has no such helper. */
const nameShim = <T>(f: T): T => f;

function compile(src: string, name: string): AnyFn {
  const attempts = [src];
  // Method shorthand (`name(x) { … }`, `async name(x) { … }`) is not an expression by itself.
  if (/^async\s+[\w$]+\s*\(/.test(src)) attempts.push(`async function ${src.replace(/^async\s+/, "")}`);
  else if (/^[\w$]+\s*\(/.test(src)) attempts.push(`function ${src}`);
  let last: unknown;
  for (const s of attempts) {
    try {
      const f = new Function("__name", "currentTask", `return (${s}\n);`)(nameShim, currentTask) as unknown;
      if (typeof f === "function") return f as AnyFn;
    } catch (e) {
      last = e;
    }
  }
  throw new SyntaxError(
    `cannot rebuild ${name} in the worker from its source (${last instanceof Error ? last.message : "not a function"}); only self-contained functions can be sent by source`,
  );
}

// Last: everything above must be initialized before the first job can start.
void start();
