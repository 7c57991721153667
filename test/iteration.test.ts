import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { allTasks, CancelledError, createTask, ExceptionGroup, forEach, getRunningLoop, imap, map, sleep } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

/** A source that records how many items were pulled and whether it was closed early. */
function counted<T>(values: T[]): { it: Iterable<T>; pulled: () => number; closed: () => boolean } {
  let pulled = 0;
  let closed = false;
  const it: Iterable<T> = {
    [Symbol.iterator]() {
      let i = 0;
      return {
        next: () => (i < values.length ? (pulled++, { done: false, value: values[i++] as T }) : { done: true, value: undefined }),
        return: () => {
          closed = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { it, pulled: () => pulled, closed: () => closed };
}

test("map: results in input order, at most `concurrency` at once, items pulled lazily", async () => {
  await runVirtual(async () => {
    let inFlight = 0;
    let peak = 0;
    const src = counted([50, 10, 40, 20, 30, 5]);
    const pulledWhenStarted: number[] = [];
    let started = 0;
    const r = await map(
      src.it,
      async (ms, i) => {
        started++;
        pulledWhenStarted.push(src.pulled() - started);
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(ms);
        inFlight--;
        return `${i}:${ms}`;
      },
      { concurrency: 2 },
    );
    assert.deepEqual(r, ["0:50", "1:10", "2:40", "3:20", "4:30", "5:5"]);
    assert.equal(peak, 2);
    assert.ok(pulledWhenStarted.every((ahead) => ahead <= 2));
  });
});

test("map: the first error cancels and awaits the work in flight, starts nothing new, and is thrown", async () => {
  await runVirtual(async () => {
    const events: string[] = [];
    const src = counted([1, 2, 3, 4, 5, 6, 7, 8]);
    const err = await map(
      src.it,
      async (n) => {
        try {
          if (n === 2) {
            await sleep(5);
            throw new RangeError("item 2 failed");
          }
          await sleep(100);
          return n;
        } catch (e) {
          if (e instanceof CancelledError) {
            await sleep(3); // cleanup that takes time is awaited
            events.push(`cancelled ${n}`);
          }
          throw e;
        }
      },
      { concurrency: 3 },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof RangeError);
    assert.deepEqual(events.sort(), ["cancelled 1", "cancelled 3"]);
    assert.equal(getRunningLoop().time(), 8);
    assert.equal(src.pulled(), 3);
    assert.equal(src.closed(), true);
    assert.deepEqual([...allTasks()].map((t) => t.name), ["main"]);
  });
});

test("map: several errors in the same step come back as an ExceptionGroup", async () => {
  await runVirtual(async () => {
    const err = await map(
      [1, 2, 3],
      async (n) => {
        await sleep(5);
        if (n !== 3) throw new Error(`bad ${n}`);
      },
      { concurrency: 3 },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof ExceptionGroup);
    assert.deepEqual(err.exceptions.map((e) => (e as Error).message).sort(), ["bad 1", "bad 2"]);
  });
});

test("map with settle collects every outcome like Promise.allSettled", async () => {
  await runVirtual(async () => {
    const r = await map(
      [1, 2, 3],
      async (n) => {
        await sleep(n);
        if (n === 2) throw new TypeError("two");
        return n * 10;
      },
      { concurrency: 2, settle: true },
    );
    assert.equal(r[0]!.status, "fulfilled");
    assert.equal((r[0] as PromiseFulfilledResult<number>).value, 10);
    assert.equal(r[1]!.status, "rejected");
    assert.ok((r[1] as PromiseRejectedResult).reason instanceof TypeError);
    assert.equal((r[2] as PromiseFulfilledResult<number>).value, 30);
  });
});

test("map: cancelling the caller cancels everything in flight; a signal does too", async () => {
  await runVirtual(async () => {
    const cancelled: number[] = [];
    const job = async (n: number): Promise<number> => {
      try {
        await sleep(1000);
        return n;
      } catch (e) {
        cancelled.push(n);
        throw e;
      }
    };
    const caller = createTask(() => map([1, 2, 3, 4], job, { concurrency: 2 }));
    await sleep(10);
    caller.cancel();
    await assert.rejects(caller, CancelledError);
    assert.deepEqual(cancelled.sort(), [1, 2]);

    cancelled.length = 0;
    const ac = new AbortController();
    getRunningLoop().callLater(10, () => ac.abort(new Error("stop please")));
    await assert.rejects(map([5, 6, 7], job, { concurrency: 3, signal: ac.signal }), { message: "stop please" });
    assert.deepEqual(cancelled.sort(), [5, 6, 7]);
    assert.deepEqual([...allTasks()].map((t) => t.name), ["main"]);
  });
});

test("map and forEach accept async iterables and pull them one at a time", async () => {
  await runVirtual(async () => {
    let active = 0;
    let closed = false;
    async function* gen(): AsyncGenerator<number> {
      try {
        for (let i = 0; i < 5; i++) {
          active++;
          assert.equal(active, 1, "concurrent pulls on one generator");
          await sleep(1);
          active--;
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    assert.deepEqual(await map(gen(), (x) => x * 2, { concurrency: 3 }), [0, 2, 4, 6, 8]);
    const seen: number[] = [];
    await forEach(gen(), async (x) => void seen.push(x), { concurrency: Infinity });
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.equal(closed, true);
  });
});

test("imap: ordered by default, completion order with ordered:false", async () => {
  await runVirtual(async () => {
    const ordered: number[] = [];
    for await (const r of imap([30, 10, 20], (ms) => sleep(ms, ms), { concurrency: 3 })) ordered.push(r);
    assert.deepEqual(ordered, [30, 10, 20]);
    const byCompletion: number[] = [];
    for await (const r of imap([30, 10, 20], (ms) => sleep(ms, ms), { concurrency: 3, ordered: false })) byCompletion.push(r);
    assert.deepEqual(byCompletion, [10, 20, 30]);
  });
});

test("imap: a slow consumer stops the pulling (at most `concurrency` ahead)", async () => {
  await runVirtual(async () => {
    const src = counted(Array.from({ length: 20 }, (_, i) => i));
    let consumed = 0;
    for await (const _ of imap(src.it, async (x) => x, { concurrency: 3 })) {
      consumed++;
      await sleep(100); // slow consumer
      assert.ok(src.pulled() - consumed <= 3, `pulled ${src.pulled()} with ${consumed} consumed`);
    }
    assert.equal(consumed, 20);
  });
});

test("imap: breaking out cancels the work in flight and closes the source", async () => {
  await runVirtual(async () => {
    const src = counted([1, 2, 3, 4, 5, 6]);
    const cancelled: number[] = [];
    for await (const r of imap(
      src.it,
      async (n) => {
        try {
          await sleep(n * 10);
          return n;
        } catch (e) {
          cancelled.push(n);
          throw e;
        }
      },
      { concurrency: 3 },
    )) {
      if (r === 1) break;
    }
    assert.equal(src.closed(), true);
    // Consuming 1 freed a slot, so 4 had started; 5 and 6 were never pulled.
    assert.deepEqual(cancelled.sort(), [2, 3, 4]);
    assert.equal(src.pulled(), 4);
    assert.deepEqual([...allTasks()].map((t) => t.name), ["main"]);
  });
});

test("imap: the first error is thrown after the results before it; nothing keeps running", async () => {
  await runVirtual(async () => {
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const r of imap(
        [1, 2, 3, 4],
        async (n) => {
          await sleep(n * 10);
          if (n === 3) throw new RangeError("3 failed");
          return n;
        },
        { concurrency: 2 },
      )) {
        got.push(r);
      }
    }, RangeError);
    assert.deepEqual(got, [1, 2]);
    assert.deepEqual([...allTasks()].map((t) => t.name), ["main"]);
  });
});

test("bad input: concurrency, items and fn are checked", async () => {
  await runVirtual(async () => {
    await assert.rejects(map([1], (x) => x, { concurrency: 0 }), { name: "RangeError", message: /map: `concurrency`/ });
    await assert.rejects(map([1], (x) => x, { concurrency: 1.5 }), RangeError);
    await assert.rejects(map([1], (x) => x, { concurrency: Number.NaN }), RangeError);
    // @ts-expect-error: not iterable
    await assert.rejects(map(42, (x) => x, { concurrency: 1 }), { name: "TypeError", message: /map: `items`/ });
    // @ts-expect-error: not a function
    await assert.rejects(map([1], 5, { concurrency: 1 }), { name: "TypeError", message: /map: `fn`/ });
    assert.throws(() => imap([1], (x) => x, { concurrency: -1 }), RangeError);
    assert.deepEqual(await map([1, 2], (x) => x, { concurrency: Infinity }), [1, 2]);
  });
});

test("property: never more than `concurrency` in flight, every item handled once, nothing left running", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ ms: fc.integer({ min: 0, max: 30 }), fails: fc.boolean() }), { maxLength: 15 }),
      fc.integer({ min: 1, max: 5 }),
      fc.boolean(),
      async (jobs, concurrency, settle) => {
        await runVirtual(async () => {
          let inFlight = 0;
          const handled = new Map<number, number>();
          const fn = async (j: { ms: number; fails: boolean }, i: number): Promise<number> => {
            handled.set(i, (handled.get(i) ?? 0) + 1);
            inFlight++;
            assert.ok(inFlight <= concurrency);
            try {
              await sleep(j.ms);
              if (j.fails) throw new Error(`job ${i}`);
              return i;
            } finally {
              inFlight--;
            }
          };
          const out = settle ? await map(jobs, fn, { concurrency, settle: true }) : await map(jobs, fn, { concurrency }).catch((e: unknown) => e);
          assert.equal(inFlight, 0);
          assert.ok([...handled.values()].every((n) => n === 1));
          if (settle) assert.equal((out as unknown[]).length, jobs.length);
          else if (!jobs.some((j) => j.fails)) assert.deepEqual(out, jobs.map((_, i) => i));
          else assert.ok(out instanceof Error);
          assert.deepEqual([...allTasks()].map((t) => t.name), ["main"]);
        });
      },
    ),
    { numRuns: RUNS },
  );
});
