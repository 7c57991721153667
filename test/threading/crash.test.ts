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
const pool = new ThreadPoolExecutor({ maxWorkers: 3, prestart: true, cancelGracePeriod: 0 });
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

test("an RLock held three levels deep by a dead worker is free again, owned by nobody", async () => {
  await run(async () => {
    const r = new RLock();
    const held = new Event();
    const dying = pool.submit(crash.fns.holdAndDie, r, 3, held, "exit");
    assert.equal(await held.wait({ timeout: 20_000 }), true);
    const waiting = r.acquire();
    await died(dying);
    assert.equal(await settles(waiting, "the RLock acquire"), true);
    assert.equal(r.owned(), true);
    r.release();
    assert.equal(r.locked(), false);
    assert.throws(() => r.release(), InvalidStateError); // nothing left of the dead owner's count
  });
});

test("Semaphore permits a dead worker held come back; a BoundedSemaphore's bound stays right", async () => {
  await run(async () => {
    const sem = new Semaphore(3);
    const held = new Event();
    const dying = pool.submit(crash.fns.permitsAndExit, sem, 2, held);
    assert.equal(await held.wait({ timeout: 20_000 }), true);
    assert.equal(sem.value, 1);
    const three = Promise.all([sem.acquire(), sem.acquire(), sem.acquire()]);
    await died(dying);
    assert.deepEqual(await settles(three, "three acquires"), [true, true, true]);
    sem.release(3);
    assert.equal(sem.value, 3);

    const b = new BoundedSemaphore(2);
    const held2 = new Event();
    const dying2 = pool.submit(crash.fns.permitsAndExit, b, 2, held2);
    assert.equal(await held2.wait({ timeout: 20_000 }), true);
    const two = Promise.all([b.acquire(), b.acquire()]);
    await died(dying2);
    assert.deepEqual(await settles(two, "two acquires"), [true, true]);
    b.release(2);
    assert.throws(() => b.release(), InvalidStateError); // the dead worker's permits count as released
    assert.equal(b.value, 2);
  });
});

test("a Semaphore used for signalling (released by a thread that did not acquire) gives nothing back", async () => {
  await run(async () => {
    const sem = new Semaphore(0);
    sem.release(2); // the main thread signals: holders are no longer counted
    const held = new Event();
    const dying = pool.submit(crash.fns.permitsAndExit, sem, 2, held);
    assert.equal(await held.wait({ timeout: 20_000 }), true);
    await died(dying);
    // The worker consumed both signals; its death does not invent new ones.
    assert.equal(sem.value, 0);
    assert.equal(await sem.acquire({ timeout: 20 }), false);
  });
});

test("a lock handed to a dead worker's queued acquire goes to the next waiter", async () => {
  await run(async () => {
    const lock = new Lock();
    await lock.acquire();
    const dying = pool.submit(crash.fns.queueThenBlock, lock);
    await settles(waitFor(() => queueLength(lock._w) === 1), "the worker's ticket");
    const next = lock.acquire(); // queued behind the worker's ticket
    lock.release(); // handed to the worker, whose event loop is blocked: never taken up
    assert.equal(lock.locked(), true);
    dying.cancel(); // the pool kills the worker (its loop is blocked)
    await died(dying);
    assert.equal(await settles(next, "the next waiter"), true);
    lock.release();
    assert.equal(lock.locked(), false);
    assert.equal(queueLength(lock._w), 0);
  });
});

test("a dead worker's sync and async Semaphore waits are given up (before or after a permit reaches them)", async () => {
  await run(async () => {
    const sem = new Semaphore(1);
    await sem.acquire();
    const syncWaiter = pool.submit(crash.fns.waitSyncForever, sem);
    const asyncWaiter = pool.submit(crash.fns.queueThenBlock, sem);
    await settles(waitFor(() => queueLength(sem._w) === 2), "two tickets");
    const next = sem.acquire();
    sem.release(); // to the first ticket: a worker about to be killed
    syncWaiter.cancel();
    asyncWaiter.cancel();
    await died(syncWaiter);
    await died(asyncWaiter);
    assert.equal(await settles(next, "the main thread's acquire"), true);
    sem.release();
    assert.equal(sem.value, 1);
    assert.equal(queueLength(sem._w), 0);
  });
});

test("a notification given to a dead worker's Condition.wait goes to the next waiter", async () => {
  await run(async () => {
    const cond = new Condition();
    const dying = pool.submit(crash.fns.condWaitThenBlock, cond);
    await settles(waitFor(() => queueLength(cond._w) === 1 && !cond.locked()), "the worker's wait");
    await cond.acquire();
    const mainWait = cond.wait(); // queued behind the worker
    await cond.acquire();
    cond.notify(1); // to the worker, which will never take it up
    cond.release();
    dying.cancel();
    await died(dying);
    assert.equal(await settles(mainWait, "the main thread's wait"), true);
    cond.release();
  });
});

test("tsaio:threading:recovered names the dead thread and the primitive", async () => {
  await run(async () => {
    const seen: { threadId: number; primitive: unknown }[] = [];
    const listen = (m: unknown): void => void seen.push(m as { threadId: number; primitive: unknown });
    dc.subscribe("tsaio:threading:recovered", listen);
    try {
      const lock = new Lock();
      const held = new Event();
      const dying = pool.submit(crash.fns.holdAndDie, lock, 1, held, "exit");
      await held.wait({ timeout: 20_000 });
      await died(dying);
      const mine = seen.filter((m) => m.primitive === lock);
      assert.equal(mine.length, 1);
      assert.ok(mine[0]!.threadId > 0);
    } finally {
      dc.unsubscribe("tsaio:threading:recovered", listen);
    }
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
