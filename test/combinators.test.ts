import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ALL_COMPLETED,
  asCompleted,
  CancelledError,
  createTask,
  currentTask,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  gather,
  getRunningLoop,
  shield,
  sleep,
  TimeoutError,
  wait,
  waitFor,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

test("gather: results in argument order with inferred tuple types; accepts functions, tasks, futures and promises", async () => {
  await runVirtual(async () => {
    const t = createTask(() => sleep(5, true));
    const f = new Future<bigint>();
    getRunningLoop().callLater(1, () => f.setResult(1n));
    const [a, b, c, d] = await gather([() => sleep(30, "a"), t, f, Promise.resolve(4)]);
    const typed: [string, boolean, bigint, number] = [a, b, c, d];
    assert.deepEqual(typed, ["a", true, 1n, 4]);
    assert.deepEqual(await gather([]), []);
  });
});

test("gather without returnExceptions: the first error rejects, the siblings keep running", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    let slowDone = false;
    const g = gather([
      async () => {
        await sleep(10);
        throw new RangeError("first");
      },
      async () => {
        await sleep(50);
        slowDone = true;
      },
    ]);
    await assert.rejects(g, RangeError);
    assert.equal(loop.time(), 10);
    assert.equal(slowDone, false);
    await sleep(50);
    assert.equal(slowDone, true);
  });
});

test("gather with returnExceptions puts errors in place, cancellations included", async () => {
  await runVirtual(async () => {
    const cancelled = createTask(() => sleep(100));
    cancelled.cancel();
    const r = await gather(
      [
        async () => 1,
        async () => {
          throw new TypeError("k");
        },
        cancelled,
      ],
      { returnExceptions: true },
    );
    assert.equal(r[0], 1);
    assert.ok(r[1] instanceof TypeError);
    assert.ok(r[2] instanceof CancelledError);
  });
});

test("cancelling the gather, or the task awaiting it, cancels every child", async () => {
  await runVirtual(async () => {
    const kids = [createTask(() => sleep(100)), createTask(() => sleep(100))];
    const g = gather(kids, { returnExceptions: true });
    await sleep(1);
    assert.equal(g.cancel(), true);
    await assert.rejects(g, CancelledError);
    assert.ok(kids.every((k) => k.cancelled()));

    const kids2 = [createTask(() => sleep(100)), createTask(() => sleep(100))];
    const waiter = createTask(() => gather(kids2));
    await sleep(1);
    waiter.cancel();
    await assert.rejects(waiter, CancelledError);
    assert.ok(kids2.every((k) => k.cancelled()));
  });
});

test("a child cancelled from outside rejects the gather with CancelledError without cancelling the gather", async () => {
  await runVirtual(async () => {
    const a = createTask(() => sleep(10, "a"));
    const b = createTask(() => sleep(100));
    const g = gather([a, b]);
    await sleep(1);
    b.cancel();
    await assert.rejects(g, CancelledError);
    assert.equal(g.cancelled(), false);
    assert.equal(await a, "a");
  });
});

test("wait: FIRST_COMPLETED, timeout without cancelling, FIRST_EXCEPTION, ALL_COMPLETED", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const fast = createTask(() => sleep(10));
    const slow = createTask(() => sleep(100));
    let r = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
    assert.deepEqual([...r.done], [fast]);
    assert.deepEqual([...r.pending], [slow]);
    r = await wait([slow], { timeout: 10 });
    assert.equal(r.done.size, 0);
    assert.equal(slow.cancelled(), false);
    assert.equal(loop.time(), 20);

    const boom = createTask(async () => {
      await sleep(5);
      throw new Error("x");
    });
    const cancelled = createTask(() => sleep(1));
    cancelled.cancel();
    const t0 = loop.time();
    r = await wait([boom, slow, cancelled], { returnWhen: FIRST_EXCEPTION });
    assert.equal(loop.time() - t0, 5);
    assert.ok(r.done.has(boom) && r.done.has(cancelled) && r.pending.has(slow));
    boom.exception();
    r = await wait([slow], { returnWhen: ALL_COMPLETED });
    assert.equal(r.pending.size, 0);
  });
});

test("wait validates its arguments", async () => {
  await runVirtual(async () => {
    await assert.rejects(wait([]), { name: "RangeError", message: /`aws` must not be empty/ });
    await assert.rejects(wait([() => 1], { timeout: -1 }), { name: "RangeError", message: /wait: `timeout`/ });
    await assert.rejects(wait([() => 1], { returnWhen: "SOON" as typeof ALL_COMPLETED }), { name: "TypeError", message: /returnWhen/ });
    // @ts-expect-error: a number is not an awaitable
    await assert.rejects(wait([1]), { name: "TypeError", message: /aws\[0\]/ });
  });
});

test("asCompleted yields in completion order, then times out without cancelling", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const never = createTask(() => sleep(1000, 1000));
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const f of asCompleted([() => sleep(30, 30), () => sleep(10, 10), () => sleep(20, 20), never], { timeout: 100 })) {
        seen.push(await f);
      }
    }, TimeoutError);
    assert.deepEqual(seen, [10, 20, 30]);
    assert.equal(loop.time(), 100);
    assert.equal(never.cancelled(), false);
    never.cancel();
  });
});

test("waitFor: a function runs in the current task; on expiry the work is cancelled and awaited first", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const me = currentTask();
    assert.equal(await waitFor(async () => currentTask()?.name, 100), me!.name);
    let cleaned = -1;
    const t = createTask(async () => {
      try {
        await sleep(1000);
      } finally {
        await sleep(50);
        cleaned = loop.time();
      }
    });
    await assert.rejects(waitFor(t, 10), (e: unknown) => e instanceof TimeoutError && (e.cause as unknown) instanceof CancelledError);
    assert.equal(cleaned, 60);
    assert.equal(loop.time(), 60);
    assert.equal(t.cancelled(), true);
    assert.equal(me!.cancelling(), 0);
  });
});

test("waitFor returns the value of work that swallowed the cancellation; ms=0 never starts a function", async () => {
  await runVirtual(async () => {
    const r = await waitFor(async () => {
      try {
        await sleep(1000);
      } catch {
        return 42;
      }
      return 0;
    }, 10);
    assert.equal(r, 42);
    let started = false;
    await assert.rejects(
      waitFor(async () => {
        started = true;
      }, 0),
      TimeoutError,
    );
    assert.equal(started, false);
    const done = new Future<string>();
    done.setResult("ready");
    assert.equal(await waitFor(done, 0), "ready");
    assert.equal(await waitFor(() => sleep(5, "no limit"), null), "no limit");
  });
});

test("waitFor: the caller cancelled in the iteration where the inner task finished still gets CancelledError", async () => {
  await runVirtual(async () => {
    const inner = createTask(() => sleep(10, "inner"));
    let after = false;
    const caller = createTask(async () => {
      await waitFor(inner, 100);
      after = true;
    });
    getRunningLoop().callLater(10, () => caller.cancel());
    await assert.rejects(caller, CancelledError);
    assert.equal(after, false);
  });
});

test("shield: the caller is cancelled, the inner work goes on; an inner cancel cancels the outer", async () => {
  await runVirtual(async () => {
    const inner = createTask(() => sleep(30, "survived"));
    const caller = createTask(() => shield(inner));
    await sleep(5);
    caller.cancel();
    await assert.rejects(caller, CancelledError);
    assert.equal(inner.done(), false);
    assert.equal(await inner, "survived");

    const inner2 = createTask(() => sleep(30));
    const outer2 = shield(inner2);
    await sleep(1);
    inner2.cancel();
    await assert.rejects(outer2, CancelledError);
    assert.equal(outer2.cancelled(), true);

    const inner3 = createTask(() => sleep(30, "kept"));
    await assert.rejects(waitFor(shield(inner3), 10), TimeoutError);
    assert.equal(await inner3, "kept");
  });
});
