/**
 * The worker side of the executors: loaded by the bootstrap in every worker thread and worker
 * process. It runs the jobs it receives one at a time, each inside a tsaio Task on the worker's own
 * loop, so that job code sees `currentTask()` and its `signal`, and tsaio awaits inside it are
 * cancellation points. Every outcome is posted (or, for plain values in a thread worker, published
 * in the shared results ring) at once, never buffered, so a worker that dies has reported
 * everything it finished. An idle thread worker blocks in `Atomics.wait` (see "idle wait"). A
 * thread worker claims each job in shared memory before starting it and skips a job the pool
 * vetoed (protocol.ts); a process worker runs a watchdog thread that kills it if its parent dies
 * (watchdog.ts). Loading functions: worker-fns.ts; reporting outcomes: worker-out.ts; starting a
 * job's task eagerly: eager.ts.
 * Internal: not part of the package's public API.
 * @module
 */
import { getHeapStatistics } from "node:v8";
import { receiveMessageOnPort, type TransferListItem } from "node:worker_threads";
import { runningLoop } from "../context.js";
import "../loop.js"; // the loop module registers how to make the default loop this worker runs on
import type { Future } from "../futures.js";
import type { Task } from "../tasks.js";
import { INIT_KEY } from "./bootstrap.js";
import { jobTask, startEagerly } from "./eager.js";
import {
  controlViews,
  CTL_RUNNING,
  CTL_WAKE,
  encodeError,
  type SharedControl,
  CANCEL_LEN,
  DEFINE_LEN,
  F_CHUNK,
  F_SHARED,
  F_TIMED,
  JOB_LEN,
  OP_CANCEL,
  OP_DEFINE,
  OP_JOB,
  R_CANCELLED,
  R_FATAL,
  R_OK_SHARED,
  mayHoldShared,
  wireDeep,
  R_INIT_FAILED,
  R_READY,
  R_RETIRE,
  R_RETURN,
  R_STARTED,
  reviveShared,
  type WorkerInit,
} from "./protocol.js";
import { watchParent } from "./watchdog.js";
import { Outbox, type Send } from "./worker-out.js";
import { explain, load, loadNow, runChunk, setTsx, type AnyFn, type FnRecord } from "./worker-fns.js";

interface Init extends WorkerInit {
  tsxRegistered?: boolean;
  pending?: unknown[];
  unbuffer?: () => void;
}

interface WJob {
  seq: number;
  fnId: number;
  args: unknown[];
  flags: number;
  /** Its veto table entry (thread workers), -1 for none. */
  vi: number;
  cancelled: boolean;
  cancelMsg: string;
}

const init = (globalThis as unknown as Record<string, Init>)[INIT_KEY];
const isProcess = init.kind === "process";
const shared = init.control === undefined ? null : controlViews(init.control);
const ctl = shared === null ? null : shared.hdr;
const loop = runningLoop();
setTsx(init);
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

let send: Send;

if (isProcess) {
  send = (msg) => {
    // A closed channel means the pool is gone: 'disconnect' ends this process.
    if (process.connected) (process.send as (m: unknown) => boolean)(msg);
  };
  process.on("message", onBatch);
  init.unbuffer?.();
  process.on("disconnect", () => process.exit(0));
  // A parent killed without a word (SIGKILL) closes no channel a busy job would notice: a thread of
  // this process watches for it and kills the process, whatever its main thread is doing.
  if (init.parentPid !== undefined) watchParent(init.parentPid);
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
const out = new Outbox(send, shared);

async function start(): Promise<void> {
  // Messages that reached a process worker while this module loaded (buffered by the bootstrap).
  for (const m of init.pending ?? []) onBatch(m);
  if (init.initializer !== null) {
    const rec: FnRecord = { def: init.initializer, fn: null, error: undefined, loading: null };
    try {
      await load(rec);
      if (rec.fn === null) throw rec.error;
      const fn = rec.fn;
      await loop.createTask(() => fn(...init.initargs), { name: "initializer" });
    } catch (e) {
      stopped = true;
      // An initializer sent by source that reads an outer variable: say which, as a job's error does.
      send([R_INIT_FAILED, encodeError(explain(e, rec))]);
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
        const j: WJob = { seq, fnId: b[i + 2] as number, args: b[i + 3] as unknown[], flags: b[i + 4] as number, vi: b[i + 5] as number, cancelled: false, cancelMsg: "" };
        queue.push(j);
        bySeq.set(seq, j);
      }
      i += JOB_LEN;
    } else if (op === OP_DEFINE) {
      fns.set(b[i + 1] as number, { def: { kind: b[i + 2] as 0 | 1, a: b[i + 3] as string, b: b[i + 4] as string }, fn: null, error: undefined, loading: null });
      i += DEFINE_LEN;
    } else if (op === OP_CANCEL) {
      cancelJob(b[i + 1] as number, b[i + 2] as string);
      i += CANCEL_LEN;
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
      if (shared !== null && !claim(shared, j)) {
        if (stopped) return;
        continue; // vetoed: reported cancelled, never started
      }
      current = j;
      if (isProcess || (j.flags & F_TIMED) !== 0) send([R_STARTED, j.seq]);
      const rec = fns.get(j.fnId);
      if (rec === undefined) finish(j, null, new Error(`tsaio worker: unknown function id ${j.fnId}`));
      else if (loadNow(rec)) {
        if (rec.fn !== null) run(j, rec.fn, rec);
        else finish(j, null, rec.error);
      } else {
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

/**
 * Thread workers: marks `j` as the running job (CTL_RUNNING from 0 to its seq), then reads its veto
 * entry (see "Vetoes" in protocol.ts). False if it must not start: vetoed (reported cancelled), or
 * the worker was condemned (`stopped` is then set: start nothing, wait to be terminated).
 */
function claim(sh: SharedControl, j: WJob): boolean {
  if (Atomics.compareExchange(sh.hdr, CTL_RUNNING, 0, j.seq) !== 0) {
    stopped = true;
    return false;
  }
  if (j.vi < 0 || Atomics.load(sh.vetoes, j.vi) !== j.seq) return true;
  bySeq.delete(j.seq);
  if (Atomics.compareExchange(sh.hdr, CTL_RUNNING, j.seq, 0) !== j.seq) stopped = true;
  send([R_CANCELLED, j.seq]);
  return false;
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
  let args: unknown[] | Promise<unknown[]> = j.args;
  if ((j.flags & F_SHARED) !== 0) args = reviveShared(args); // handles (threading primitives, connections…) among them
  const body =
    args instanceof Promise
      ? () => (args as Promise<unknown[]>).then((a) => fn(...a))
      : (j.flags & F_CHUNK) !== 0
        ? () => runChunk(fn, (args as unknown[])[0] as unknown[])
        : () => fn(...(args as unknown[]));
  const task = jobTask<unknown>(loop, body);
  currentJobTask = task;
  currentRec = rec;
  if (j.cancelled) task.cancel(j.cancelMsg);
  else startEagerly(loop, task);
  if (task.done()) finish(j, task, undefined, rec);
  else task._addEntry(doneEntry);
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

/**
 * Reports a result. One holding objects that travel as handles (a Lock, a Connection… possibly
 * nested in arrays and plain objects) goes as `R_OK_SHARED` with their wire forms, revived by the
 * pool; scanned only when a module able to make them is loaded in this worker.
 */
function report(seq: number, value: unknown, rec: FnRecord): void {
  if (typeof value === "object" && value !== null && mayHoldShared()) {
    let w: unknown;
    try {
      w = wireDeep(value, (wire) =>
        isProcess && wire.process !== true ? new TypeError(`${rec.def.b} returned a tsaio/threading ${wire.h.kind}, whose shared memory cannot reach another process`) : null,
      );
    } catch (e) {
      out.error(seq, e);
      return;
    }
    if (w !== value) {
      try {
        send([R_OK_SHARED, seq, w]);
      } catch (e) {
        out.error(seq, new TypeError(`the result of ${rec.def.b} cannot be sent back from the worker: ${(e as Error).message ?? String(e)}`, { cause: e }));
      }
      return;
    }
  }
  out.result(seq, value, rec);
}

/** Reports job `j` (from its task, or a load error), then moves on. */
function finish(j: WJob, task: Task<unknown> | null, error: unknown, rec?: FnRecord): void {
  current = null;
  currentJobTask = null;
  currentRec = null;
  bySeq.delete(j.seq);
  const seq = j.seq;
  if (task === null) {
    if (error === undefined) send([R_CANCELLED, seq]);
    else out.error(seq, error);
  } else if (task.cancelled()) {
    send([R_CANCELLED, seq]);
  } else {
    const e = task.exception();
    if (e === null) report(seq, task.result(), rec as FnRecord);
    else out.error(seq, explain(e, rec as FnRecord));
  }
  if (ctl !== null && Atomics.compareExchange(ctl, CTL_RUNNING, seq, 0) !== seq) {
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

// Last: everything above must be initialized before the first job can start.
void start();
