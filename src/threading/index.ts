/**
 * `tsaio/threading`: Python's `threading` primitives for worker threads, on `SharedArrayBuffer` and
 * `Atomics` — `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Condition`, `Barrier`,
 * `Queue`, `Value`, `SharedArray`, `RawArray`.
 *
 * - **Async everywhere**: every wait is `await`able from any thread, takes `{ signal, timeout }`, is a
 *   tsaio cancellation point, and never blocks the event loop (`Atomics.waitAsync`; the process is
 *   kept alive while a wait is pending). Waiters are served FIFO (a ticket queue in shared memory).
 * - **Sync in workers**: `acquireSync()`, `waitSync()`… block the calling worker thread (CPU code with
 *   no await). On the main thread they throw instead of freezing the event loop.
 * - **Passed as arguments**: give a primitive to `ThreadPoolExecutor.submit(fn, lock)` and the job
 *   receives the same primitive (typed end to end). A plain `Worker` gets one from a handle:
 *   `new Worker(url, { workerData: lock.handle })`, then `Lock.from(workerData)`. Process pools
 *   refuse them at `submit` (memory cannot be shared across processes).
 *
 * Misuse of state (releasing an unlocked Lock, an RLock one does not own, over-releasing a
 * BoundedSemaphore) throws `InvalidStateError`, as everywhere in tsaio.
 *
 * **Crash safety: recovered, not broken.** A thread tsaio knows — a `ThreadPoolExecutor` worker, or
 * a plain `Worker` given to {@link registerWorker} — that dies (exits, throws an uncaught error, is
 * terminated) while holding a `Lock`, an `RLock` or `Semaphore` permits does not wedge them: what
 * it held is released as if it had called `release()`, and its pending waits are given up (a lock,
 * permit or `Condition` notification handed to it goes to the next waiter). Waiters in every
 * thread wake and go on; nobody gets an error. It happens in the thread that made the pool or the
 * worker, when it learns of the exit and before the dead worker's jobs fail, for the primitives
 * that thread made or re-attached (one a worker made and shared by other means is not known).
 * - Like a robust mutex's `EOWNERDEAD`, this cannot undo a half-done update the dead thread made
 *   under the lock: the `tsaio:threading:recovered` diagnostics channel (`{ threadId, primitive }`)
 *   reports each recovery.
 * - A thread's `Lock` is released when it exits: it is not left held for another thread to release.
 * - A `Semaphore` counts its holders per thread only while every release comes from a thread that
 *   holds a permit; after the first that does not (signalling: one thread releases what another
 *   acquires), a dead thread's permits are not given back. Signal with an `Event` or a `Queue`.
 * - A `Barrier` or `Event` holds nothing (a party that dies before arriving leaves the others
 *   waiting, as in Python). A `Queue`: a dead thread's pending async get/put leaves its queue, and the
 *   ring's lock is freed if it died holding it; an interrupted copy leaves the item in the queue (get)
 *   or never put (put).
 * @example
 * ```ts
 * import { Lock, Value } from "tsaio/threading";
 * const total = new Value("i32", 0);
 * const lock: Lock = total.getLock() as Lock;
 * await lock.run(() => { total.value += 41; });
 * console.log(total.value + 1); // 42
 * ```
 * @module
 */
export { BrokenBarrierError, QueueEmpty, QueueFull, QueueShutDown } from "../errors.js";
export { Barrier } from "./barrier.js";
export { Condition, type ConditionHandle } from "./condition.js";
export { Event } from "./event.js";
export { Held, Lock, RLock } from "./lock.js";
export { registerWorker } from "./recovery.js";
export { Queue, type QueueHandle } from "./queue.js";
export { BoundedSemaphore, Semaphore } from "./semaphore.js";
export type { Handle, WaitOptions } from "./shared.js";
export { RawArray, SharedArray, Value, type ElementOf, type LockOption, type TypeCode, type TypedArrayOf, type ValueHandle } from "./value.js";
