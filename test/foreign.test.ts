// Foreign promises (issue 12): where a cancel request goes, deadlines around promises tsaio did not
// make, cancellable(), Promise.all over tsaio awaitables, and timers Node cannot arm.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { setImmediate as tick, setTimeout as delay } from "node:timers/promises";
import {
  CancelledError,
  Condition,
  createTask,
  currentTask,
  ensureFuture,
  Event,
  Future,
  gather,
  getRunningLoop,
  InvalidStateError,
  Lock,
  Loop,
  Queue,
  run,
  Semaphore,
  sleep,
  timeout,
  cancellable,
  type ExceptionContext,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const here = new URL(import.meta.url).pathname;

/** Runs `f` and returns the error's name, or "value:<v>". */
async function outcome(f: () => Promise<unknown>): Promise<string> {
  try {
    return `value:${String(await f())}`;
  } catch (e) {
    return (e as Error).name;
  }
}

test("issue snippet 1: a cancel during a foreign await is raised by the next sleep(0), not 200 iterations later", async () => {
  await run(async () => {
    let i = 0;
    const t = createTask(async () => {
      for (i = 0; i < 200; i++) {
        await readFile(here);
        await sleep(0);
      }
    });
    await sleep(20);
    const atCancel = i;
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.equal(i, atCancel, "no iteration ran after the readFile that was in flight at cancel()");
  });
});

test("issue snippet 2: a deadline expiring during a foreign await is raised by the next tsaio call of any kind", async () => {
  await run(async () => {
    const ev = new Event();
    ev.set();
    const done = new Future<number>();
    done.setResult(1);
    const lock = new Lock();
    const q = new Queue<number>();
    q.putNowait(7);
    const sem = new Semaphore(1);
    const variants: Record<string, () => Promise<unknown>> = {
      "sleep(0)": () => sleep(0),
      "set Event": () => ev.wait(),
      "done Future": async () => done,
      "free Lock": () => lock.acquire(),
      "non-empty Queue": () => q.get(),
      "free Semaphore": () => sem.acquire(),
      "Queue.put": () => q.put(8),
      gather: () => gather([() => 1]),
      "nothing (the body returns)": async () => undefined,
    };
    for (const [name, op] of Object.entries(variants)) {
      const t0 = performance.now();
      const r = await outcome(() =>
        timeout(10, async () => {
          await delay(40);
          await op();
          return "value";
        }),
      );
      assert.equal(r, "TimeoutError", name);
      assert.ok(performance.now() - t0 >= 35, `${name}: raised when the foreign await settled`);
      assert.equal(currentTask()!.cancelling(), 0, `${name}: the scope withdrew its request`);
    }
    // Before the call had any effect:
    assert.equal(lock.locked(), false, "the lock was not taken");
    assert.equal(q.qsize(), 1, "the queue still holds its item, and put() added nothing");
    assert.equal(sem.locked(), false, "the semaphore kept its permit");
  });
});

test("rule (c): the raising call has no effect; synchronous calls never raise; the task ends cancelled", async () => {
  await run(async () => {
    const q = new Queue<number>(1);
    const cond = new Condition();
    const trace: string[] = [];
    const t = createTask(async () => {
      await cond.acquire();
      await delay(20); // foreign: cancel() lands here
      q.putNowait(1); // synchronous: never raises
      const child = createTask(() => "child");
      trace.push("sync calls ran");
      try {
        await cond.wait();
      } catch (e) {
        trace.push(`wait: ${(e as Error).name}, lock held: ${cond.locked()}`);
      }
      cond.release();
      await sleep(0); // the request was delivered once: no second CancelledError
      trace.push(`after: ${await child}`);
      return "done";
    });
    await sleep(5);
    t.cancel();
    assert.equal(await t, "done");
    assert.deepEqual(trace, ["sync calls ran", "wait: CancelledError, lock held: true", "after: child"]);
    assert.equal(q.qsize(), 1);
  });
});

test("rule (c): uncancel() back to the earlier count withdraws the request", async () => {
  await run(async () => {
    const t = createTask(async () => {
      await delay(20);
      currentTask()!.uncancel();
      await sleep(0);
      await sleep(1);
      return "kept going";
    });
    await sleep(5);
    t.cancel();
    assert.equal(await t, "kept going");
  });
});

test("rule (c): a body that settles with the request undelivered ends cancelled", async () => {
  await run(async () => {
    const t = createTask(async () => {
      await delay(20);
      return "value";
    });
    await sleep(5);
    t.cancel("stop");
    await assert.rejects(t, (e: unknown) => e instanceof CancelledError && e.message === "stop");
    assert.equal(t.cancelled(), true);
  });
});

test("rule (b): a task that cancels itself sees it at its next suspension only (a done future is not one)", async () => {
  await runVirtual(async () => {
    const done = new Future<string>();
    done.setResult("ok");
    const trace: string[] = [];
    const t = createTask(async () => {
      currentTask()!.cancel();
      trace.push(await done); // no suspension: no delivery (asyncio)
      const lock = new Lock();
      await lock.acquire(); // free: no suspension
      trace.push(`locked ${lock.locked()}`);
      try {
        await sleep(0);
      } catch (e) {
        trace.push((e as Error).name);
      }
    });
    await t;
    assert.deepEqual(trace, ["ok", "locked true", "CancelledError"]);
  });
});

test("sleep(0) delivers a self-cancel also when called outside a loop step (after a foreign await)", async () => {
  await run(async () => {
    for (let n = 0; n < 20; n++) {
      const t = createTask(async () => {
        await delay(1); // now running outside the loop's steps
        currentTask()!.cancel();
        await sleep(0);
        return "missed";
      });
      await assert.rejects(t, CancelledError);
    }
  });
});

test("Promise.all / allSettled / race over tsaio sleeps: cancelling the task ends it at once and cancels every sleep", async () => {
  await runVirtual(async () => {
    for (const kind of ["all", "allSettled", "race"] as const) {
      const sleeps: Future<number>[] = [];
      const t = createTask(async () => {
        for (let i = 0; i < 50; i++) sleeps.push(sleep(1_000 + i, i));
        if (kind === "all") await Promise.all(sleeps);
        else if (kind === "race") await Promise.race(sleeps);
        else await Promise.allSettled(sleeps); // swallows the cancellations: the task still ends cancelled
        return "finished";
      });
      await sleep(10);
      const t0 = getRunningLoop().time();
      t.cancel();
      await assert.rejects(t, CancelledError, kind);
      assert.equal(getRunningLoop().time(), t0, `${kind}: rejected at once`);
      assert.equal(sleeps.filter((s) => s.cancelled()).length, 50, `${kind}: every sleep cancelled`);
    }
  });
});

test("Promise.all over tsaio sleeps resolves in order, in a task, with partial completions", async () => {
  await runVirtual(async () => {
    const r = await Promise.all([sleep(30, "a"), sleep(10, "b"), sleep(20, "c")]);
    assert.deepEqual(r, ["a", "b", "c"]);
    assert.equal(getRunningLoop().time(), 30);
    // After a race, the task moves on; a later cancel still reaches it.
    const t = createTask(async () => {
      await Promise.race([sleep(5), sleep(1_000)]);
      await delay(20);
      await sleep(0);
      return "missed";
    });
    await sleep(10);
    t.cancel();
    await assert.rejects(t, CancelledError);
  });
});

test("cancellable(): raises at once on cancel and on timeout, aborts the function form's signal, observes the abandoned promise", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    await run(async () => {
      let seen: AbortSignal | undefined;
      const t0 = performance.now();
      const r = await outcome(() =>
        timeout(20, () =>
          cancellable((signal) => {
            seen = signal;
            return delay(2_000, "late", { signal });
          }),
        ),
      );
      assert.equal(r, "TimeoutError");
      assert.ok(performance.now() - t0 < 1_500, "raised at the deadline, not when the promise settled");
      assert.equal(seen?.aborted, true);
      // Promise form: abandoned, its later rejection observed.
      const slow = delay(30).then(() => {
        throw new Error("late failure");
      });
      const t = createTask(() => cancellable(slow));
      await sleep(5);
      t.cancel();
      await assert.rejects(t, CancelledError);
      await delay(50);
      // Outside a task it simply awaits; a value passes through.
      assert.equal(await cancellable(Promise.resolve(5)), 5);
      await assert.rejects(cancellable(Promise.reject(new RangeError("x"))), RangeError);
      await assert.rejects(
        cancellable(() => {
          throw new SyntaxError("sync");
        }),
        SyntaxError,
      );
      // @ts-expect-error: not a promise or function
      assert.throws(() => cancellable(42), { name: "TypeError", message: /`op`/ });
    });
    await tick();
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("cancellable() called with a pending request raises and never calls the function", async () => {
  await run(async () => {
    let called = false;
    const t = createTask(async () => {
      await delay(20);
      await cancellable(() => {
        called = true;
        return 1;
      });
    });
    await sleep(5);
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.equal(called, false);
  });
});

test("a task's signal takes thousands of listeners without MaxListenersExceededWarning", async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on("warning", onWarning);
  try {
    await run(async () => {
      const signal = currentTask()!.signal;
      const ps: Promise<unknown>[] = [];
      for (let i = 0; i < 2_000; i++) ps.push(delay(1, i, { signal }));
      await Promise.all(ps);
    });
    await tick();
    assert.deepEqual(
      warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message),
      [],
    );
  } finally {
    process.off("warning", onWarning);
  }
});

test("debug mode reports a cancellation pending on a foreign await: task, who asked, how long, where, the fix", async () => {
  const reports: ExceptionContext[] = [];
  await run(
    async () => {
      const loop = getRunningLoop();
      loop.slowCallbackDuration = 20;
      loop.setExceptionHandler((_l, ctx) => {
        if (String(ctx.message).includes("has not seen it")) reports.push(ctx);
      });
      await sleep(1);
      const r = await outcome(() => timeout(5, () => delay(80)));
      assert.equal(r, "TimeoutError");
    },
    { debug: true },
  );
  assert.equal(reports.length, 1);
  const ctx = reports[0]!;
  assert.equal(ctx.taskName, "main");
  assert.match(String(ctx.requestedBy), /^timeout\(\)/);
  assert.ok((ctx.pendingFor as number) >= 15);
  assert.match(String(ctx.where), /foreign\.test\.ts/);
  assert.match(ctx.message, /signal.*cancellable\(\)/);
});

test("timers Node cannot arm: Infinity arms nothing, long delays re-arm, no TimeoutOverflowWarning", async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on("warning", onWarning);
  try {
    await run(async () => {
      const loop = getRunningLoop();
      const a = createTask(() => sleep(Infinity));
      const b = createTask(() => sleep(1e10));
      const h = loop.callLater(3e9, () => {});
      assert.equal(await timeout(Infinity, () => sleep(5, "body")), "body");
      await delay(30);
      a.cancel();
      b.cancel();
      h.cancel();
      await Promise.allSettled([a, b]);
    });
    await tick();
    assert.deepEqual(
      warnings.filter((w) => w.name === "TimeoutOverflowWarning").map((w) => w.message),
      [],
    );
  } finally {
    process.off("warning", onWarning);
  }
});

test("virtual clock: an infinite deadline is never reached, so waiting only on one is a deadlock", async () => {
  await assert.rejects(
    runVirtual(() => sleep(Infinity)),
    (e: unknown) => (e as Error).name === "DeadlockError",
  );
  await assert.rejects(
    runVirtual(() => timeout(Infinity, () => new Future())),
    (e: unknown) => (e as Error).name === "DeadlockError",
  );
  // A long but finite one is reached by jumping.
  assert.equal(await runVirtual(async () => (await sleep(1e10, "late"), getRunningLoop().time())), 1e10);
});

test("asyncio behaviours: Task.setResult/setException, cancel() on a failed future, ensureFuture's loop, Future(loop)", async () => {
  const reports: string[] = [];
  await run(async () => {
    getRunningLoop().setExceptionHandler((_l, ctx) => void reports.push(ctx.message));
    const t = createTask(() => sleep(1));
    assert.throws(() => t.setResult(undefined), { name: "InvalidStateError", message: /Task does not support setResult/ });
    assert.throws(() => t.setException(new Error("x")), { name: "InvalidStateError", message: /Task does not support setException/ });
    await t;
    const f = new Future<number>();
    f.setException(new Error("boom"));
    assert.equal(f.cancel(), false);
    const failed = createTask(async () => {
      throw new Error("task boom");
    });
    await sleep(0);
    assert.equal(failed.cancel(), false);
    const other = new Loop();
    assert.throws(() => ensureFuture(f, other), InvalidStateError);
    other.close();
    // @ts-expect-error: not a loop
    assert.throws(() => new Future(42), { name: "TypeError", message: /`loop`/ });
  });
  assert.deepEqual(reports, [], "cancel() counted as retrieving the errors");
});

test("debug mode names awaitables never awaited, and awaits still suspended when the loop closes", async () => {
  const reports: ExceptionContext[] = [];
  let finallyRan = false;
  await run(
    async () => {
      getRunningLoop().setExceptionHandler((_l, ctx) => void reports.push(ctx));
      void sleep(10); // forgotten
      void gather([() => 1]); // forgotten
      const awaited = sleep(5);
      await sleep(20); // `awaited` finished meanwhile: awaiting it later is fine
      await awaited;
      const never = new Future<void>();
      const helper = async (): Promise<void> => {
        try {
          await never;
        } finally {
          finallyRan = true;
        }
      };
      // An await outside any task, left suspended.
      setImmediate(() => void helper());
      await delay(5);
    },
    { debug: true },
  );
  const never = reports.filter((r) => /was never awaited/.test(r.message));
  assert.deepEqual(never.map((r) => r.message.split(" ")[0]).sort(), ["gather()", "sleep(10)"]);
  for (const r of never) assert.match(String(r.createdAt), /foreign\.test\.ts/);
  const suspended = reports.filter((r) => /still suspended when the loop closed/.test(r.message));
  assert.equal(suspended.length, 1);
  assert.match(String(suspended[0]!.suspendedAt), /foreign\.test\.ts/);
  assert.equal(finallyRan, false);
});
