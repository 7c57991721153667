/**
 * `timeout()` / `timeoutAt()`: asyncio's `async with asyncio.timeout(...)` as a function taking the
 * body. The body runs inside the current task; on expiry the *task* is cancelled (so whatever it
 * awaits stops), and the resulting `CancelledError` is turned into `TimeoutError` only if the
 * cancellation is this scope's own: `uncancel()` must bring `cancelling()` back to what it was on
 * entry. An outside cancellation, or an outer timeout that fired at the same time, stays a
 * `CancelledError` and propagates.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "./context.js";
import { CancelledError, InvalidStateError, TimeoutError } from "./errors.js";
import { throwAtCall } from "./futures.js";
import { checkFunction, checkOptionalDelay, checkWhen } from "./internal/validate.js";
import { type DescribeOptions, FULL, msText } from "./internal/describe.js";
import type { Handle, Loop } from "./loop.js";
import { currentTaskOrNull, type Task } from "./tasks.js";

const CREATED = 0;
const ENTERED = 1;
const EXPIRING = 2;
const EXPIRED = 3;
const EXITED = 4;
const STATE_NAMES = ["created", "active", "expiring", "expired", "finished"] as const;

/**
 * The scope a `timeout()` body receives: read or move its deadline.
 * @example
 * ```ts
 * import { timeout, sleep, getRunningLoop } from "tsaio";
 * await timeout(100, async (scope) => {
 *   scope.reschedule(getRunningLoop().time() + 500); // more time
 *   await sleep(200);
 *   console.log(scope.expired()); // false
 * });
 * ```
 */
export class Timeout {
  /** @internal */ _state = CREATED;
  /** @internal */ _when: number | null;
  /** @internal */ _handle: Handle | null = null;
  /** @internal */ _task: Task<unknown> | null = null;
  /** @internal */ _cancelling = 0;
  /** @internal */ readonly _loop: Loop;

  /** @internal */
  constructor(when: number | null, loop: Loop) {
    this._when = when;
    this._loop = loop;
  }

  /** The deadline on the loop's clock (ms), or null for none. */
  when(): number | null {
    return this._when;
  }

  /**
   * Moves the deadline to `when` (ms on the loop's clock; null: no deadline; a past time expires on
   * the next iteration). `InvalidStateError` if the scope is not active.
   */
  reschedule(when: number | null): void {
    if (when !== null) checkWhen(when, "reschedule", "when");
    if (this._state !== ENTERED) {
      if (this._state === CREATED) throw new InvalidStateError("Timeout.reschedule: the timeout has not been entered");
      throw new InvalidStateError(`Timeout.reschedule: cannot change the deadline of a ${STATE_NAMES[this._state]} timeout`);
    }
    this._when = when;
    if (this._handle !== null) this._handle.cancel();
    this._handle = null;
    if (when !== null) {
      const loop = this._loop;
      if (when <= loop.time()) this._handle = loop.callSoon(onTimeout, this);
      else this._handle = loop.callAt(when, onTimeout, this);
    }
  }

  /** Whether the deadline passed (the scope cancelled its task). */
  expired(): boolean {
    return this._state === EXPIRING || this._state === EXPIRED;
  }

  /** @internal */
  _enter(task: Task<unknown>): void {
    this._state = ENTERED;
    this._task = task;
    this._cancelling = task.cancelling();
    this.reschedule(this._when);
  }

  /** @internal Leaves the scope; returns the error to throw (or undefined). */
  _exit(failed: boolean, exc: unknown): unknown {
    if (this._handle !== null) {
      this._handle.cancel();
      this._handle = null;
    }
    if (this._state === EXPIRING) {
      this._state = EXPIRED;
      const task = this._task as Task<unknown>;
      let cancelled = failed && (exc instanceof CancelledError || task._isOwnAbort(exc));
      if (!failed && task._mustCancel) {
        // The body settled without ever seeing the expiry (it only awaited foreign promises): the
        // request is delivered now, as if raised at the body's end.
        exc = task._makeDeliveredError();
        failed = cancelled = true;
      }
      // A CancelledError (or the task signal's AbortError) leaving the scope is the delivery of every
      // request pending now: none is raised a second time at the task's next call.
      if (cancelled) task._delivered();
      if (task.uncancel() <= this._cancelling && cancelled) {
        return new TimeoutError("timed out", { cause: exc });
      }
    } else if (this._state === ENTERED) this._state = EXITED;
    return failed ? exc : undefined;
  }

  /** @internal Its describer (see internal/describe.ts); `util.inspect` shows it. */
  _describe(_o: DescribeOptions): string {
    if (this._when === null) return `<Timeout ${STATE_NAMES[this._state]} when=none>`;
    const left = this._state === ENTERED ? ` left=${Math.max(0, Math.round(this._when - this._loop.time()))}ms` : "";
    return `<Timeout ${STATE_NAMES[this._state]} when=${msText(this._when)}${left}>`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this._describe(FULL);
  }
}

function onTimeout(scope: Timeout): void {
  scope._handle = null;
  const task = scope._task as Task<unknown>;
  task._requestCancel(undefined, `timeout() (deadline ${Math.round((scope._when ?? 0) * 1000) / 1000} ms on the loop clock)`);
  scope._state = EXPIRING;
}

/**
 * Runs `body` in the current task with a deadline `ms` from now (null: none). On expiry the task is
 * cancelled, and the body's resulting `CancelledError` becomes `TimeoutError`; a cancellation from
 * elsewhere stays `CancelledError`. If the body catches the cancellation and returns, no error is
 * thrown and `scope.expired()` tells what happened. Outside any task, the body runs in a new task.
 * @example
 * ```ts
 * import { timeout, sleep, TimeoutError } from "tsaio";
 * try {
 *   await timeout(50, async () => { await sleep(1_000); });
 * } catch (e) {
 *   console.log(e instanceof TimeoutError); // true
 * }
 * ```
 */
export function timeout<T>(ms: number | null, body: (scope: Timeout) => T | PromiseLike<T>): Promise<T> {
  checkOptionalDelay(ms, "timeout", "ms");
  checkFunction(body, "timeout", "body");
  throwAtCall();
  const loop = runningLoop();
  return runScoped(loop, ms === null ? null : loop.time() + ms, body);
}

/**
 * Like `timeout()`, with an absolute deadline `when` on the loop's clock (`loop.time()` ms).
 * @example
 * ```ts
 * import { timeoutAt, getRunningLoop, sleep } from "tsaio";
 * const loop = getRunningLoop();
 * console.log(await timeoutAt(loop.time() + 100, () => sleep(10, "in time"))); // in time
 * ```
 */
export function timeoutAt<T>(when: number | null, body: (scope: Timeout) => T | PromiseLike<T>): Promise<T> {
  if (when !== null) checkWhen(when, "timeoutAt", "when");
  checkFunction(body, "timeoutAt", "body");
  throwAtCall();
  return runScoped(runningLoop(), when, body);
}

async function runScoped<T>(loop: Loop, when: number | null, body: (scope: Timeout) => T | PromiseLike<T>): Promise<T> {
  const task = currentTaskOrNull();
  if (task === null || task._loop !== loop) {
    // Not inside a task (an HTTP handler, a test): the body gets a task of its own.
    return loop.createTask(() => runScoped(loop, when, body));
  }
  const scope = new Timeout(when, loop);
  scope._enter(task);
  let result: T;
  try {
    result = await body(scope);
  } catch (e) {
    throw scope._exit(true, e);
  }
  // An expiry the body never saw (it awaited only foreign promises) still ends the scope.
  const late = scope._exit(false, undefined);
  if (late !== undefined) throw late;
  return result;
}
