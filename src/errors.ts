/**
 * The error classes of tsaio. Each sets `name`, so logs and `util.inspect` show which one it is.
 *
 * asyncio raises `RuntimeError`/`ValueError` for misuse of state; tsaio throws {@link InvalidStateError}
 * for all of those, and keeps `TypeError`/`RangeError` for bad argument values (the message always
 * names the argument).
 * @module
 */

/**
 * Thrown into a task at its next tsaio await once it has been cancelled (`task.cancel(msg)`); its
 * `message` is the `msg` of the first cancel request. Catch it only to clean up, then rethrow: a task
 * that swallows it keeps running (that is asyncio's contract too).
 * @example
 * ```ts
 * import { createTask, sleep, CancelledError } from "tsaio";
 * const t = createTask(() => sleep(1_000));
 * t.cancel("bored");
 * try { await t; } catch (e) { console.log(e instanceof CancelledError, (e as Error).message); } // true bored
 * ```
 */
export class CancelledError extends Error {
  override name = "CancelledError";
  constructor(message = "") {
    super(message);
  }

  /**
   * @internal A CancelledError without a stack trace. Capturing a stack costs microseconds and
   * cancellation is routine (every timeout, every TaskGroup abort): tsaio's own cancellations use
   * this; debug mode keeps full stacks.
   */
  static _fast(message: string, withStack = false): CancelledError {
    if (withStack) return new CancelledError(message);
    // No constructor call, so no stack capture at all: a real CancelledError (instanceof works,
    // name/message/stack read as usual) for ~20 ns instead of ~240 ns even with stackTraceLimit 0.
    // (message and stack are plain own properties here, so they show in Object.keys.)
    const e = Object.create(CancelledError.prototype) as CancelledError;
    e.name = "CancelledError";
    e.message = message;
    e.stack = message ? `CancelledError: ${message}` : "CancelledError";
    return e;
  }
}

/**
 * Thrown by `timeout()`, `timeoutAt()`, `waitFor()`, `wait()`-less APIs and `asCompleted()` when their
 * own deadline passes. Deliberately separate from the DOM's `TimeoutError` DOMException.
 * @example
 * ```ts
 * import { timeout, sleep, TimeoutError } from "tsaio";
 * try { await timeout(10, () => sleep(1_000)); } catch (e) { console.log(e instanceof TimeoutError); } // true
 * ```
 */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/**
 * Misuse of an object's state: `result()` of a pending Future, a second `setResult`, releasing an
 * unlocked Lock, `createTask` on a finished TaskGroup… (asyncio's `InvalidStateError`, `RuntimeError`
 * and state-related `ValueError`).
 * @example
 * ```ts
 * import { Future, InvalidStateError } from "tsaio";
 * const f = new Future<number>();
 * try { f.result(); } catch (e) { console.log(e instanceof InvalidStateError); } // true
 * ```
 */
export class InvalidStateError extends Error {
  override name = "InvalidStateError";
}

/**
 * `getNowait()` on an empty queue.
 * @example
 * ```ts
 * import { QueueEmpty } from "tsaio";
 * console.log(new QueueEmpty().name); // QueueEmpty
 * ```
 */
export class QueueEmpty extends Error {
  override name = "QueueEmpty";
}

/**
 * `putNowait()` on a full queue.
 * @example
 * ```ts
 * import { QueueFull } from "tsaio";
 * console.log(new QueueFull().name); // QueueFull
 * ```
 */
export class QueueFull extends Error {
  override name = "QueueFull";
}

/**
 * A put or get on a queue that was shut down.
 * @example
 * ```ts
 * import { QueueShutDown } from "tsaio";
 * console.log(new QueueShutDown().name); // QueueShutDown
 * ```
 */
export class QueueShutDown extends Error {
  override name = "QueueShutDown";
}

/**
 * A Barrier was aborted or reset while a task waited on it.
 * @example
 * ```ts
 * import { BrokenBarrierError } from "tsaio";
 * console.log(new BrokenBarrierError().name); // BrokenBarrierError
 * ```
 */
export class BrokenBarrierError extends Error {
  override name = "BrokenBarrierError";
}

/**
 * An executor's worker died (crash, exit, out of memory) while holding a job, or the executor is unusable.
 * @example
 * ```ts
 * import { BrokenExecutorError } from "tsaio";
 * console.log(new BrokenExecutorError("worker exited").name); // BrokenExecutorError
 * ```
 */
export class BrokenExecutorError extends Error {
  override name = "BrokenExecutorError";
}

/**
 * `run()` found that its main task can never be woken: nothing is scheduled, no timer is pending and
 * nothing is in flight. The message names each waiting task and what it waits on.
 * @example
 * ```ts
 * import { run, Future, DeadlockError } from "tsaio";
 * try { await run(() => new Future<void>(), { clock: "virtual" }); }
 * catch (e) { console.log(e instanceof DeadlockError); } // true
 * ```
 */
export class DeadlockError extends Error {
  override name = "DeadlockError";
}

/**
 * Raised by `run()` after SIGINT cancelled the main task and shutdown finished (Python's
 * `KeyboardInterrupt`). By default `run()` then exits the process with code 130.
 * @example
 * ```ts
 * import { KeyboardInterrupt } from "tsaio";
 * console.log(new KeyboardInterrupt().name); // KeyboardInterrupt
 * ```
 */
export class KeyboardInterrupt extends Error {
  override name = "KeyboardInterrupt";
}

/**
 * Several errors that happened together, as Python's `ExceptionGroup`: `taskGroup()` throws one
 * holding every child error. It is an `AggregateError`, so `.errors` works; `.exceptions` is the
 * Python name for the same list.
 * @example
 * ```ts
 * import { ExceptionGroup } from "tsaio";
 * const eg = new ExceptionGroup("two failed", [new Error("a"), new TypeError("b")]);
 * console.log(eg.message, eg.exceptions.length, eg instanceof AggregateError); // two failed (2 sub-exceptions) 2 true
 * ```
 */
export class ExceptionGroup extends AggregateError {
  override name = "ExceptionGroup";
  constructor(message: string, exceptions: readonly unknown[]) {
    if (!Array.isArray(exceptions)) throw new TypeError("ExceptionGroup: `exceptions` must be an array");
    if (exceptions.length === 0) throw new RangeError("ExceptionGroup: `exceptions` must not be empty");
    const n = exceptions.length;
    super(exceptions, `${message} (${n} sub-exception${n === 1 ? "" : "s"})`);
  }
  /** The errors in the group (the same array as `errors`). */
  get exceptions(): unknown[] {
    return this.errors as unknown[];
  }
  /**
   * The sub-group of errors that match `predicate` (searched recursively into nested groups), or
   * `null` when none match: Python's `ExceptionGroup.subgroup`.
   */
  subgroup(predicate: (e: unknown) => boolean): ExceptionGroup | null {
    const kept: unknown[] = [];
    for (const e of this.exceptions) {
      if (e instanceof ExceptionGroup) {
        const sub = e.subgroup(predicate);
        if (sub !== null) kept.push(sub);
      } else if (predicate(e)) kept.push(e);
    }
    if (kept.length === 0) return null;
    const base = this.message.replace(/ \(\d+ sub-exceptions?\)$/, "");
    return new ExceptionGroup(base, kept);
  }
}
