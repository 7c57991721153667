/**
 * The Queue's async waiters are FIFO among themselves (as asyncio's), in one thread and across
 * threads: a getter (putter) that started waiting later never takes an item (room) before one that
 * waits since earlier, even when the earlier one's thread cannot run at that moment.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, createTask, run, sleep, ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { Event, Queue, QueueEmpty } from "../../src/threading/index.js";

const jobs = workerModule<typeof import("./fixtures/queue-jobs.js")>(new URL("./fixtures/queue-jobs.js", import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 1, prestart: true });
after(() => pool.shutdown());

test("async getters take items in the order they started waiting; a cancelled or timed-out one leaves no gap", async () => {
  await run(async () => {
    const q = new Queue<number>();
    const order: string[] = [];
    const getter = (name: string, timeout?: number) =>
      createTask(async () => {
        const v = await q.get({ timeout });
        order.push(`${name}=${v}`);
        return v;
      });
    const g1 = getter("g1");
    const g2 = getter("g2");
    const g3 = getter("g3", 5);
    const g4 = getter("g4");
    const g5 = getter("g5");
    await sleep(1);
    g2.cancel();
    await assert.rejects(g2, CancelledError);
    await assert.rejects(g3, QueueEmpty); // timed out in the middle of the queue
    for (const v of [1, 2, 3]) q.putNowait(v);
    // A get() arriving while getters wait queues behind them, even with items there.
    const late = getter("late");
    await sleep(1);
    q.putNowait(4);
    assert.deepEqual(await Promise.all([g1, g4, g5, late]), [1, 2, 3, 4]);
    assert.deepEqual(order, ["g1=1", "g4=2", "g5=3", "late=4"]);
    assert.match(inspect(q), /size=0 /);
    assert.doesNotMatch(inspect(q), /getters=/); // every ticket left the queue
  });
});

test("async putters on a full queue put in the order they started waiting", async () => {
  await run(async () => {
    const q = new Queue<string>(1);
    q.putNowait("first");
    const putter = (v: string) => createTask(() => q.put(v));
    const p1 = putter("a");
    const p2 = putter("b");
    const p3 = putter("c");
    await sleep(1);
    p2.cancel();
    await assert.rejects(p2, CancelledError);
    const got: string[] = [q.getNowait()];
    // A put() arriving while putters wait queues behind them, even with room there.
    const late = putter("late");
    for (let i = 0; i < 3; i++) got.push(await q.get());
    await Promise.all([p1, p3, late]);
    assert.deepEqual(got, ["first", "a", "c", "late"]);
    assert.equal(q.qsize(), 0);
  });
});

test("across threads: a getter waiting in a busy worker keeps its turn; a later getter in the main thread waits behind it", async () => {
  await run(async () => {
    const q = new Queue<string>();
    const waiting = new Event();
    const release = new Event();
    const worker = pool.submit(jobs.fns.getWhileBlocked, q, waiting, release);
    assert.equal(await waiting.wait({ timeout: 10_000 }), true);
    let mainGot: string | null = null;
    const mine = createTask(async () => (mainGot = await q.get({ timeout: 10_000 })));
    await sleep(5);
    await q.put("one");
    await sleep(30);
    // The worker's getter came first and cannot run (its thread is blocked): the item waits for it.
    assert.equal(mainGot, null, "a later getter took the item of an earlier one");
    assert.equal(q.qsize(), 1);
    release.set();
    assert.equal(await worker, "one");
    await q.put("two");
    assert.equal(await mine, "two");
  });
});

test("across threads: a putter waiting in a busy worker keeps its turn for room", async () => {
  await run(async () => {
    const q = new Queue<string>(1);
    q.putNowait("first");
    const waiting = new Event();
    const release = new Event();
    const worker = pool.submit(jobs.fns.putWhileBlocked, q, "worker's", waiting, release);
    assert.equal(await waiting.wait({ timeout: 10_000 }), true);
    let mainPut = false;
    const mine = createTask(async () => {
      await q.put("main's", { timeout: 10_000 });
      mainPut = true;
    });
    await sleep(5);
    assert.equal(await q.get(), "first");
    await sleep(30);
    assert.equal(mainPut, false, "a later putter took the room of an earlier one");
    assert.equal(q.qsize(), 0);
    release.set();
    await worker;
    assert.equal(await q.get(), "worker's");
    await mine;
    assert.equal(await q.get(), "main's");
  });
});

test("a task cancelled right after its get/put was woken takes no item and puts none (the item stays, or the room)", async () => {
  await run(async () => {
    let gotOrKept = 0;
    for (let i = 0; i < 300; i++) {
      const q = new Queue<number>(1);
      const k = i % 6;
      const g = createTask(() => q.get());
      await sleep(0);
      q.putNowait(i);
      for (let j = 0; j < k; j++) await Promise.resolve().then(() => sleep(0));
      g.cancel();
      const outcome = await g.then((v) => ({ v }), (e: unknown) => ({ e }));
      // Either the task got the item, or it is still in the queue: never both, never neither.
      if ("v" in outcome) assert.equal(outcome.v, i);
      else assert.equal(q.getNowait(), i, `item ${i} lost by a cancelled get`);
      gotOrKept++;
      // The same for a put waiting for room: either it put (and returned) or the queue has no trace of it.
      q.putNowait(i); // full
      const p = createTask(() => q.put(-i));
      await sleep(0);
      assert.equal(q.getNowait(), i); // room for the waiting put
      for (let j = 0; j < k; j++) await Promise.resolve().then(() => sleep(0));
      p.cancel();
      const put = await p.then(() => true, () => false);
      assert.equal(q.qsize(), put ? 1 : 0, `a cancelled put ${put ? "lost" : "still put"} its item`);
      if (put) assert.equal(q.getNowait(), -i);
      assert.doesNotMatch(inspect(q), /getters=|putters=/);
    }
    assert.equal(gotOrKept, 300);
  });
});
