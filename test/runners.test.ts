import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  createTask,
  DeadlockError,
  type ExceptionContext,
  Future,
  getRunningLoop,
  KeyboardInterrupt,
  run,
  Runner,
  sleep,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";
import { runFixture } from "./fixtures/run-fixture.js";

test("SIGINT cancels the main task, its finally blocks run, and the process exits with 130", async () => {
  const r = await runFixture("sigint.ts", [], {
    onLine: (line, child) => {
      if (line === "ready") child.kill("SIGINT");
    },
  });
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["ready", "cleanup"]);
});

test("a second SIGINT exits at once even if cleanup hangs", async () => {
  const r = await runFixture("sigint.ts", ["stuck"], {
    onLine: (line, child) => {
      if (line === "ready") child.kill("SIGINT");
      if (line === "cleanup") setTimeout(() => child.kill("SIGINT"), 50);
    },
  });
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["ready", "cleanup"]);
});

test("a program that can make no progress fails with DeadlockError naming the waiting tasks", async () => {
  const r = await runFixture("deadlock.ts");
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /DeadlockError: deadlock/);
  assert.match(r.stderr, /"main" waits on <Future pending/);
  assert.match(r.stderr, /"helper" waits on <Future pending/);
});

test("leftover tasks are cancelled at exit, unretrieved errors are reported by name, and the process exits by itself", async () => {
  const r = await runFixture("leftovers.ts");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["leftover cancelled", "main done"]);
  assert.match(r.stderr, /Task exception was never retrieved/);
  assert.match(r.stderr, /worker-3/);
  assert.match(r.stderr, /nobody looked/);
  assert.ok(r.ms < 20_000);
});

test("run returns main's value, rethrows main's error, and validates its argument", async () => {
  assert.equal(await run(() => 5), 5);
  await assert.rejects(
    run(async () => {
      throw new RangeError("main failed");
    }),
    RangeError,
  );
  // @ts-expect-error: a promise is not a function
  await assert.rejects(run(Promise.resolve(1)), { name: "TypeError", message: /run: `main`/ });
});

test("at exit leftover tasks are cancelled and awaited, their finally blocks run", async () => {
  const events: string[] = [];
  await runVirtual(async () => {
    void createTask(async () => {
      try {
        await sleep(1000);
      } finally {
        await sleep(5); // cleanup may await
        events.push(`cleaned at ${getRunningLoop().time()}`);
      }
    });
    await sleep(1);
  });
  assert.deepEqual(events, ["cleaned at 6"]);
});

test("virtual-clock deadlock rejects at once with the waiting tasks named, after cancelling main", async () => {
  let cleaned = false;
  const err = await runVirtual(async () => {
    void createTask(() => new Future<void>(), { name: "stuck-helper" });
    try {
      await new Future<void>();
    } finally {
      cleaned = true;
    }
  }).catch((e: unknown) => e);
  assert.ok(err instanceof DeadlockError);
  assert.match(err.message, /deadlock/);
  assert.match(err.message, /"main" waits on/);
  assert.match(err.message, /"stuck-helper" waits on/);
  assert.equal(cleaned, true);
});

test("Runner runs several mains on one loop and closes it; usable with await using", async () => {
  const runner = new Runner({ clock: "virtual" });
  assert.equal(await runner.run(() => sleep(1000, "a")), "a");
  assert.equal(await runner.run(() => sleep(1000, "b")), "b");
  assert.equal(runner.getLoop().time(), 2000);
  assert.match(inspect(runner), /^<Runner idle <Loop/);
  await runner.close();
  assert.throws(() => runner.getLoop(), { name: "InvalidStateError" });
  {
    await using r2 = new Runner({ clock: "virtual" });
    assert.equal(await r2.run(() => 1), 1);
  }
});

test("SIGINT in-process: main is cancelled and run rejects with KeyboardInterrupt when exitOnSigint is false", async () => {
  let cleaned = false;
  const p = run(
    async () => {
      try {
        await sleep(60_000);
      } finally {
        cleaned = true;
      }
    },
    { exitOnSigint: false },
  );
  setTimeout(() => process.emit("SIGINT"), 20);
  await assert.rejects(p, (e: unknown) => e instanceof KeyboardInterrupt && (e.cause as unknown) instanceof CancelledError);
  assert.equal(cleaned, true);
  assert.equal(process.listenerCount("SIGINT"), 0);
});

test("virtual clock: no false deadlock while a continuation is still queued as a microtask", async () => {
  const r = await runVirtual(async () => {
    const loop = getRunningLoop();
    const f1 = new Future<number>();
    const f2 = new Future<number>();
    const p1 = f1.then((v) => v, (e: unknown) => e);
    const p2 = f2.then((v) => v, (e: unknown) => e);
    loop.callLater(5, () => f1.setResult(1));
    await p1;
    f2.setResult(2);
    return await p2;
  });
  assert.equal(r, 2);
});

test("shutdownTimeout is validated by run() and Runner, naming it; Infinity is allowed", async () => {
  for (const bad of [-1, NaN]) {
    assert.throws(() => new Runner({ shutdownTimeout: bad }), { name: "RangeError", message: /Runner: `shutdownTimeout` must be >= 0/ });
    await assert.rejects(run(() => 1, { shutdownTimeout: bad }), { name: "RangeError", message: /`shutdownTimeout`/ });
  }
  for (const bad of ["5000", null, true]) {
    // @ts-expect-error: not a number
    assert.throws(() => new Runner({ shutdownTimeout: bad }), { name: "TypeError", message: /Runner: `shutdownTimeout` must be a number of milliseconds/ });
  }
  assert.equal(await run(() => "ok", { shutdownTimeout: Infinity, handleSigint: false }), "ok");
  assert.equal(await run(() => "ok", { shutdownTimeout: 0, handleSigint: false }), "ok");
});

// A time limit on the test: were the giving up broken, run() would never return.
test("a leftover that ignores cancellation is given up after shutdownTimeout, reported with what it waits on; run() returns main's value", { timeout: 20_000 }, async () => {
  const listeners = process.listenerCount("beforeExit");
  const timers = (): number => process.getActiveResourcesInfo().filter((x) => x === "Timeout").length;
  const timersBefore = timers();
  const reports: ExceptionContext[] = [];
  const t0 = performance.now();
  const r = await run(
    async () => {
      getRunningLoop().setExceptionHandler((_loop, ctx) => reports.push(ctx));
      void createTask(
        async () => {
          for (;;) {
            try {
              await sleep(60_000);
            } catch {
              // swallows every cancellation: only giving up ends the wait
            }
          }
        },
        { name: "stubborn" },
      );
      await sleep(1);
      return "main value";
    },
    { shutdownTimeout: 100, handleSigint: false },
  );
  const elapsed = performance.now() - t0;
  assert.equal(r, "main value");
  assert.equal(reports.length, 1, reports.map((c) => c.message).join("\n"));
  const [report] = reports as [ExceptionContext];
  assert.match(report.message, /^Task "stubborn" was cancelled at shutdown but did not finish: it was still pending after shutdownTimeout \(100 ms\)\. Abandoned while waiting on <.*Future pending/);
  assert.doesNotMatch(report.message, /cancellable/); // it waits on a tsaio future: the foreign-promise hint would mislead
  assert.equal(report.taskName, "stubborn");
  assert.match(String(report.waitingOn), /Future pending/);
  assert.ok(elapsed >= 95 && elapsed < 10_000, `took ${elapsed} ms`);
  assert.equal(process.listenerCount("beforeExit"), listeners);
  assert.equal(timers(), timersBefore);
});

test("leftovers are awaited while they clean up on the real clock; tasks they start meanwhile are cancelled and awaited too", { timeout: 20_000 }, async () => {
  const events: string[] = [];
  const reports: ExceptionContext[] = [];
  await run(
    async () => {
      getRunningLoop().setExceptionHandler((_loop, ctx) => reports.push(ctx));
      void createTask(async () => {
        try {
          await sleep(60_000);
        } finally {
          // cleanup that starts a task of its own and does not wait for it (asyncio would drop it pending)
          void createTask(async () => {
            try {
              await sleep(60_000);
            } finally {
              await sleep(20);
              events.push("spawned task cleaned");
            }
          });
          await sleep(30);
          events.push("leftover cleaned");
        }
      });
      await sleep(1);
    },
    { handleSigint: false },
  );
  assert.deepEqual(events.sort(), ["leftover cleaned", "spawned task cleaned"]);
  assert.deepEqual(reports, []);
});

test("twenty runs at once, each leaving a task behind, share one beforeExit listener: no MaxListenersExceededWarning", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): number => warnings.push(w.name);
  process.on("warning", onWarning);
  const base = process.listenerCount("beforeExit");
  let most = 0;
  try {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        runVirtual(async () => {
          void createTask(() => sleep(60_000)); // a leftover: its shutdown waits for it too
          await sleep(10 * (i + 1));
          most = Math.max(most, process.listenerCount("beforeExit"));
          return i;
        }),
      ),
    );
    assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i));
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
  } finally {
    process.removeListener("warning", onWarning);
  }
  assert.deepEqual(warnings, []);
  assert.equal(most, base + 1);
  assert.equal(process.listenerCount("beforeExit"), base);
});
