/**
 * Crash recovery for `tsaio/threading` (the mechanism is described in shared.ts, "Crash recovery"):
 * the registry of this thread's live primitives, what runs when a known thread dies, and
 * {@link registerWorker} for plain `Worker`s.
 *
 * A ThreadPoolExecutor reports a dead worker on the `tsaio:executor:thread-exit` diagnostics
 * channel (`{ threadId }`): this module subscribes to it, so neither side imports the other.
 * @module
 */
import dc from "node:diagnostics_channel";
import { Worker } from "node:worker_threads";
import { InvalidStateError } from "../errors.js";
import { describe } from "../internal/validate.js";
import { wake } from "./shared.js";

/** @internal A primitive that can take back what a dead thread held. */
export interface Recoverable {
  /** @internal */
  readonly _w: Int32Array;
  /**
   * @internal Gives up the tickets of dead thread `dead` (a THREAD value: thread id + 1) and
   * releases what it held; returns whether there was anything.
   */
  _recover(dead: number): boolean;
}

// Weak: a primitive nobody references any more needs no recovery. Dead refs are pruned whenever
// the set has doubled since the last prune, so the set stays within twice the live primitives.
const live = new Set<WeakRef<Recoverable>>();
let pruneAt = 1024;

/** @internal Records `p` (made or re-attached in this thread) for crash recovery; returns it. */
export function track<T extends Recoverable>(p: T): T {
  live.add(new WeakRef(p));
  if (live.size >= pruneAt) {
    for (const r of live) if (r.deref() === undefined) live.delete(r);
    pruneAt = Math.max(1024, live.size * 2);
  }
  return p;
}

const recovered = dc.channel("tsaio:threading:recovered");

/**
 * @internal Thread `threadId` is dead: every primitive this thread knows gives up what it held and
 * its tickets, and every sleeper on them is woken (a wake it was about to give when it died is
 * given now). Idempotent: a second call for the same thread finds nothing.
 */
export function recoverThread(threadId: number): void {
  const dead = threadId + 1;
  for (const r of live) {
    const p = r.deref();
    if (p === undefined) {
      live.delete(r);
      continue;
    }
    const did = p._recover(dead);
    wake(p._w);
    if (did && recovered.hasSubscribers) recovered.publish({ threadId, primitive: p });
  }
}

dc.subscribe("tsaio:executor:thread-exit", (message: unknown) => {
  const id = (message as { threadId?: unknown } | null)?.threadId;
  if (typeof id === "number" && Number.isInteger(id) && id > 0) recoverThread(id);
});

/**
 * Tells tsaio/threading about a plain `Worker` (pool workers are known already): if it dies
 * (exits, throws an uncaught error, is terminated) while holding a `Lock`, `RLock` or `Semaphore`
 * permit, or while waiting for one, what it held is released and its waits given up — for the
 * primitives this thread made or re-attached — so that no other thread waits forever. Returns
 * `worker`. Call it right after `new Worker(…)`, in the thread that made the worker.
 * @example
 * ```ts
 * // not run: the worker module (./counter.js) is not part of the example
 * import { Worker } from "node:worker_threads";
 * import { Lock, registerWorker } from "tsaio/threading";
 * const lock = new Lock();
 * const worker = registerWorker(new Worker(new URL("./counter.js", import.meta.url), { workerData: lock.handle }));
 * worker.on("exit", async () => {
 *   // even if it died holding the lock, the lock was released first:
 *   console.log(await lock.acquire({ timeout: 1000 })); // true
 * });
 * ```
 */
export function registerWorker<W extends Worker>(worker: W): W {
  if (!(worker instanceof Worker)) throw new TypeError(`registerWorker: \`worker\` must be a node:worker_threads Worker, got ${describe(worker)}`);
  const id = worker.threadId;
  if (id < 0) throw new InvalidStateError("registerWorker(): the worker has exited already (register it right after `new Worker(…)`)");
  // prependListener: what it held is released before the program's own "exit" listeners run.
  worker.prependOnceListener("exit", () => recoverThread(id));
  return worker;
}
