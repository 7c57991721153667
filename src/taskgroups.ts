/**
 * `taskGroup()`: asyncio's TaskGroup (structured concurrency) as a function taking the body.
 *
 * The invariants, as in CPython 3.13's taskgroups.py (plus 3.15's `cancel()`):
 * - the group does not return until every child is done;
 * - the first child error cancels the body (through the parent task) and every sibling, and the
 *   group throws an `ExceptionGroup` of all non-cancellation errors (the body's own error last);
 * - the cancellation the group issued to its parent is withdrawn (`uncancel`) on exit, so an outside
 *   cancellation is never confused with the group's own and never lost;
 * - `tg.cancel()` ends the group early without an error.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { CancelledError, ExceptionGroup, InvalidStateError, KeyboardInterrupt } from "./errors.js";
import { type DoneEntry, Future, throwAtCall } from "./futures.js";
import { checkFunction } from "./internal/validate.js";
import { type DescribeOptions, FULL } from "./internal/describe.js";
import type { Loop } from "./loop.js";
import { currentTaskOrNull, type Task, type TaskOptions } from "./tasks.js";

/** @internal Which task runs the group a child belongs to (for `taskTree()`). */
export const groupParent = new WeakMap<Task<unknown>, Task<unknown>>();

/**
 * The handle a `taskGroup()` body receives: start children with `createTask`, stop them all with
 * `cancel`.
 * @example
 * ```ts
 * import { taskGroup, sleep } from "tsaio";
 * await taskGroup(async (tg) => {
 *   const a = tg.createTask(() => sleep(10, "a"));
 *   tg.createTask(() => sleep(20));
 *   console.log(await a); // a
 * });
 * ```
 */
export class TaskGroup implements DoneEntry {
  /** @internal */ _exiting = false;
  /** @internal */ _aborting = false;
  /** @internal */ _finished = false;
  /** @internal */ _parentCancelRequested = false;
  /** @internal */ readonly _tasks = new Set<Task<unknown>>();
  /** @internal */ readonly _errors: unknown[] = [];
  /** @internal */ _baseError: unknown = null;
  /** @internal */ _onCompletedFut: Future<boolean> | null = null;
  /** @internal */ readonly _loop: Loop;
  /** @internal */ readonly _parent: Task<unknown>;

  /** @internal */
  constructor(loop: Loop, parent: Task<unknown>) {
    this._loop = loop;
    this._parent = parent;
  }

  /**
   * Starts `fn` as a child task of the group. `InvalidStateError` once the group is shutting down
   * (after a failure or `cancel()`) or finished.
   */
  createTask<T>(fn: () => T | PromiseLike<T>, options?: TaskOptions): Task<T> {
    if (this._finished || (this._exiting && this._tasks.size === 0)) throw new InvalidStateError("TaskGroup.createTask: the TaskGroup is finished");
    if (this._aborting) throw new InvalidStateError("TaskGroup.createTask: the TaskGroup is shutting down");
    const task = this._loop.createTask(fn, options);
    groupParent.set(task as Task<unknown>, this._parent);
    this._tasks.add(task as Task<unknown>);
    task._addEntry(this);
    return task;
  }

  /**
   * Cancels every child and the body; the group then ends without an error (asyncio 3.15).
   * Idempotent; does nothing once the group has finished.
   */
  cancel(): void {
    if (this._finished || (this._exiting && this._tasks.size === 0)) return;
    if (!this._aborting) this._abort();
    if (!this._parentCancelRequested) {
      this._parentCancelRequested = true;
      this._parent.cancel();
    }
  }

  /** @internal */
  _abort(): void {
    this._aborting = true;
    for (const t of this._tasks) if (!t.done()) t.cancel();
  }

  /** @internal A child finished. */
  _onDone(fut: Future<unknown>): void {
    const task = fut as Task<unknown>;
    this._tasks.delete(task);
    const w = this._onCompletedFut;
    if (w !== null && this._tasks.size === 0 && !w.done()) w.setResult(true);
    if (task.cancelled()) return;
    const exc = task.exception();
    if (exc === null) return;
    this._errors.push(exc);
    if (exc instanceof KeyboardInterrupt && this._baseError === null) this._baseError = exc;
    if (this._parent.done()) {
      this._loop.callExceptionHandler({
        message: `Task ${task.name} has errored out but its parent task ${this._parent.name} is already completed`,
        exception: exc,
        task,
      });
      return;
    }
    if (!this._aborting && !this._parentCancelRequested) {
      // Cancel the parent so that whatever the body awaits stops; __aexit__ withdraws it later.
      this._abort();
      this._parentCancelRequested = true;
      this._parent.cancel();
    }
  }

  /** @internal The body ended (with `exc` if `failed`): wait for the children, then decide the outcome. */
  async _exit(failed: boolean, exc: unknown): Promise<void> {
    this._exiting = true;
    if (failed && exc instanceof KeyboardInterrupt && this._baseError === null) this._baseError = exc;
    let propagateCancel: unknown = failed && exc instanceof CancelledError ? exc : null;
    if (failed && !this._aborting) this._abort();
    while (this._tasks.size > 0) {
      if (this._onCompletedFut === null) this._onCompletedFut = new Future<boolean>(this._loop);
      try {
        await this._onCompletedFut;
      } catch (ex) {
        if (!(ex instanceof CancelledError)) throw ex;
        if (!this._aborting) {
          // The parent is being cancelled from outside while children still run.
          propagateCancel = ex;
          this._abort();
        }
      }
      this._onCompletedFut = null;
    }
    this._finished = true;
    if (this._baseError !== null) throw this._baseError;
    if (this._parentCancelRequested) {
      // The group cancelled its parent: withdraw that request; if none is left, swallow the error.
      if (this._parent.uncancel() === 0) propagateCancel = null;
    }
    if (propagateCancel !== null && this._errors.length === 0) throw propagateCancel;
    if (failed && !(exc instanceof CancelledError)) this._errors.push(exc);
    if (this._errors.length > 0) {
      // An outside cancellation is kept pending (3.13): un-cancel and re-cancel keeps the count stable.
      if (this._parent.cancelling() > 0) {
        this._parent.uncancel();
        this._parent.cancel();
      }
      throw new ExceptionGroup("unhandled errors in a TaskGroup", this._errors);
    }
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    const state = this._finished ? "finished" : this._aborting ? "aborting" : this._exiting ? "exiting" : "active";
    return `<TaskGroup ${state} tasks=${this._tasks.size} errors=${this._errors.length}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

/**
 * Runs `body` with a TaskGroup and returns its result once every child task has finished
 * (structured concurrency). The first child error cancels the body and every sibling, waits for
 * them all, and throws an `ExceptionGroup` of every non-cancellation error. Cancelling the caller
 * cancels all children and stays a `CancelledError`. If `tg.cancel()` stopped the body before it
 * returned, the result is `undefined`. Outside any task, the group runs in a task of its own.
 * @example
 * ```ts
 * import { taskGroup, sleep } from "tsaio";
 * const sum = await taskGroup(async (tg) => {
 *   const a = tg.createTask(() => sleep(10, 1));
 *   const b = tg.createTask(() => sleep(20, 2));
 *   return (await a) + (await b);
 * });
 * console.log(sum); // 3
 * ```
 */
export function taskGroup<T>(body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<T> {
  checkFunction(body, "taskGroup", "body");
  throwAtCall();
  return runGroup(runningLoop(), body);
}

async function runGroup<T>(loop: Loop, body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<T> {
  const parent = currentTaskOrNull();
  if (parent === null || parent._loop !== loop) return loop.createTask(() => runGroup(loop, body));
  const tg = new TaskGroup(loop, parent);
  let result: T | undefined;
  let failed = false;
  let exc: unknown;
  try {
    result = await body(tg);
  } catch (e) {
    failed = true;
    exc = e;
  }
  await tg._exit(failed, exc);
  return result as T;
}
