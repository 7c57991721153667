import assert from "node:assert/strict";
import { test } from "node:test";
import { allTasks, buffer, CancelledError, chunk, createTask, getRunningLoop, imap, merge, pipe, RateLimiter, sleep, throttle } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

/** An async source that records pulls and whether it was closed. */
function source(values: number[], ms = 0): { it: AsyncIterable<number>; pulled: () => number; closed: () => boolean } {
  let pulled = 0;
  let closed = false;
  async function* gen(): AsyncGenerator<number> {
    try {
      for (const v of values) {
        if (ms > 0) await sleep(ms);
        pulled++;
        yield v;
      }
    } finally {
      closed = true;
    }
  }
  return { it: gen(), pulled: () => pulled, closed: () => closed };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("buffer(n) reads ahead at most n items and keeps order", async () => {
  await runVirtual(async () => {
    const src = source([1, 2, 3, 4, 5, 6]);
    const out: number[] = [];
    for await (const x of buffer<number>(2)(src.it)) {
      await sleep(50); // slow consumer: the pump fills the buffer, then waits
      out.push(x);
      assert.ok(src.pulled() - out.length <= 3, `pulled ${src.pulled()} consumed ${out.length}`); // 2 buffered + 1 in hand
    }
    assert.deepEqual(out, [1, 2, 3, 4, 5, 6]);
  });
});

test("chunk(n) batches by size; with ms it also flushes a partial batch on time", async () => {
  await runVirtual(async () => {
    assert.deepEqual(await collect(chunk<number>(2)([1, 2, 3, 4, 5])), [[1, 2], [3, 4], [5]]);
    const loop = getRunningLoop();
    const stamps: string[] = [];
    const t0 = loop.time();
    // Items every 40 ms; batches of up to 3 or 100 ms after a batch's first item.
    for await (const b of chunk<number>(3, { ms: 100 })(source([1, 2, 3, 4, 5], 40).it)) stamps.push(`${loop.time() - t0}:${b.join(",")}`);
    assert.deepEqual(stamps, ["120:1,2,3", "200:4,5"]);
    const slow: string[] = [];
    for await (const b of chunk<number>(10, { ms: 50 })(source([1, 2, 3], 40).it)) slow.push(b.join(","));
    assert.deepEqual(slow, ["1,2", "3"]);
  });
});

test("throttle lets at most `limit` items through per interval", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const t0 = loop.time();
    const times: number[] = [];
    for await (const _ of throttle<number>({ limit: 2, interval: 100 })([1, 2, 3, 4, 5, 6])) times.push(loop.time() - t0);
    // A token bucket: a burst of `limit`, then one item per interval/limit (50 ms), never faster.
    times.forEach((t, i) => assert.ok(t >= Math.max(0, i - 1) * 50 - 1e-9, `times ${times.join(",")}`));
    assert.deepEqual(times.slice(0, 2), [0, 0]);
    assert.ok(times[5]! >= 200);
    assert.equal(times.length, 6);
    const shared = new RateLimiter(5, 50);
    assert.equal((await collect(throttle<number>(shared)([1, 2, 3]))).length, 3);
    assert.throws(() => throttle({ limit: 0, interval: 10 }), RangeError);
  });
});

test("merge interleaves sources as items arrive and closes every source when the consumer stops", async () => {
  await runVirtual(async () => {
    const a = source([1, 2, 3], 30);
    const b = source([10, 20, 30], 25);
    assert.deepEqual(await collect(merge(a.it, b.it)), [10, 1, 20, 2, 30, 3]);
    const c = source([1, 2, 3, 4], 10);
    const d = source([5, 6, 7, 8], 15);
    for await (const x of merge(c.it, d.it)) if (x === 1) break;
    assert.equal(c.closed(), true);
    assert.equal(d.closed(), true);
    assert.deepEqual([...allTasks()].map((t) => t.name), ["main"]);
  });
});

test("an upstream error reaches the consumer after what was buffered, and closes the other sources", async () => {
  await runVirtual(async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      await sleep(5);
      throw new RangeError("upstream broke");
    }
    const other = source([100, 200, 300], 50);
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const x of merge(failing(), other.it)) got.push(x);
    }, RangeError);
    assert.deepEqual(got, [1]);
    assert.equal(other.closed(), true);
    assert.deepEqual([...allTasks()].map((t) => t.name), ["main"]);
  });
});

test("stages compose with imap through pipe, and cancelling the consumer stops the whole pipeline", async () => {
  await runVirtual(async () => {
    const out = await collect(
      pipe(
        imap([1, 2, 3, 4, 5], async (x) => {
          await sleep(10);
          return x * 2;
        }, { concurrency: 2 }),
        buffer<number>(2),
        chunk<number>(2),
      ),
    );
    assert.deepEqual(out, [[2, 4], [6, 8], [10]]);

    const src = source([1, 2, 3, 4, 5, 6, 7, 8], 10);
    const consumer = createTask(async () => {
      for await (const _ of pipe(src.it, buffer<number>(2), chunk<number>(2))) await sleep(5);
    });
    await sleep(25);
    consumer.cancel();
    await assert.rejects(consumer, CancelledError);
    await sleep(0);
    assert.equal(src.closed(), true);
    assert.deepEqual([...allTasks()].map((t) => t.name), ["main"]);
  });
});

test("bad input: sizes and sources are checked", () => {
  assert.throws(() => buffer(0), { name: "RangeError", message: /buffer: `concurrency`|buffer/ });
  assert.throws(() => chunk(0), RangeError);
  assert.throws(() => chunk(Infinity), RangeError);
  assert.throws(() => chunk(2, { ms: -1 }), RangeError);
  // @ts-expect-error: not iterable
  assert.throws(() => buffer(1)(42), { name: "TypeError", message: /buffer: the source/ });
  // @ts-expect-error: not iterable
  assert.throws(() => merge([1], 5), TypeError);
});
