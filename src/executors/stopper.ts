/**
 * Stopping jobs: the per-job timeout, cancellation into workers, the grace period, and the kill.
 * One timer per purpose, each on the job record: `_timeoutTimer` (armed when the job starts) and
 * `_graceTimer` (armed when a running job is asked to stop). Both are real-clock `LongTimeout`s:
 * jobs run in real time, so a virtual-clock loop must not time them out; Infinity never fires.
 *
 * ## Ask first, kill second
 * When a job's future is settled by anything but its outcome (cancel, timeout, a `setResult` from
 * outside, shutdown) and the job is in a worker:
 * - if it has not started, the worker's backend vetoes it (protocol.ts): it never starts, and the
 *   worker reports it cancelled when it reaches it (or at once, on the OP_CANCEL sent too);
 * - if it runs, it gets `OP_CANCEL` (the worker cancels the job's task, which aborts
 *   `currentTask().signal`) and a grace timer; when that fires (or at once with `force`) the worker
 *   is killed if it is still in that job — `doom` makes sure of that, so no other job dies with it.
 * Capacity is freed only when the worker reports the job over, or dies.
 * Internal: not part of the package's public API.
 * @module
 */
import { TimeoutError } from "../errors.js";
import { LongTimeout } from "../internal/timers.js";
import { SENT, type ExecutorFuture } from "./future.js";
import type { Settings } from "./options.js";
import type { WorkerSlot } from "./slot.js";
import type { Slots } from "./slots.js";

type Job = ExecutorFuture<unknown>;

/** @internal */
export class JobStopper {
  private readonly _settings: Settings;
  private readonly _slots: Slots;

  constructor(settings: Settings, slots: Slots) {
    this._settings = settings;
    this._slots = slots;
  }

  /** The worker started `job` (its start notice): arm its timeout. */
  started(job: Job): void {
    job._startedNotice = true;
    const ms = job._timeout;
    if (ms !== null && !job.done() && job._timeoutTimer === null) job._timeoutTimer = new LongTimeout(() => this._timedOut(job), ms, true);
  }

  private _timedOut(job: Job): void {
    job._timeoutTimer = null;
    if (job.done()) return;
    job.setException(new TimeoutError(`${this._settings.name}: job #${job._seq} ${job._fn.def.b} timed out after ${job._timeout} ms (counted from its start)`));
  }

  /** The future of `job`, which is in a worker, was settled without its outcome: make the job stop. */
  stop(job: Job): void {
    const slot = job._slot as WorkerSlot;
    job._timeoutTimer?.cancel();
    job._timeoutTimer = null;
    if (!job._stopAsked) {
      job._stopAsked = true;
      slot.veto(job);
      this._slots.postCancel(slot, job, stopMessage(job));
    }
    if (job._vetoed || job._job !== SENT) return; // it never starts: nothing to wait for
    if (job._force) this.forceStop(job);
    else if (job._graceTimer === null) {
      const grace = this._settings.grace;
      job._graceTimer = new LongTimeout(() => this._graceExpired(job), grace, true);
    }
  }

  /** `cancel(msg, { force: true })`: kill the job's worker now if the job runs there. */
  forceStop(job: Job): void {
    this._kill(job, "was cancelled with force");
  }

  private _graceExpired(job: Job): void {
    job._graceTimer = null;
    this._kill(job, `did not stop within ${this._settings.grace} ms of being ${job.cancelled() ? "cancelled" : "stopped"}`);
  }

  private _kill(job: Job, why: string): void {
    if (job._job !== SENT || job._vetoed) return;
    const slot = job._slot as WorkerSlot;
    if (slot.dead || !slot.doom(job)) return; // not running now: it ended, or its worker will drop it
    slot.accepting = false;
    slot.killNote = `job #${job._seq} ${job._fn.def.b} ${why}`;
    slot.setRef(true);
    slot.terminate(false);
  }
}

/** What the worker-side task's CancelledError says. */
function stopMessage(job: Job): string {
  if (job.cancelled()) return job._cancelMessage ?? "";
  if (job._exception instanceof TimeoutError) return "timeout";
  return "the job's future was settled";
}
