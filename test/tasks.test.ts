import assert from "node:assert/strict";
import { inspect } from "node:util";
import { setTimeout as delay } from "node:timers/promises";
import { test } from "node:test";
import { allTasks, CancelledError, createTask, currentTask, Future, getRunningLoop, run, sleep, Task } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

test("createTask takes a function; a promise is refused with a TypeError that says so", async () => {
  await runVirtual(async () => {
    const p = Promise.resolve(1);
    // @ts-expect-error: a promise is not a function
    assert.throws(() => createTask(p), { name: "TypeError", message: /must be a function.*already runs outside/ });
    // @ts-expect-error: name must be a string
    assert.throws(() => createTask(() => 1, { name: 3 }), { name: "TypeError", message: /`name`/ });
  });
});

test("a task starts on a later iteration, after the creator's synchronous code; tasks start FIFO", async () => {
  const order: string[] = [];
  await runVirtual(async () => {
    const a = createTask(() => order.push("a"));
    const b = createTask(() => order.push("b"));
    order.push("sync");
    await a;
    await b;
  });
  assert.deepEqual(order, ["sync", "a", "b"]);
});

test("sleep(0) interleaves two tasks step by step: A0 B0 A1 B1 A2 B2", async () => {
  const order: string[] = [];
  await runVirtual(async () => {
    const mk = (n: string) => async () => {
      for (let i = 0; i < 3; i++) {
        order.push(`${n}${i}`);
        await sleep(0);
      }
    };
    const a = createTask(mk("A"));
    const b = createTask(mk("B"));
    await a;
    await b;
  });
  assert.deepEqual(order, ["A0", "B0", "A1", "B1", "A2", "B2"]);
});

test("a step is atomic even across nested async functions", async () => {
  const order: string[] = [];
  await runVirtual(async () => {
    const helper = async (n: string) => {
      await sleep(0);
      order.push(`${n}:helper`);
      await null; // a microtask hop inside the step must not let the other task in
      await Promise.resolve();
    };
    const mk = (n: string) => async () => {
      await helper(n);
      order.push(`${n}:after`);
      await sleep(0);
      order.push(`${n}:end`);
    };
    const a = createTask(mk("A"));
    const b = createTask(mk("B"));
    await a;
    await b;
  });
  assert.deepEqual(order, ["A:helper", "A:after", "B:helper", "B:after", "A:end", "B:end"]);
});

test("currentTask() is found at any depth, and is null outside tasks", async () => {
  assert.equal(currentTask(), null);
  await runVirtual(async () => {
    const deep = async () => {
      await sleep(1);
      return currentTask()?.name;
    };
    const t = createTask(async () => deep(), { name: "deep" });
    assert.equal(await t, "deep");
    assert.equal(currentTask()?.name, "main");
    let inCallback: Task<unknown> | null | undefined;
    getRunningLoop().callSoon(() => (inCallback = currentTask()));
    await sleep(0);
    assert.equal(inCallback, null);
  });
});

test("cancel: counted, message of the first request, cancelled() only once the task ended", async () => {
  await runVirtual(async () => {
    const t = createTask(() => sleep(1000));
    await sleep(1);
    assert.equal(t.cancel("m1"), true);
    assert.equal(t.cancel("m2"), true);
    assert.equal(t.cancelling(), 2);
    assert.equal(t.cancelled(), false);
    await assert.rejects(t, { name: "CancelledError", message: "m1" });
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
  });
});

test("a task that catches CancelledError and returns a value ends with that value", async () => {
  await runVirtual(async () => {
    const t = createTask(async () => {
      try {
        await sleep(1000);
      } catch (e) {
        assert.ok(e instanceof CancelledError);
        return "ignored";
      }
      return "slept";
    });
    await sleep(1);
    t.cancel();
    assert.equal(await t, "ignored");
    assert.equal(t.cancelled(), false);
    assert.equal(t.cancelling(), 1);
  });
});

test("a task that never observes its cancellation ends cancelled, its value dropped", async () => {
  await runVirtual(async () => {
    const t = createTask(() => {
      currentTask()!.cancel();
      return 12;
    });
    await assert.rejects(t, CancelledError);
    assert.equal(t.cancelled(), true);
    // The same when the request arrives while the task awaits a foreign promise.
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    const u = createTask(async () => {
      await gate;
      return 13;
    });
    await sleep(0);
    await sleep(0);
    u.cancel();
    release();
    await assert.rejects(u, CancelledError);
  });
});

test("a task cancelled before it starts never runs its body", async () => {
  await runVirtual(async () => {
    let ran = false;
    const t = createTask(() => (ran = true));
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.equal(ran, false);
  });
});

test("cancelling a task that awaits another cancels the inner one; an inner cancel propagates up", async () => {
  await runVirtual(async () => {
    const inner = createTask(() => sleep(1000));
    const outer = createTask(async () => inner);
    await sleep(1);
    outer.cancel();
    await assert.rejects(outer, CancelledError);
    assert.equal(inner.cancelled(), true);

    const inner2 = createTask(() => sleep(1000));
    const outer2 = createTask(async () => {
      await inner2;
    });
    await sleep(1);
    inner2.cancel();
    await assert.rejects(outer2, CancelledError);
    assert.equal(outer2.cancelled(), true);
    assert.equal(outer2.cancelling(), 0);
  });
});

test("uncancel withdraws a request; at zero a pending request is dropped (3.13)", async () => {
  await runVirtual(async () => {
    const t = createTask(async () => {
      try {
        await sleep(1000);
      } catch {
        assert.equal(currentTask()!.uncancel(), 0);
      }
      await sleep(1);
      return "carried on";
    });
    await sleep(1);
    t.cancel();
    assert.equal(await t, "carried on");
    assert.equal(t.cancelling(), 0);

    const u = createTask(async () => {
      const me = currentTask()!;
      me.cancel();
      me.uncancel();
      await sleep(1);
      return "not cancelled";
    });
    assert.equal(await u, "not cancelled");
  });
});

test("task.signal aborts on cancel so foreign APIs stop, and is renewed after uncancel", async () => {
  await run(async () => {
    const t = createTask(async () => {
      await delay(60_000, undefined, { signal: currentTask()!.signal });
      return "slept a minute";
    });
    await sleep(5);
    const t0 = performance.now();
    t.cancel("stop");
    await assert.rejects(t, { name: "CancelledError", message: "stop" });
    assert.equal(t.cancelled(), true);
    assert.ok(performance.now() - t0 < 1000);

    const me = currentTask()!;
    const s1 = me.signal;
    me.cancel();
    assert.equal(s1.aborted, true);
    assert.ok(s1.reason instanceof CancelledError);
    me.uncancel();
    assert.equal(me.signal.aborted, false);
    assert.notEqual(me.signal, s1);
  });
});

test("a step that awaits a foreign promise does not block the loop, and re-attaches afterwards", async () => {
  const order: string[] = [];
  await run(async () => {
    const a = createTask(async () => {
      order.push("a:start");
      await delay(20);
      order.push("a:after foreign");
      await sleep(0);
      order.push("a:end");
    });
    const b = createTask(async () => {
      for (let i = 0; i < 3; i++) {
        order.push(`b${i}`);
        await sleep(1);
      }
    });
    await a;
    await b;
  });
  assert.deepEqual(order.slice(0, 4), ["a:start", "b0", "b1", "b2"]);
  assert.ok(order.indexOf("a:end") > order.indexOf("a:after foreign"));
});

test("sleep: validates, returns its value, and is cancelled by its signal", async () => {
  await runVirtual(async () => {
    assert.throws(() => sleep(-1), { name: "RangeError", message: /sleep: `ms`/ });
    assert.throws(() => sleep(Number.NaN), RangeError);
    // @ts-expect-error: not a number
    assert.throws(() => sleep("1"), TypeError);
    assert.equal(await sleep(10, "v"), "v");
    const ac = new AbortController();
    const s = sleep(1000, 1, { signal: ac.signal });
    getRunningLoop().callLater(5, () => ac.abort());
    await assert.rejects(s, CancelledError);
    assert.equal(getRunningLoop().time(), 15);
  });
});

test("allTasks lists the pending tasks; tasks print their state", async () => {
  await runVirtual(async () => {
    const t = createTask(() => sleep(10), { name: "napper" });
    await sleep(0);
    assert.ok(allTasks().has(t));
    assert.match(inspect(t), /^<Task pending name="napper" waiting on <SleepFuture pending waiters=1 when=10 left=10ms>>$/);
    t.name = "renamed";
    t.cancel();
    assert.match(inspect(t), /cancelling=1/);
    await assert.rejects(t);
    assert.equal(inspect(t), '<Task cancelled name="renamed">');
    assert.equal(allTasks().has(t), false);
    const f = new Future<number>();
    const w = createTask(async () => f, { name: "w" });
    await sleep(0);
    f.setResult(5);
    assert.equal(await w, 5);
    assert.equal(inspect(w), '<Task finished result=5 name="w">');
  });
});

test("100,000 waiting tasks all finish when cancelled", async () => {
  await runVirtual(async () => {
    const ts: Task<void>[] = [];
    for (let i = 0; i < 100_000; i++) ts.push(createTask(() => sleep(60_000)));
    await sleep(1);
    for (const t of ts) t.cancel();
    const results = await Promise.allSettled(ts);
    assert.equal(results.filter((r) => r.status === "rejected").length, 100_000);
    assert.equal(allTasks().size, 1);
  });
});

test("a task awaiting itself gets InvalidStateError instead of hanging", async () => {
  await runVirtual(async () => {
    const t: Task<unknown> = createTask(async () => {
      await sleep(0);
      return await t;
    });
    await assert.rejects(t, { name: "InvalidStateError", message: /cannot await itself/ });
  });
});
