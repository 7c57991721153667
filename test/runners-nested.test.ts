// run() / Runner.run() refuse to start a loop inside a task or a loop callback (asyncio raises
// RuntimeError "asyncio.run() cannot be called from a running event loop"); from plain code they run.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createTask, Future, getRunningLoop, InvalidStateError, run, Runner, sleep } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

/** The rejection every nested call must give: the class, why, and what to do instead. */
function isNestedRefusal(what: string, where: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof InvalidStateError, `expected InvalidStateError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`${what} cannot be called from inside `), e.message);
    assert.match(e.message, where);
    assert.match(e.message, /timeouts and cancellations could not reach/);
    assert.match(e.message, /Await the function directly instead: `await main\(\)`/);
    return true;
  };
}

function listeners(): [number, number] {
  return [process.listenerCount("SIGINT"), process.listenerCount("beforeExit")];
}

test("run() inside a task of the default loop rejects with InvalidStateError naming the task", async () => {
  getRunningLoop(); // the default loop exists (it installs its own exit listeners once, on creation)
  const before = listeners();
  let ran = false;
  const t = createTask(
    () =>
      run(() => {
        ran = true;
      }),
    { name: "outer" },
  );
  await assert.rejects(t, isNestedRefusal("run()", /inside a task \("outer"\)/));
  assert.equal(ran, false);
  assert.deepEqual(listeners(), before); // refused before installing anything
});

test("run() and Runner.run() inside run()'s main task reject; the outer run goes on", async () => {
  const runner = new Runner({ clock: "virtual" });
  const r = await runVirtual(async () => {
    const a = await run(() => 1).catch((e: unknown) => e);
    const b = await runner.run(() => 2).catch((e: unknown) => e);
    isNestedRefusal("run()", /inside a task \("main"\)/)(a);
    isNestedRefusal("Runner.run()", /inside a task \("main"\)/)(b);
    await sleep(10);
    return "outer done";
  });
  assert.equal(r, "outer done");
  assert.equal(await runner.run(() => 3), 3); // the runner was left usable
  await runner.close();
});

test("run() from a task resumed by a foreign promise (AsyncLocalStorage) rejects", async () => {
  const t = createTask(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5)); // the loop no longer runs this code
    await Promise.resolve();
    return run(() => 1);
  });
  await assert.rejects(t, isNestedRefusal("run()", /inside a task/));
});

test("run() from a loop callback rejects: callSoon, callLater, a Future's done callback, of the default loop", async () => {
  const loop = getRunningLoop();
  const errors: Promise<unknown>[] = [];
  const caught = (p: Promise<unknown>): void => void errors.push(p.then(() => "resolved", (e: unknown) => e));
  await new Promise<void>((resolve) => {
    loop.callSoon(() => caught(run(() => 1)));
    loop.callLater(1, () => {
      caught(new Runner().run(() => 2));
      resolve();
    });
  });
  const fut = new Future<number>();
  fut.addDoneCallback(() => caught(run(() => 3)));
  fut.setResult(0);
  await sleep(1);
  assert.equal(errors.length, 3);
  const expected = ["run()", "Runner.run()", "run()"];
  (await Promise.all(errors)).forEach((e, i) => isNestedRefusal(expected[i] as string, /inside a loop callback/)(e));
});

test("run() from a callback of run()'s own loop rejects", async () => {
  const err = await runVirtual(
    () =>
      new Promise<unknown>((resolve) => {
        getRunningLoop().callSoon(() => resolve(run(() => 1).catch((e: unknown) => e)));
      }),
  );
  isNestedRefusal("run()", /inside a loop callback/)(err);
});

test("from plain code run() runs even while the default loop has tasks: a test body, setTimeout, setImmediate", async () => {
  const sleeper = createTask(() => sleep(50, "slept")); // a task of the default loop, still pending
  assert.equal(await run(() => "body"), "body");
  const fromTimer = await new Promise((resolve, reject) => setTimeout(() => run(() => "timer").then(resolve, reject), 1));
  const fromImmediate = await new Promise((resolve, reject) => setImmediate(() => run(() => "immediate").then(resolve, reject)));
  assert.deepEqual([fromTimer, fromImmediate], ["timer", "immediate"]);
  assert.equal(sleeper.done(), false);
  assert.equal(await sleeper, "slept");
});

test("a Node callback that outlived the task that set it is plain code: run() runs there", async () => {
  let later: Promise<unknown> | null = null;
  const fired = new Promise<void>((resolve) => {
    void createTask(() => {
      // The timer inherits the task's AsyncLocalStorage context, but fires after the task finished.
      setTimeout(() => {
        later = run(() => "ran");
        resolve();
      }, 5);
    });
  });
  await fired;
  assert.equal(await later, "ran");
});

test("Runner.run() rejects inside a task; the same runner then runs from plain code", async () => {
  const runner = new Runner();
  await assert.rejects(
    createTask(() => runner.run(() => 1), { name: "t" }),
    isNestedRefusal("Runner.run()", /inside a task \("t"\)/),
  );
  assert.equal(await runner.run(() => 2), 2);
  await runner.close();
});
