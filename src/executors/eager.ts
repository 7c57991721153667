/**
 * Starting a job's task *eagerly* (Python 3.12's eager tasks): its first step runs at once, inside
 * the worker's dispatch, instead of one loop iteration later. A synchronous job is then over before
 * `startEagerly` returns, and the worker goes straight to the next one: no loop iteration, no
 * microtask hop, no waiting for Node's message dispatch to unwind before the job starts.
 *
 * STOPGAP. Running a step from outside the loop is the loop's business: it is safe only when the
 * loop is not waiting for another task's step, and a step that then blocks on a foreign promise
 * must be handed to the loop's watchdog. The loop offers no API for that yet, so this file — and
 * only this file — reads the loop's internals (`_stepping`, `_stepEnded`) and the task's `_step`,
 * keeping the behaviour the worker always had. When the loop offers
 * `Loop._runEagerly(task): boolean` (run the first step now if no step is in progress, arm the
 * watchdog if it blocks; see the executors rebuild note), `startEagerly` becomes that one call and
 * `JobTask` goes away.
 * Internal: not part of the package's public API.
 * @module
 */
import type { Loop } from "../loop.js";
import { Task } from "../tasks.js";

/** A Task whose first step may be run early: the step the constructor scheduled then does nothing. */
class JobTask<T> extends Task<T> {
  private _begun = false;
  constructor(body: () => T | PromiseLike<T>, loop: Loop) {
    super(body, undefined, loop);
  }
  override _step(): void {
    if (this._begun) return;
    this._begun = true;
    super._step();
  }
}

/** @internal A task running `body` on `loop`, its first step scheduled as usual. */
export function jobTask<T>(loop: Loop, body: () => T | PromiseLike<T>): Task<T> {
  return new JobTask<T>(body, loop);
}

/** @internal Runs `task`'s first step now if no other step is in progress. */
export function startEagerly(loop: Loop, task: Task<unknown>): void {
  if (loop._stepping !== null) return; // the loop runs it in its turn
  task._step();
  if (loop._stepping === task) armWatchdog(loop, task);
}

/** What the loop does for a step it runs that blocks on a foreign promise. */
function armWatchdog(loop: Loop, task: Task<unknown>): void {
  setImmediate(() => {
    if (loop._stepping === task) {
      task._detach();
      loop._stepEnded(task);
    }
  });
}
