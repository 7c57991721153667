/** tsaio/threading's Queue: FIFO, bounds, errors, shutdown, across threads. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, createTask, InvalidStateError, run, sleep, ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { Queue, QueueEmpty, QueueFull, QueueShutDown } from "../../src/threading/index.js";

const jobs = workerModule<typeof import("./fixtures/jobs.js")>(new URL("./fixtures/jobs.js", import.meta.url));
const jobs2 = workerModule<typeof import("./fixtures/queue-jobs.js")>(new URL("./fixtures/queue-jobs.js", import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 2, prestart: true });
after(() => pool.shutdown());

test("FIFO, structured clone, maxsize, nowait errors, timeouts, taskDone/join", async () => {
  await run(async () => {
    const q = new Queue<unknown>(2);
    const d = new Date(5);
    await q.put({ a: [1, 2n], d, m: new Map([[1, "x"]]) });
    q.putNowait("two");
    assert.equal(q.full(), true);
    assert.throws(() => q.putNowait(3), QueueFull);
    await assert.rejects(q.put(3, { timeout: 5 }), QueueFull);
    const first = (await q.get()) as { a: unknown[]; d: Date; m: Map<number, string> };
    assert.deepEqual(first, { a: [1, 2n], d, m: new Map([[1, "x"]]) });
    assert.notEqual(first.d, d); // a clone
    assert.equal(q.getNowait(), "two");
    assert.throws(() => q.getNowait(), QueueEmpty);
    await assert.rejects(q.get({ timeout: 5 }), QueueEmpty);
    // an item that cannot be cloned fails the put, not the consumer
    assert.throws(() => q.putNowait(() => 1), /could not be cloned/);
    assert.throws(() => q.put(Symbol("s")), /could not be cloned/);
    // an item larger than the buffer is refused with its size
    const small = new Queue<string>(0, { bufferSize: 64 });
    assert.throws(() => small.putNowait("x".repeat(100)), /the item takes \d+ bytes serialized, more than the queue's buffer holds/);
    // join waits for taskDone
    assert.equal(q.qsize(), 0);
    let joined = false;
    const j = createTask(async () => {
      await q.join();
      joined = true;
    });
    await sleep(5);
    assert.equal(joined, false); // two items were put and taken, none marked done
    q.taskDone();
    q.taskDone();
    await j;
    assert.equal(joined, true);
    assert.throws(() => q.taskDone(), InvalidStateError);
    assert.match(inspect(q), /<threading.Queue size=0\/2 bytes=0\/\d+ unfinished=0>/);
  });
});

test("a get waiting is woken by a put; cancel and signal stop waits; the ring wraps", async () => {
  await run(async () => {
    const q = new Queue<number>(0, { bufferSize: 64 });
    const g = createTask(() => q.get());
    await sleep(2);
    await q.put(7);
    assert.equal(await g, 7);
    const c = createTask(() => q.get());
    await sleep(2);
    c.cancel();
    await assert.rejects(c, CancelledError);
    await assert.rejects(q.get({ signal: AbortSignal.abort() }), CancelledError);
    // wrap around many times through a small buffer
    for (let i = 0; i < 200; i++) {
      await q.put(i);
      await q.put(i + 0.5);
      assert.equal(await q.get(), i);
      assert.equal(await q.get(), i + 0.5);
    }
  });
});

test("shutdown (3.13): puts fail, gets drain then fail; immediate drops items and wakes getters", async () => {
  await run(async () => {
    const q = new Queue<number>();
    await q.put(1);
    q.shutdown();
    await assert.rejects(q.put(2), QueueShutDown);
    assert.equal(await q.get(), 1);
    await assert.rejects(q.get(), QueueShutDown);
    const q2 = new Queue<number>();
    const g = createTask(() => q2.get());
    await sleep(2);
    await q2.put(1);
    await q2.put(2);
    await g;
    const g2 = createTask(() => q2.get());
    q2.shutdown(true);
    assert.equal(await g2.then(() => "item", (e: unknown) => (e instanceof QueueShutDown ? "shut down" : e)), "shut down");
    assert.equal(q2.qsize(), 0);
    q2.taskDone(); // the one item taken; the dropped one counts as done
    await q2.join();
  });
});

test("one producer thread → one consumer thread: every item, in order", async () => {
  const q = new Queue<{ id: number; name: string } | null>(1000);
  const n = 5_000;
  const [consumed, produced] = await Promise.all([pool.submit(jobs.fns.consumeAll, q), pool.submit(jobs.fns.produce, q, n)]);
  assert.equal(produced, n);
  assert.deepEqual(consumed, [n, true]);
});

test("main-thread producer, worker async consumer with taskDone, main joins", async () => {
  await run(async () => {
    const q = new Queue<number>(10);
    const sum = pool.submit(jobs.fns.drain, q, 100);
    for (let i = 0; i < 100; i++) await q.put(i);
    await q.join({ timeout: 10_000 });
    assert.equal(await sum, 4950);
  });
});

test("blocking calls: refused on the main thread; in a worker, bad timeouts are TypeError/RangeError and waits run out with QueueEmpty/QueueFull", async () => {
  const q = new Queue<number>(1);
  assert.throws(() => q.getSync(), /Queue\.getSync\(\) blocks the calling thread/);
  assert.throws(() => q.putSync(1), /Queue\.putSync\(\) blocks the calling thread/);
  const errors = await pool.submit(jobs2.fns.syncErrors, q);
  assert.deepEqual(
    errors.map(([name]) => name),
    ["TypeError", "RangeError", "RangeError", "QueueEmpty", "QueueEmpty", "ok", "QueueFull", "ok"],
  );
  assert.match(errors[0][1], /Queue\.getSync: `timeout` must be a number/);
  assert.match(errors[2][1], /Queue\.putSync: `timeout` must be >= 0/);
  assert.equal(q.qsize(), 0);
});

test("Queue.from refuses what is not a Queue's handle; bad constructor arguments name themselves", () => {
  assert.throws(() => Queue.from({ kind: "Lock", sab: new SharedArrayBuffer(64), offset: 0, bufferSize: 16 } as never), /Queue\.from: `handle` must be the `handle` of a Queue/);
  assert.throws(() => Queue.from({ kind: "Queue", sab: new SharedArrayBuffer(64), offset: 0, bufferSize: 1024 }), /Queue\.from: `handle` must be the `handle` of a Queue/);
  assert.throws(() => new Queue(-1), RangeError);
  assert.throws(() => new Queue("3" as unknown as number), TypeError);
  assert.throws(() => new Queue(0, { bufferSize: 8 }), /`bufferSize` must be an integer >= 16/);
  const q = new Queue<number>(0, { bufferSize: 64 });
  const r = Queue.from<number>(q.handle);
  r.putNowait(5);
  assert.equal(q.getNowait(), 5);
});
