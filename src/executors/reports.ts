/**
 * What workers report, turned into job outcomes: results and errors settle futures, start notices
 * arm timeouts, handed-back jobs go to the front of the queue, and a worker's exit fails the one job
 * it was running (crash blame) and re-queues the rest. This is the executor's side of
 * {@link SlotEvents}; the backends call it, it never calls into a backend beyond {@link WorkerSlot}.
 * Internal: not part of the package's public API.
 * @module
 */
import { BrokenExecutorError } from "../errors.js";
import { QUEUED, type ExecutorFuture } from "./future.js";
import type { Settings } from "./options.js";
import { decodeError, R_CANCELLED, R_ERR, R_FATAL, R_INIT_FAILED, R_OK, R_READY, R_RETIRE, R_RETURN, R_STARTED } from "./protocol.js";
import type { JobQueue } from "./queue.js";
import type { SlotEvents, WorkerSlot } from "./slot.js";
import type { Slots } from "./slots.js";
import type { JobStopper } from "./stopper.js";

type Job = ExecutorFuture<unknown>;

/** @internal What the reports need from the executor itself. */
export interface ReportsHost {
  isBroken(): boolean;
  /** The executor cannot go on: fail everything. */
  breakDown(error: BrokenExecutorError): void;
  /** Something ended: resolve `shutdown({ wait })` if everything has. */
  checkShutdownComplete(): void;
}

/** @internal */
export class Reports implements SlotEvents {
  private _startupFailures = 0;

  constructor(
    private readonly _settings: Settings,
    private readonly _host: ReportsHost,
    private readonly _queue: JobQueue,
    private readonly _slots: Slots,
    private readonly _stopper: JobStopper,
  ) {}

  message(slot: WorkerSlot, msg: unknown): void {
    const m = msg as unknown[];
    switch (m[0]) {
      case R_OK: {
        const job = this._take(slot, m[1] as number);
        if (job !== undefined && !job.done()) job.setResult(m[2]);
        break;
      }
      case R_ERR: {
        const job = this._take(slot, m[1] as number);
        if (job !== undefined && !job.done()) job.setException(decodeError(m[2]));
        break;
      }
      case R_CANCELLED: {
        const job = this._take(slot, m[1] as number);
        if (job !== undefined && !job.done()) job.cancel();
        break;
      }
      case R_STARTED: {
        const job = slot.inflight.get(m[1] as number);
        if (job !== undefined) this._stopper.started(job);
        break;
      }
      case R_READY:
        slot.ready = true;
        this._startupFailures = 0;
        break;
      case R_INIT_FAILED: {
        const cause = decodeError(m[1]);
        this._host.breakDown(new BrokenExecutorError(`${this._settings.name}: the initializer failed in ${slot.describe()}: ${errorText(cause)}`, { cause }));
        break;
      }
      case R_RETIRE:
        slot.accepting = false;
        this._handBack(slot, m.slice(2) as number[]);
        break;
      case R_RETURN:
        this._handBack(slot, m.slice(1) as number[]);
        break;
      case R_FATAL:
        slot.crashError = decodeError(m[1]);
        break;
      // R_BELL: the backend reads its results ring after the messages.
    }
  }

  result(slot: WorkerSlot, seq: number, value: unknown): void {
    const job = this._take(slot, seq);
    if (job !== undefined && !job.done()) job.setResult(value);
  }

  reportsDone(slot: WorkerSlot): void {
    this._slots.reportsDone(slot);
    this._host.checkShutdownComplete();
  }

  exited(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.dead) return;
    this._slots.remove(slot);
    const running = slot.doomedSeq !== 0 ? slot.doomedSeq : slot.runningSeq();
    const back: Job[] = [];
    for (const job of slot.inflight.values()) {
      if (job._seq === running) {
        job._markStopped();
        if (!job.done()) job.setException(this._crashError(slot, code, signal, job));
      } else back.push(job);
    }
    slot.inflight.clear();
    this._putBack(back);
    if (!slot.ready && !slot.expectedExit && !this._host.isBroken()) {
      this._startupFailures++;
      if (this._startupFailures >= 3) {
        const cause = slot.crashError;
        this._host.breakDown(
          new BrokenExecutorError(`${this._settings.name}: workers fail to start (${this._startupFailures} in a row; last: ${slot.describe()} ${exitText(code, signal, cause)})`, { cause }),
        );
      }
    }
    if (this._queue.size > 0) this._slots.pump();
    this._host.checkShutdownComplete();
  }

  /** The job `seq` is over in `slot`: it leaves the worker. */
  private _take(slot: WorkerSlot, seq: number): Job | undefined {
    const job = slot.inflight.get(seq);
    if (job === undefined) return undefined;
    slot.inflight.delete(seq);
    slot.completions++;
    job._markStopped();
    return job;
  }

  /** Jobs handed back unstarted by a worker (retiring, or refusing). */
  private _handBack(slot: WorkerSlot, seqs: number[]): void {
    const back: Job[] = [];
    for (const seq of seqs) {
      const job = slot.inflight.get(seq);
      if (job === undefined) continue;
      slot.inflight.delete(seq);
      back.push(job);
    }
    this._putBack(back);
  }

  /** Jobs a worker held but never started: to the front of the queue, in order. */
  private _putBack(jobs: Job[]): void {
    const again: Job[] = [];
    for (const job of jobs) {
      if (job.done()) {
        job._markStopped();
        continue;
      }
      if (job._transfer !== null && job._transfer.length > 0) {
        // Its transferred arguments went to the worker that handed it back or died.
        job._markStopped();
        job.setException(new BrokenExecutorError(`${this._settings.name}: job #${job._seq} ${job._fn.def.b} lost its transferred arguments with its worker before it started`));
        continue;
      }
      job._job = QUEUED;
      job._slot = null;
      job._vi = -1;
      job._startedNotice = false;
      job._stopAsked = false;
      again.push(job);
    }
    this._queue.putFront(again);
  }

  private _crashError(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null, job: Job): BrokenExecutorError {
    const cause = slot.crashError;
    const what = slot.killNote !== null ? `was terminated (${slot.killNote})` : exitText(code, signal, cause);
    const msg = `${slot.describe()} ${what} while running job #${job._seq} ${job._fn.label}`;
    return cause === undefined ? new BrokenExecutorError(msg) : new BrokenExecutorError(msg, { cause });
  }
}

/** @internal `Name: message` of an error, or the thrown value as text. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function exitText(code: number | null, signal: NodeJS.Signals | null, cause: unknown): string {
  if (cause !== undefined) {
    if ((cause as { code?: unknown }).code === "ERR_WORKER_OUT_OF_MEMORY") return `ran out of memory (resourceLimits): ${errorText(cause)}`;
    return `crashed with an uncaught ${errorText(cause)}`;
  }
  if (signal !== null) return `was killed by ${signal}${signal === "SIGABRT" || signal === "SIGTRAP" ? " (out of memory?)" : ""}`;
  return `exited with code ${code ?? "?"}`;
}
