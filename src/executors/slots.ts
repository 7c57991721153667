/**
 * The workers of an executor and the dispatch policy: which worker takes the next job, how many
 * jobs a worker may hold (pipelining), the batches posted to them, and when an idle one retires.
 *
 * ## Dispatch
 * `submit` posts a job at once when nothing is queued and a ready worker is idle (a single round
 * trip pays no extra hop). Otherwise the job is queued and, a microtask later, `pump` hands queued
 * jobs to workers, batching every job bound for one worker into one message. A new job prefers an
 * idle worker, then a new worker (up to `maxWorkers`), and only then joins the least-loaded worker's
 * pipeline.
 *
 * ## Pipelining
 * To keep workers busy through the round trip, a thread worker may hold several jobs: as many as
 * fit in ~2 ms of measured work (between 2 and MAX_PIPELINE). Job time is learnt only over
 * stretches where a worker was busy all along (from one report to the next), so neither start-up
 * nor idle gaps count as work. A process worker holds one job at a time.
 *
 * ## Idle workers
 * A worker with nothing to do is unref'd (it never keeps the process alive) and retires after
 * `idleTimeout`: one lazy timer per worker, not one per job — it checks how long the worker has been
 * idle when it fires, and re-arms itself for the rest if the worker worked meanwhile.
 * Internal: not part of the package's public API.
 * @module
 */
import { LongTimeout } from "../internal/timers.js";
import { SENT, STOPPED, type ExecutorFuture } from "./future.js";
import type { Settings } from "./options.js";
import { CANCEL_LEN, DEFINE_LEN, F_TIMED, JOB_LEN, MAX_PIPELINE, OP_CANCEL, OP_DEFINE, OP_JOB, VETO_MASK } from "./protocol.js";
import type { JobQueue } from "./queue.js";
import type { WorkerSlot } from "./slot.js";

type Job = ExecutorFuture<unknown>;

const RESOLVED = Promise.resolve();
const DEFAULT_CAP = 16;
/** Target amount of work (ms) queued inside one thread worker. */
const PIPELINE_MS = 2;

/** @internal What the workers need from their executor. */
export interface SlotsHost {
  readonly queue: JobQueue;
  /** Starts worker `id` (the backend); throws if it cannot. */
  spawn(id: number): WorkerSlot;
  /** A worker could not be started: the executor cannot go on. */
  cannotSpawn(cause: unknown): void;
  /** Whether the executor still takes jobs (not shut down, not broken). */
  isOpen(): boolean;
  isBroken(): boolean;
  /** `job` could not be sent (an argument cannot be cloned): fail it. */
  refused(job: Job, error: Error): void;
}

/** @internal The workers of one executor and how jobs are dealt to them. */
export class Slots {
  /** The live workers. */
  readonly list: WorkerSlot[] = [];
  private readonly _host: SlotsHost;
  private readonly _settings: Settings;
  private _pumpScheduled = false;
  /** Learnt job duration (ms, moving average) and the pipelining depth it gives. */
  private _ema = 0;
  private _cap = DEFAULT_CAP;
  private _nextId = 1;

  constructor(host: SlotsHost, settings: Settings) {
    this._host = host;
    this._settings = settings;
  }

  /** Starts every worker now (`prestart`). */
  prestart(): void {
    while (this.list.length < this._settings.maxWorkers && this._start() !== null);
  }

  /** Sends `job` now if nothing waits before it and a ready worker is idle; false otherwise. */
  sendNow(job: Job): boolean {
    if (this._host.queue.size > 0 || this._pumpScheduled) return false;
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.accepting && s.ready && s.inflight.size === 0) {
        this._assign(s, job);
        this.flush(s);
        return true;
      }
    }
    return false;
  }

  /** Pumps in a microtask: every job submitted in this tick goes out in one batch per worker. */
  schedulePump(): void {
    if (!this._pumpScheduled) {
      this._pumpScheduled = true;
      void RESOLVED.then(this._pumpFromMicrotask);
    }
  }

  private readonly _pumpFromMicrotask = (): void => {
    this._pumpScheduled = false;
    this.pump();
  };

  /** Hands queued jobs to workers, then posts each worker's batch. */
  pump(): void {
    const q = this._host.queue;
    while (q.size > 0 && !this._host.isBroken()) {
      const slot = this._pick();
      if (slot === null) break;
      const job = q.take();
      if (job === undefined) break;
      this._assign(slot, job);
    }
    for (const s of this.list) if (s.ops.length > 0) this.flush(s);
  }

  private _pick(): WorkerSlot | null {
    let best: WorkerSlot | null = null;
    let bestLoad = Infinity;
    const cap = this._cap;
    for (const s of this.list) {
      if (!s.accepting) continue;
      const n = s.inflight.size;
      if (n === 0) return s;
      if (s.pipelined && n < cap && n < bestLoad) {
        best = s;
        bestLoad = n;
      }
    }
    if (this.list.length < this._settings.maxWorkers) return this._start();
    return best;
  }

  private _start(): WorkerSlot | null {
    let slot: WorkerSlot;
    try {
      slot = this._host.spawn(this._nextId++);
    } catch (cause) {
      this._host.cannotSpawn(cause);
      return null;
    }
    this.list.push(slot);
    return slot;
  }

  private _assign(slot: WorkerSlot, job: Job): void {
    const e = job._fn;
    if (!slot.defined.has(e.id)) {
      slot.defined.add(e.id);
      slot.ops.push(OP_DEFINE, e.id, e.def.kind, e.def.a, e.def.b);
    }
    job._vi = slot.pipelined ? slot.sent & VETO_MASK : -1;
    slot.ops.push(OP_JOB, job._seq, e.id, job._args, wireFlags(job), job._vi);
    if (job._transfer !== null) slot.opsTransfer.push(...job._transfer);
    job._job = SENT;
    job._slot = slot;
    slot.inflight.set(job._seq, job);
    slot.sent++;
    if (slot.inflight.size === 1) slot.setRef(true);
    if (slot.sent >= this._settings.maxTasksPerWorker) slot.accepting = false;
  }

  /** Posts the worker's pending batch; a batch that cannot be cloned is retried job by job. */
  flush(slot: WorkerSlot): void {
    const ops = slot.ops;
    const transfer = slot.opsTransfer;
    if (slot.dead) {
      // Its exit report re-queues the jobs.
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
    this._retryAlone(slot, ops);
  }

  private _retryAlone(slot: WorkerSlot, ops: unknown[]): void {
    const cancels: unknown[] = [];
    const jobs: Job[] = [];
    for (let i = 0; i < ops.length; ) {
      const op = ops[i];
      if (op === OP_DEFINE) {
        slot.defined.delete(ops[i + 1] as number);
        i += DEFINE_LEN;
      } else if (op === OP_JOB) {
        const job = slot.inflight.get(ops[i + 1] as number);
        if (job !== undefined) jobs.push(job);
        i += JOB_LEN;
      } else if (op === OP_CANCEL) {
        cancels.push(OP_CANCEL, ops[i + 1], ops[i + 2]);
        i += CANCEL_LEN;
      } else i++;
    }
    let failed = false;
    for (const job of jobs) {
      if (job._job !== SENT || job._slot !== slot) continue;
      const e = job._fn;
      const single: unknown[] = [];
      if (!slot.defined.has(e.id)) single.push(OP_DEFINE, e.id, e.def.kind, e.def.a, e.def.b);
      single.push(OP_JOB, job._seq, e.id, job._args, wireFlags(job), job._vi);
      try {
        slot.post(single, job._transfer ?? []);
        slot.defined.add(e.id);
      } catch (err) {
        failed = true;
        slot.inflight.delete(job._seq);
        job._markStopped();
        this._host.refused(job, new TypeError(`${e.def.b}: an argument cannot be sent to a worker: ${(err as Error).message ?? String(err)}`, { cause: err }));
        this.maybeIdle(slot);
      }
    }
    // Cancels go after the jobs they may target.
    if (cancels.length > 0 && !slot.dead) slot.post(cancels, []);
    // The refused jobs freed pipeline room that queued jobs may use.
    if (failed && this._host.queue.size > 0) this.schedulePump();
  }

  /** After a worker's reports: learn job time, let it idle, refill it (or the others). */
  reportsDone(slot: WorkerSlot): void {
    const n = slot.completions;
    const now = performance.now();
    if (n > 0) {
      slot.completions = 0;
      if (slot.busyAtLastReport) {
        const per = Math.max(0, now - slot.lastReport) / n;
        this._ema = this._ema === 0 ? per : this._ema * 0.5 + per * 0.5;
        this._cap = Math.max(2, Math.min(MAX_PIPELINE, Math.round(PIPELINE_MS / Math.max(this._ema, 1e-6))));
      }
      slot.lastReport = now;
      slot.busyAtLastReport = slot.inflight.size > 0;
    }
    this.maybeIdle(slot, now);
    if (this._host.queue.size > 0) this.pump();
    else if (slot.ops.length > 0) this.flush(slot);
  }

  /** A worker may have become idle: unref it, retire it, or arm its idle timer. */
  maybeIdle(slot: WorkerSlot, now = performance.now()): void {
    if (slot.dead || slot.inflight.size > 0 || slot.expectedExit || slot.killNote !== null) return; // busy, or on its way out
    slot.setRef(false);
    if (!slot.accepting || !this._host.isOpen()) {
      if (this._host.queue.size === 0 || !slot.accepting) this.retire(slot);
      return;
    }
    slot.idleSince = now;
    if (slot.idleTimer === null) slot.idleTimer = new LongTimeout(() => this._idleExpired(slot), this._settings.idleTimeout, true);
  }

  private _idleExpired(slot: WorkerSlot): void {
    slot.idleTimer = null;
    if (slot.dead || slot.inflight.size > 0) return; // busy: re-armed when it is idle again
    const left = slot.idleSince + this._settings.idleTimeout - performance.now();
    if (left <= 1) this.retire(slot);
    else slot.idleTimer = new LongTimeout(() => this._idleExpired(slot), left, true);
  }

  /** Asks a worker to exit (it is idle, or recycled). */
  retire(slot: WorkerSlot): void {
    if (slot.dead || slot.expectedExit) return;
    slot.expectedExit = true;
    slot.accepting = false;
    slot.idleTimer?.cancel();
    slot.idleTimer = null;
    slot.setRef(true); // until its exit is seen: shutdown({ wait }) must not be left hanging
    slot.terminate(true);
  }

  /** A worker exited: forget it. */
  remove(slot: WorkerSlot): void {
    slot.dead = true;
    slot.accepting = false;
    slot.idleTimer?.cancel();
    slot.idleTimer = null;
    const i = this.list.indexOf(slot);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** Queues an OP_CANCEL for `job` in its worker's batch and posts it. */
  postCancel(slot: WorkerSlot, job: Job, message: string): void {
    if (job._job === STOPPED) return;
    slot.ops.push(OP_CANCEL, job._seq, message);
    this.flush(slot);
  }

  /** Workers holding at least one job. */
  busyCount(): number {
    let busy = 0;
    for (const s of this.list) if (s.inflight.size > 0) busy++;
    return busy;
  }
}

/** The job's flags as the worker reads them: a start notice is asked for only when a timeout can fire. */
function wireFlags(job: Job): number {
  return job._kind | (job._timeout !== null && job._timeout !== Infinity ? F_TIMED : 0);
}
