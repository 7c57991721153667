/**
 * Crash recovery of tsaio/threading: a worker that dies (process.exit, an uncaught exception, killed
 * by its pool) while holding a Lock, RLock or Semaphore permits — or while waiting for one — leaves
 * nothing wedged: its holdings are released, its tickets given up, and waiters in every thread go on.
 */
import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import { Worker } from "node:worker_threads";
import { after, test } from "node:test";
import { BrokenExecutorError, CancelledError, InvalidStateError, run, ThreadPoolExecutor, TimeoutError, workerModule } from "../../src/index.js";
import { tsxApiUrl } from "../../src/executors/bootstrap.js";
import { BoundedSemaphore, Condition, Event, Lock, registerWorker, RLock, Semaphore } from "../../src/threading/index.js";
import { queueLength } from "../../src/threading/shared.js";

const crash = workerModule<typeof import("./fixtures/crash.js")>(new URL("./fixtures/crash.js", import.meta.url));
const jobs = workerModule<typeof import("./fixtures/jobs.js")>(new URL("./fixtures/jobs.js", import.meta.url));

// One pool for the file (worker start-up is the slow part); each test's dead worker is replaced.
const pool = new ThreadPoolExecutor({ maxWorkers: 2, prestart: true, cancelGracePeriod: 0 });
after(() => pool.shutdown());

/** `p`, or a failure naming `what` if it has not settled within `ms` (a hang). */
async function settles<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** The job died: its future fails (BrokenExecutorError for a dead worker, TimeoutError for a killed one). */
async function died(job: PromiseLike<unknown>): Promise<void> {
  await assert.rejects(
    settles(Promise.resolve(job), "the dying job"),
    (e: unknown) => e instanceof BrokenExecutorError || e instanceof TimeoutError || e instanceof CancelledError,
  );
}

for (const how of ["exit", "throw", "hang"] as const) {
  test(`a worker that dies holding a Lock (${how}): waiters on the main thread and in another worker get it`, async () => {
    await run(async () => {
      const lock = new Lock();
      const held = new Event();
      const dying = pool.submit(crash.fns.holdAndDie, lock, 1, held, how);
      assert.equal(await held.wait({ timeout: 20_000 }), true);
      if (how === "hang") dying.cancel(); // its event loop is blocked: the pool kills the worker
      assert.equal(lock.locked(), true);
      // Waiters with no timeout, in both kinds of thread: without recovery they would wait forever.
      const inWorker = pool.submit(jobs.fns.holdSync, lock, 1);
      const onMain = lock.acquire();
      const withTimeout = lock.acquire({ timeout: 60_000 });
      await died(dying);
      assert.equal(await settles(onMain, "main's acquire"), true);
      lock.release();
      assert.equal(await settles(withTimeout, "main's acquire with a timeout"), true);
      lock.release();
      assert.equal(typeof (await settles(Promise.resolve(inWorker), "the worker's acquireSync")), "number");
      // Later acquires behave as usual.
      assert.equal(lock.locked(), false);
      assert.equal(lock.tryAcquire(), true);
      lock.release();
      assert.equal(queueLength(lock._w), 0);
    });
  });
}

test("RLock three levels deep, Semaphore and BoundedSemaphore permits held by a dead worker come back (not a signalling Semaphore's)", async () => {
  const seen: { threadId: number; primitive: unknown }[] = [];
  const listen = (m: unknown): void => void seen.push(m as { threadId: number; primitive: unknown });
  const exits: unknown[] = [];
  const onExit = (m: unknown): void => void exits.push(m);
  dc.subscribe("tsaio:threading:recovered", listen);
  dc.subscribe("tsaio:executor:thread-exit", onExit);
  try {
    await run(async () => {
      const r = new RLock();
      const sem = new Semaphore(3);
      const bounded = new BoundedSemaphore(2);
      const signals = new Semaphore(0);
      signals.release(2); // the main thread signals: holders of `signals` are no longer counted
      const held = new Event();
      const dying = pool.submit(crash.fns.holdManyAndExit, r, sem, bounded, signals, held);
      assert.equal(await held.wait({ timeout: 20_000 }), true);
      assert.equal(sem.value, 1);
      const waits = Promise.all([r.acquire(), sem.acquire(), sem.acquire(), sem.acquire(), bounded.acquire(), bounded.acquire()]);
      await died(dying);
      assert.deepEqual(await settles(waits, "the main thread's acquires"), [true, true, true, true, true, true]);
      // The RLock: the main task owns it now; nothing is left of the dead owner's count.
      assert.equal(r.owned(), true);
      r.release();
      assert.equal(r.locked(), false);
      assert.throws(() => r.release(), InvalidStateError);
      sem.release(3);
      assert.equal(sem.value, 3);
      // The dead worker's permits count as released: the bound still holds.
      bounded.release(2);
      assert.throws(() => bounded.release(), InvalidStateError);
      assert.equal(bounded.value, 2);
      // The worker consumed both signals; its death does not invent new ones.
      assert.equal(signals.value, 0);
      assert.equal(await signals.acquire({ timeout: 10 }), false);
      // Each recovery is reported once, naming the dead thread.
      const ids = new Set(seen.map((m) => m.threadId));
      assert.deepEqual(seen.map((m) => m.primitive).filter((p) => p === r || p === sem || p === bounded || p === signals).length, 3);
      assert.equal(ids.size, 1);
      assert.ok([...ids][0]! > 0);
      // The executor's seam: it published the dead worker's thread id.
      assert.ok(exits.some((m) => (m as { threadId: number }).threadId === [...ids][0]), JSON.stringify(exits));
    });
  } finally {
    dc.unsubscribe("tsaio:threading:recovered", listen);
    dc.unsubscribe("tsaio:executor:thread-exit", onExit);
  }
});

test("what is handed to a dead worker's pending waits (Lock, Semaphore sync and async, Condition) goes to the next waiters", async () => {
  await run(async () => {
    const lock = new Lock();
    const sem = new Semaphore(1);
    const cond = new Condition();
    await lock.acquire();
    await sem.acquire();
    const syncWaiter = pool.submit(crash.fns.waitSyncForever, sem);
    await settles(waitFor(() => queueLength(sem._w) === 1), "the sync waiter's ticket");
    const asyncWaiter = pool.submit(crash.fns.queueThenBlock, lock, sem, cond);
    await settles(waitFor(() => queueLength(lock._w) === 1 && queueLength(sem._w) === 2 && queueLength(cond._w) === 1 && !cond.locked()), "the worker's waits");
    // The sync waiter is killed first (alive, it would take a permit up): its ticket is given up.
    syncWaiter.cancel();
    await died(syncWaiter);
    await settles(waitFor(() => queueLength(sem._w) === 1), "the dead sync waiter's ticket given up");
    // The main thread's waits, queued behind the workers'.
    const nextLock = lock.acquire();
    const nextSem = sem.acquire();
    await cond.acquire();
    const nextCond = cond.wait();
    await cond.acquire();
    // Hand everything to the workers, which will never take it up.
    cond.notify(1);
    cond.release();
    lock.release();
    sem.release();
    assert.equal(lock.locked(), true);
    assert.equal(sem.value, 0);
    asyncWaiter.cancel(); // its event loop is blocked: the pool kills it
    await died(asyncWaiter);
    assert.equal(await settles(nextLock, "the Lock's next waiter"), true);
    assert.equal(await settles(nextSem, "the Semaphore's next waiter"), true);
    assert.equal(await settles(nextCond, "the Condition's next waiter"), true);
    cond.release();
    lock.release();
    sem.release();
    assert.equal(lock.locked(), false);
    assert.equal(sem.value, 1);
    for (const p of [lock, sem, cond]) assert.equal(queueLength(p._w), 0);
  });
});

test("registerWorker: a plain Worker that exits holding a Lock releases it; bad input is refused", async () => {
  await run(async () => {
    const lock = new Lock();
    const code = `
      const { workerData, parentPort } = require("node:worker_threads");
      (async () => {
        let m;
        try { m = await import(workerData.mod); }
        catch { (await import(workerData.tsx)).register(); m = await import(workerData.mod + "?tsx"); } // Node 20: tsx by hand
        m.Lock.from(workerData.h).acquireSync();
        parentPort.postMessage("held");
        setTimeout(() => process.exit(0), 50);
      })();`;
    const mod = new URL("../../src/threading/index.ts", import.meta.url).href;
    const worker = registerWorker(new Worker(code, { eval: true, workerData: { mod, tsx: tsxApiUrl(), h: lock.handle } }));
    const heldMsg = new Promise((r) => worker.once("message", r));
    const exited = new Promise((r) => worker.once("exit", r));
    assert.equal(await settles(heldMsg, "the worker's acquire"), "held");
    const waiting = lock.acquire();
    await exited;
    assert.equal(await settles(waiting, "the main thread's acquire"), true);
    lock.release();
    assert.throws(() => registerWorker({} as Worker), { name: "TypeError", message: /registerWorker: `worker` must be a node:worker_threads Worker/ });
    assert.throws(() => registerWorker(worker), InvalidStateError);
  });
});

/** Polls `cond` every few ms until true. */
async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}
