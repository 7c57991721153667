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
 * Not yet: crash safety. A worker that dies (or is terminated) while holding a `Lock`, `RLock` or a
 * `Semaphore` permit leaves it held, as a thread killed in Python would; waiters that passed a
 * `timeout` or a `signal` are not stuck, the others are. (Planned: the executor reports a dead
 * worker's thread id, and locks it held are recovered.) A `Queue` is unaffected by a dead consumer
 * or producer, except for an item being copied at the instant of death.
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
export { Queue, type QueueHandle } from "./queue.js";
export { BoundedSemaphore, Semaphore } from "./semaphore.js";
export type { Handle, WaitOptions } from "./shared.js";
export { RawArray, SharedArray, Value, type ElementOf, type LockOption, type TypeCode, type TypedArrayOf, type ValueHandle } from "./value.js";
