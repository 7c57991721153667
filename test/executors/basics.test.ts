import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  createTask,
  currentTask,
  Executor,
  ExecutorFuture,
  Future,
  getRunningLoop,
  ProcessPoolExecutor,
  run,
  ThreadPoolExecutor,
  toThread,
  transfer,
  workerModule,
} from "../../src/index.js";
import { jobs } from "./helpers.js";

const threads = new ThreadPoolExecutor({ maxWorkers: 2 });
const procs = new ProcessPoolExecutor({ maxWorkers: 1 });
after(async () => {
  await Promise.all([threads.shutdown(), procs.shutdown()]);
});

for (const [kind, pool] of [
  ["threads", threads],
  ["processes", procs],
] as [string, Executor][]) {
  describe(`${kind}: submit`, () => {
    test("runs a module export with typed arguments and result; returns a tsaio Future", async () => {
      const fut = pool.submit(jobs.fns.add, 2, 3);
      assert.ok(fut instanceof ExecutorFuture && fut instanceof Future);
      const r: number = await fut;
      assert.equal(r, 5);
      assert.equal(await pool.submit(jobs.fn("inc"), 41), 42);
    });

    test("runs a self-contained function sent by source", async () => {
      assert.equal(await pool.submit((a: number, b: number) => a * b, 6, 7), 42);
      assert.equal(
        await pool.submit(async function named(s: string) {
          const inner = (x: string): string => x.toUpperCase();
          return inner(s);
        }, "abc"),
        "ABC",
      );
      const obj = {
        method(x: number): number {
          return x - 1;
        },
      };
      assert.equal(await pool.submit(obj.method, 1), 0);
    });

    test("a function sent by source that uses an outer variable fails with a clear ReferenceError", async () => {
      const outer = 10;
      await assert.rejects(pool.submit((x: number) => x + outer, 1), (e: unknown) => {
        assert.ok(e instanceof ReferenceError);
        assert.match(e.message, /outer is not defined.*sent by source/);
        return true;
      });
    });

    test("job errors arrive with name, message, stack, cause and own properties", async () => {
      await assert.rejects(pool.submit(jobs.fns.fail, "bad input"), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal(e.name, "Error");
        assert.equal(e.message, "bad input");
        assert.match(e.stack ?? "", /at fail .*jobs\.ts/);
        assert.equal((e as Error & { code: string }).code, "E_JOB");
        assert.ok(e.cause instanceof RangeError);
        assert.equal(e.cause.message, "inner cause");
        return true;
      });
      await assert.rejects(pool.submit(jobs.fns.failCustom), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal(e.name, "HashError");
        assert.equal((e as Error & { detail: number }).detail, 42);
        return true;
      });
      await assert.rejects(pool.submit(jobs.fns.throwString), (e: unknown) => e === "a string");
    });

    test("map: results in input order, chunks, item errors after the earlier results", async () => {
      const out: number[] = [];
      for await (const v of pool.map(jobs.fns.square, [1, 2, 3, 4, 5], { chunksize: 2 })) out.push(v);
      assert.deepEqual(out, [1, 4, 9, 16, 25]);
      const seen: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const v of pool.map(jobs.fns.square, [11, 12, 13, 14], { chunksize: 3 })) seen.push(v);
        })(),
        /unlucky 13/,
      );
      assert.deepEqual(seen, [121, 144]);
    });
  });
}

describe("threads: many jobs at once", () => {
  test("5,000 jobs with results of every kind (shared ring and messages) all arrive, in the right futures", async () => {
    const n = 5_000;
    const futs = Array.from({ length: n }, (_, i) => {
      switch (i % 5) {
        case 0:
          return threads.submit(jobs.fns.inc, i);
        case 1:
          return threads.submit((x: number) => `s${x}`, i);
        case 2:
          return threads.submit((x: number) => (x % 2 === 0 ? null : x % 3 === 0), i);
        case 3:
          return threads.submit((x: number) => ({ x, nan: NaN, neg: -0 }), i);
        default:
          return threads.submit((_x: number) => undefined, i);
      }
    });
    const out = await Promise.all(futs);
    out.forEach((v, i) => {
      const expected = [i + 1, `s${i}`, i % 2 === 0 ? null : i % 3 === 0, { x: i, nan: NaN, neg: -0 }, undefined][i % 5];
      assert.deepEqual(v, expected, `job ${i}`);
    });
    assert.ok(Object.is(await threads.submit(() => -0), -0));
    assert.ok(Number.isNaN(await threads.submit(() => NaN)));
  });
});

describe("threads: map", () => {
  test("consumes its input lazily and cancels what is in flight when the loop is left", async () => {
    let pulled = 0;
    function* naturals(): Generator<number> {
      for (let i = 0; ; i++) {
        pulled++;
        yield i;
      }
    }
    const out: number[] = [];
    for await (const v of threads.map(jobs.fns.asyncSquare, naturals(), { buffersize: 4 })) {
      out.push(v);
      if (out.length === 10) break;
    }
    assert.deepEqual(out, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    assert.ok(pulled <= 10 + 4 + 1, `pulled ${pulled} items`);
  });

  test("accepts async iterables, and times out as a whole", async () => {
    async function* items(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    const out: number[] = [];
    for await (const v of threads.map(jobs.fns.asyncSquare, items())) out.push(v);
    assert.deepEqual(out, [1, 4]);
    await assert.rejects(
      (async () => {
        for await (const _ of threads.map((ms: number) => new Promise((r) => setTimeout(r, ms)), [5_000], { timeout: 100 })) {
          /* nothing */
        }
      })(),
      { name: "TimeoutError" },
    );
  });

  test("bad arguments are rejected at the call", () => {
    assert.throws(() => threads.map(jobs.fns.square, 5 as unknown as number[]), TypeError);
    assert.throws(() => threads.map(jobs.fns.square, [1], { chunksize: 0 }), RangeError);
    assert.throws(() => threads.map(jobs.fns.square, [1], { chunksize: 1.5 }), RangeError);
    assert.throws(() => threads.map(jobs.fns.square, [1], { buffersize: 0 }), RangeError);
  });
});

describe("threads: data hand-off", () => {
  test("transfer() moves an argument's buffer (zero-copy) and a result's buffer back", async () => {
    const bytes = new Uint8Array(1 << 20);
    assert.equal(await threads.submit(jobs.fns.byteLength, transfer(bytes, [bytes.buffer])), 1 << 20);
    assert.equal(bytes.byteLength, 0, "the buffer was moved, not copied");
    const buf = new ArrayBuffer(1024);
    assert.equal(await threads.submitWith({ transfer: [buf] }, jobs.fns.byteLength, buf), 1024);
    assert.equal(buf.byteLength, 0);
    const back = await threads.submit(jobs.fns.makeBuffer, 4096);
    assert.ok(back instanceof Uint8Array);
    assert.equal(back.byteLength, 4096);
    assert.equal(back[100], 7);
  });

  test("a SharedArrayBuffer is shared with thread workers", async () => {
    const sab = new SharedArrayBuffer(16);
    const view = new Int32Array(sab);
    assert.equal(await threads.submit(jobs.fns.bumpShared, sab), 4);
    assert.deepEqual([...view], [1, 1, 1, 1]);
  });

  test("a process worker gets copies; a SharedArrayBuffer is refused clearly", async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    assert.equal(await procs.submit(jobs.fns.byteLength, bytes), 3);
    assert.equal(bytes.byteLength, 3);
    await assert.rejects(procs.submit(jobs.fns.bumpShared, new SharedArrayBuffer(8)), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /cannot be sent to a worker.*SharedArrayBuffer/);
      return true;
    });
  });
});

describe("worker side", () => {
  test("each job runs in a tsaio task in the worker (currentTask() is set)", async () => {
    const name = await threads.submit(async () => {
      // `currentTask` is in scope in the worker for functions sent by source.
      const t = currentTask();
      return t === null ? "none" : "task";
    });
    assert.equal(name, "task");
  });

  test("an idle worker keeps serving its event loop when a job left work behind (a timer)", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 1 });
    await p.submit(() => {
      const g = globalThis as { ticks?: number; ticker?: ReturnType<typeof setInterval> };
      g.ticks = 0;
      g.ticker = setInterval(() => (g.ticks = (g.ticks ?? 0) + 1), 10);
    });
    await new Promise((r) => setTimeout(r, 300));
    const ticks = await p.submit(() => {
      const g = globalThis as { ticks?: number; ticker?: ReturnType<typeof setInterval> };
      clearInterval(g.ticker);
      return g.ticks ?? 0;
    });
    assert.ok(ticks >= 5, `the interval ticked ${ticks} times in 300 ms`);
    await p.shutdown();
  });

  test("a worker module that throws while loading fails the job clearly; the pool goes on", async () => {
    const broken = workerModule<{ f(): number }>(new URL("../fixtures/executors/throws-on-load.js", import.meta.url));
    await assert.rejects(threads.submit(broken.fns.f), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /cannot load worker module .*throws-on-load.*module top level exploded/);
      return true;
    });
    assert.equal(await threads.submit(jobs.fns.inc, 1), 2);
  });
});

describe("toThread and runInExecutor", () => {
  test("toThread runs on the loop's default executor, which run() shuts down at exit", async () => {
    let loopInspect = "";
    const r = await run(async () => {
      const v = await toThread((x: number) => x * 2, 21);
      const w = await jobs.fns.inc(1); // calling a worker function directly = toThread
      const u = await getRunningLoop().runInExecutor(null, jobs.fns.add, 1, 2);
      loopInspect = inspect(getRunningLoop());
      return [v, w, u];
    });
    assert.deepEqual(r, [42, 2, 3]);
    assert.ok(loopInspect.length > 0);
  });

  test("a default executor set on the loop is used by toThread and shut down by run()", async () => {
    const mine = new ThreadPoolExecutor({ maxWorkers: 1, name: "mine" });
    const r = await run(async () => {
      getRunningLoop().setDefaultExecutor(mine);
      return await toThread(jobs.fns.inc, 1);
    });
    assert.equal(r, 2);
    assert.match(inspect(mine), /^<ThreadPoolExecutor shutdown name="mine" workers=0\/1/);
  });

  test("runInExecutor(pool, …) submits to that pool", async () => {
    assert.equal(await getRunningLoop().runInExecutor(threads, jobs.fns.inc, 1), 2);
  });

  test("run() with a virtual clock does not report a deadlock while a job is in flight", async () => {
    const r = await run(() => toThread((ms: number) => new Promise((res) => setTimeout(() => res(ms), ms)), 50), { clock: "virtual" });
    assert.equal(r, 50);
  });

  test("cancelling the awaiting task cancels the job (the future ends cancelled)", async () => {
    const fut = threads.submit(jobs.fns.waitForever);
    const t = createTask(async () => await fut);
    await new Promise((r) => setTimeout(r, 50));
    t.cancel("enough");
    await assert.rejects(t, CancelledError);
    assert.ok(fut.cancelled());
    await fut.stopped();
  });
});

describe("await using and inspect", () => {
  test("await using shuts the pool down at the end of the scope", async () => {
    let seen: ThreadPoolExecutor;
    {
      await using pool = new ThreadPoolExecutor({ maxWorkers: 1, name: "scoped" });
      seen = pool;
      assert.equal(await pool.submit(jobs.fns.inc, 1), 2);
      assert.match(inspect(pool), /^<ThreadPoolExecutor name="scoped" workers=1\/1 busy=0 queued=0 slots=\[<worker thread #1 tid=\d+ idle jobs=1>\]>$/);
    }
    assert.match(inspect(seen), /^<ThreadPoolExecutor shutdown name="scoped" workers=0\/1 busy=0 queued=0>$/);
  });

  test("futures, modules and worker functions show their state", async () => {
    const fut = threads.submit(jobs.fns.inc, 1);
    assert.match(inspect(fut), /^<ExecutorFuture pending job=#\d+ inc (queued|(sent|running) on worker thread #\d+)>$/);
    await fut;
    assert.match(inspect(fut), /^<ExecutorFuture finished result=2 job=#\d+ inc>$/);
    assert.match(inspect(jobs), /^<WorkerModule file:.*jobs\.js>$/);
    assert.match(inspect(jobs.fns.inc), /^\[WorkerFunction inc from file:.*jobs\.js\]$/);
  });
});
