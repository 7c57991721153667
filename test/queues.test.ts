import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  createTask,
  defaultCompare,
  gather,
  getRunningLoop,
  InvalidStateError,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  sleep,
  timeout,
  TimeoutError,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const settle = () => sleep(0);

test("Queue: FIFO; put waits while full and blocked puts are served FIFO as space frees", async () => {
  await runVirtual(async () => {
    const q = new Queue<string>(2);
    const done: string[] = [];
    q.putNowait("a");
    q.putNowait("b");
    assert.equal(q.full(), true);
    const ps = ["c", "d", "e"].map((v) =>
      createTask(async () => {
        await q.put(v);
        done.push(v);
      }),
    );
    await settle();
    assert.deepEqual(done, []);
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      got.push(await q.get());
      await sleep(1);
    }
    await gather(ps);
    assert.deepEqual(got, ["a", "b", "c", "d", "e"]);
    assert.deepEqual(done, ["c", "d", "e"]);
    assert.equal(q.empty(), true);
    assert.equal(q.maxsize, 2);
  });
});

test("Queue: blocked getters are served FIFO", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>();
    const ts = [0, 1, 2].map((i) => createTask(async () => [i, await q.get()]));
    await settle();
    for (const v of [10, 11, 12]) q.putNowait(v);
    assert.deepEqual(await gather(ts), [
      [0, 10],
      [1, 11],
      [2, 12],
    ]);
  });
});

test("Queue: putNowait/getNowait throw QueueFull/QueueEmpty and leave the queue intact", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>(1);
    assert.throws(() => q.getNowait(), QueueEmpty);
    q.putNowait(1);
    assert.throws(() => q.putNowait(2), QueueFull);
    assert.equal(q.qsize(), 1);
    assert.equal(q.getNowait(), 1);
    const unbounded = new Queue<number>();
    for (let i = 0; i < 1000; i++) unbounded.putNowait(i);
    assert.equal(unbounded.full(), false);
    assert.equal(unbounded.qsize(), 1000);
  });
});

test("Queue: put and get with room complete without yielding, returning shared or resolved promises", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>(10);
    const order: string[] = [];
    const other = createTask(() => order.push("other"));
    const p1 = q.put(1);
    const p2 = q.put(2);
    assert.equal(p1, p2, "the put fast path returns one shared resolved promise");
    await p1;
    assert.equal(await q.get(), 1);
    order.push("main");
    await other;
    assert.deepEqual(order, ["main", "other"]);
  });
});

test("Queue: taskDone more times than items throws InvalidStateError; join waits until every item is done", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>();
    await q.join(); // nothing outstanding
    for (let i = 0; i < 3; i++) q.putNowait(i);
    const joined = createTask(async () => {
      await q.join();
      return getRunningLoop().time();
    });
    const worker = createTask(async () => {
      for (;;) {
        await q.get();
        await sleep(10);
        q.taskDone();
      }
    });
    assert.equal(await joined, 30);
    worker.cancel();
    assert.throws(() => q.taskDone(), InvalidStateError);
    q.putNowait(9);
    q.getNowait();
    q.taskDone(); // still consistent after the refused call
    await q.join();
  });
});

test("Queue: shutdown() wakes blocked getters and putters with QueueShutDown; items already there can still be taken", async () => {
  await runVirtual(async () => {
    const q = new Queue<string>(1);
    const getterQ = new Queue<string>();
    const g = createTask(() => getterQ.get());
    q.putNowait("kept");
    const p = createTask(() => q.put("blocked"));
    await settle();
    getterQ.shutdown();
    q.shutdown();
    await assert.rejects(g, QueueShutDown);
    await assert.rejects(p, QueueShutDown);
    await assert.rejects(q.put("late"), QueueShutDown);
    assert.throws(() => q.putNowait("late"), QueueShutDown);
    assert.equal(await q.get(), "kept");
    await assert.rejects(q.get(), QueueShutDown);
    assert.throws(() => q.getNowait(), QueueShutDown);
    assert.equal(q.isShutdown(), true);
    q.shutdown(); // again: harmless
    assert.match(inspect(q), /shutdown/);
  });
});

test("Queue: shutdown(true) drops the items, counts them done (join returns) and get throws at once", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>();
    q.putNowait(1);
    q.putNowait(2);
    const j = createTask(() => q.join());
    await settle();
    assert.equal(j.done(), false);
    q.shutdown(true);
    assert.equal(q.qsize(), 0);
    await j;
    await assert.rejects(q.get(), QueueShutDown);
    assert.throws(() => q.shutdown("yes" as unknown as boolean), { name: "TypeError", message: /`immediate`/ });
  });
});

test("Queue: for await gets items until the queue is shut down and drained", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>(2);
    const consumer = createTask(async () => {
      const seen: number[] = [];
      for await (const n of q) {
        seen.push(n);
        await sleep(1);
      }
      return seen;
    });
    for (let i = 0; i < 6; i++) await q.put(i);
    q.shutdown();
    assert.deepEqual(await consumer, [0, 1, 2, 3, 4, 5]);
    // Breaking out leaves the rest in the queue.
    const q2 = new Queue<number>();
    for (let i = 0; i < 5; i++) q2.putNowait(i);
    for await (const n of q2) if (n === 1) break;
    assert.equal(q2.qsize(), 3);
  });
});

test("Queue: a getter cancelled after being woken does not lose the item", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>();
    const got: number[] = [];
    const g1 = createTask(async () => got.push(await q.get()));
    const g2 = createTask(async () => got.push(await q.get()));
    await settle();
    q.putNowait(1); // wakes g1
    g1.cancel(); // before it runs: the wake-up goes to g2
    await gather([g1, g2], { returnExceptions: true });
    assert.deepEqual(got, [1]);
    q.putNowait(2);
    assert.equal(await q.get(), 2);
    assert.equal(q.empty(), true);
  });
});

test("Queue: a putNowait can take the slot a woken put was about to use (CPython 3.13's quirk)", async () => {
  await runVirtual(async () => {
    const q = new Queue<string>(1);
    q.putNowait("old");
    const p = createTask(() => q.put("blocked"));
    await settle();
    assert.equal(q.getNowait(), "old"); // wakes the putter
    q.putNowait("barger"); // runs first and takes the slot
    await settle();
    assert.equal(p.done(), false, "the woken putter waits again");
    assert.equal(await q.get(), "barger");
    await p;
    assert.equal(await q.get(), "blocked");
  });
});

test("Queue: get/put/join take a signal; timeouts around them leave the queue consistent", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>(1);
    const ac = new AbortController();
    const g = createTask(() => q.get({ signal: ac.signal }));
    await sleep(5);
    ac.abort();
    await assert.rejects(g, CancelledError);
    await assert.rejects(
      timeout(5, () => q.get()),
      TimeoutError,
    );
    q.putNowait(1);
    await assert.rejects(
      timeout(5, () => q.put(2)),
      TimeoutError,
    );
    await assert.rejects(q.join({ signal: AbortSignal.abort() }), CancelledError);
    await assert.rejects(q.put(3, { signal: AbortSignal.abort() }), CancelledError);
    assert.equal(q.qsize(), 1);
    assert.equal(await q.get(), 1);
    assert.equal(inspect(q), "<Queue maxsize=1 unfinished=1>");
  });
});

test("Queue: bad maxsize values are refused naming the argument", () => {
  assert.throws(() => new Queue(-1), { name: "RangeError", message: /Queue: `maxsize`/ });
  assert.throws(() => new Queue(1.5), { name: "RangeError", message: /`maxsize`/ });
  assert.throws(() => new PriorityQueue("3" as unknown as number), { name: "TypeError", message: /PriorityQueue: `maxsize`/ });
  assert.throws(() => new LifoQueue(NaN), { name: "RangeError", message: /LifoQueue: `maxsize`/ });
  assert.throws(() => new PriorityQueue(0, 5 as unknown as () => number), { name: "TypeError", message: /`compare`/ });
});

test("PriorityQueue: min-first, stable for equal priorities, Python-tuple order by default", async () => {
  await runVirtual(async () => {
    const q = new PriorityQueue<[number, string]>();
    const items: [number, string][] = [
      [3, "c"],
      [1, "x"],
      [2, "b"],
      [1, "a"],
      [0, "z"],
    ];
    for (const it of items) await q.put(it);
    const out: string[] = [];
    while (!q.empty()) out.push((await q.get())[1]);
    assert.deepEqual(out, ["z", "a", "x", "b", "c"]);
    // Stable for equal priorities under a comparator that only looks at the priority.
    const s = new PriorityQueue<{ p: number; id: number }>(0, (a, b) => a.p - b.p);
    for (let id = 0; id < 50; id++) s.putNowait({ p: id % 3, id });
    const ids: number[] = [];
    while (!s.empty()) ids.push(s.getNowait().id);
    const expected = [0, 1, 2].flatMap((p) => Array.from({ length: 50 }, (_, id) => id).filter((id) => id % 3 === p));
    assert.deepEqual(ids, expected);
  });
});

test("PriorityQueue: the default order compares numbers, bigints, strings and arrays; mixed kinds are a TypeError", () => {
  assert.ok(defaultCompare(1, 2) < 0);
  assert.ok(defaultCompare(2n, 1) > 0);
  assert.ok(defaultCompare("b", "a") > 0);
  assert.ok(defaultCompare([1, "a"], [1, "b"]) < 0);
  assert.ok(defaultCompare([1], [1, 0]) < 0);
  assert.equal(defaultCompare([1, [2, "x"]], [1, [2, "x"]]), 0);
  assert.throws(() => defaultCompare(1, "1"), TypeError);
  assert.throws(() => defaultCompare({}, {}), TypeError);
});

test("PriorityQueue: a comparator that throws leaves the queue unchanged", async () => {
  await runVirtual(async () => {
    const q = new PriorityQueue<unknown>();
    for (const v of [5, 3, 8, 1]) q.putNowait(v);
    assert.throws(() => q.putNowait("x"), TypeError);
    await assert.rejects(q.put({}), TypeError);
    assert.equal(q.qsize(), 4);
    const out: unknown[] = [];
    while (!q.empty()) out.push(q.getNowait());
    assert.deepEqual(out, [1, 3, 5, 8]);
    // A throw while sifting down on get: the item is not lost either.
    let armed = false;
    const p = new PriorityQueue<number>(0, (a, b) => {
      if (armed) throw new Error("compare failed");
      return a - b;
    });
    for (const v of [4, 2, 9, 7, 1]) p.putNowait(v);
    armed = true;
    assert.throws(() => p.getNowait(), /compare failed/);
    armed = false;
    assert.equal(p.qsize(), 5);
    const rest: number[] = [];
    while (!p.empty()) rest.push(p.getNowait());
    assert.deepEqual(rest, [1, 2, 4, 7, 9]);
    for (let i = 0; i < 4; i++) q.taskDone();
    assert.throws(() => q.taskDone(), InvalidStateError, "the refused puts must not count as unfinished");
    await q.join();
  });
});

test("PriorityQueue: random puts and gets come out sorted", () => {
  const q = new PriorityQueue<number>();
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const model: number[] = [];
  for (let i = 0; i < 5000; i++) {
    if (rnd() < 0.6 || model.length === 0) {
      const v = Math.floor(rnd() * 100);
      q.putNowait(v);
      model.push(v);
      model.sort((a, b) => a - b);
    } else assert.equal(q.getNowait(), model.shift());
  }
  assert.equal(q.qsize(), model.length);
});

test("LifoQueue: last in, first out; waits like a Queue", async () => {
  await runVirtual(async () => {
    const q = new LifoQueue<number>(2);
    await q.put(1);
    await q.put(2);
    const p = createTask(() => q.put(3));
    await settle();
    assert.equal(await q.get(), 2);
    await p;
    assert.equal(await q.get(), 3);
    assert.equal(await q.get(), 1);
    assert.match(inspect(new LifoQueue()), /^<LifoQueue maxsize=0>$/);
  });
});

test("Queue: util.inspect shows size, items, waiters and unfinished count", async () => {
  await runVirtual(async () => {
    const q = new Queue<number>(3);
    q.putNowait(1);
    q.putNowait(2);
    assert.equal(inspect(q), "<Queue maxsize=3 qsize=2 items=[ 1, 2 ] unfinished=2>");
    const e = new Queue<number>();
    const g = createTask(() => e.get(), { name: "getter" });
    await settle();
    assert.equal(inspect(e), "<Queue maxsize=0 getters=1>");
    assert.match(inspect(g), /waiting on <Queue maxsize=0 getters=1>/);
    e.putNowait(5);
    assert.equal(await g, 5);
  });
});
