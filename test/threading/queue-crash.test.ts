/**
 * A worker that dies while waiting on a Queue, or holding the ring's lock, wedges nothing (crash
 * recovery, see src/threading/shared.ts): the waits queued behind its async get are served, and
 * the lock is freed.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { inspect } from "node:util";
import { BrokenExecutorError, CancelledError, run, sleep, ThreadPoolExecutor, TimeoutError, workerModule } from "../../src/index.js";
import { Queue } from "../../src/threading/index.js";

const jobs = workerModule<typeof import("./fixtures/queue-jobs.js")>(new URL("./fixtures/queue-jobs.js", import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 1, prestart: true, cancelGracePeriod: 0 });
after(() => pool.shutdown());

async function within<T>(p: PromiseLike<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what}`)), ms)));
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!cond()) await sleep(2);
    })(),
    what,
  );
}

const died = (job: PromiseLike<unknown>): Promise<void> =>
  assert.rejects(within(Promise.resolve(job), "the dying job"), (e: unknown) => e instanceof BrokenExecutorError || e instanceof TimeoutError || e instanceof CancelledError);

test("a worker killed while its async get heads the getters' queue: the getter behind it is served", async () => {
  await run(async () => {
    const q = new Queue<string>();
    const job = pool.submit(jobs.fns.getThenBlock, q);
    await until(() => /getters=1/.test(inspect(q)), "the worker's get queued");
    const mine = q.get();
    await until(() => /getters=2/.test(inspect(q)), "the main thread's get queued behind it");
    q.putNowait("item");
    await sleep(10);
    assert.equal(q.qsize(), 1); // the head's thread cannot run: the item waits for it
    job.cancel(); // its event loop is blocked: the pool kills it
    await died(job);
    assert.equal(await within(mine, "the main thread's get"), "item");
    assert.doesNotMatch(inspect(q), /getters=/);
  });
});

test("a worker that dies holding the ring's lock: the lock is freed and the queue works on", async () => {
  await run(async () => {
    const q = new Queue<string>();
    const c = (q as unknown as { _p: { c: Int32Array } })._p.c;
    await died(pool.submit(jobs.fns.dieHoldingRingLock, q));
    await until(() => Atomics.load(c, 0) === 0, "the ring's lock freed");
    q.putNowait("after");
    assert.equal(await q.get(), "after");
  });
});
