import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, ProcessPoolExecutor, ThreadPoolExecutor } from "../../src/index.js";
import { jobs, pause, runFixture, until } from "./helpers.js";

describe("shutdown", () => {
  test("wait: true drains every job, then every worker exits", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 2 });
    const futs = Array.from({ length: 10 }, (_, i) => p.submit(jobs.fns.slowInc, i, 20));
    await p.shutdown({ wait: true });
    assert.deepEqual(
      futs.map((f) => f.result()),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    assert.match(inspect(p), /shutdown workers=0\/2 busy=0 queued=0/);
  });

  test("cancelFutures: true cancels what has not started; running jobs finish", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 1 });
    const running = p.submit(jobs.fns.slowInc, 1, 200);
    const waiting = Array.from({ length: 5 }, (_, i) => p.submit(jobs.fns.inc, i));
    await until(() => running.running(), 10_000, "the first job to start");
    await p.shutdown({ cancelFutures: true });
    assert.equal(running.result(), 2);
    for (const f of waiting) assert.ok(f.cancelled(), inspect(f));
  });

  test("wait: false returns at once; the work still completes", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 1 });
    const fut = p.submit(jobs.fns.slowInc, 1, 100);
    await p.shutdown({ wait: false });
    assert.equal(fut.done(), false);
    assert.equal(await fut, 2);
    await p.shutdown(); // again: harmless, waits for the exit
    assert.match(inspect(p), /workers=0\/1/);
  });

  test("every pending future settles exactly once, whatever ends it", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 1, cancelGracePeriod: 100 });
    const futs = [
      p.submit(jobs.fns.slowInc, 1, 100), // finishes
      p.submitWith({ timeout: 20 }, jobs.fns.waitForever), // times out
      p.submit(jobs.fns.exitNow, 5), // crash
      p.submit(jobs.fns.inc, 1), // cancelled by shutdown or finished
      p.submit(jobs.fns.inc, 2),
    ];
    const counts = futs.map(() => 0);
    futs.forEach((f, i) => f.addDoneCallback(() => counts[i]++));
    futs[4].cancel();
    await until(() => futs[2].done(), 10_000, "the crash");
    await p.shutdown({ cancelFutures: true });
    await Promise.allSettled(futs);
    await pause(20);
    assert.deepEqual(counts, [1, 1, 1, 1, 1]);
  });
});

describe("recycling workers", () => {
  test("maxTasksPerWorker replaces a worker after that many jobs", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 1, maxTasksPerWorker: 3 });
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push(await p.submit(jobs.fns.threadId));
    await p.shutdown();
    assert.equal(new Set(ids).size, 3, `thread ids ${ids.join(",")}`);
    assert.equal(ids[0], ids[2]);
    assert.notEqual(ids[2], ids[3]);
  });

  test("maxHeapUsed recycles a worker between jobs once its heap grows past the limit; queued jobs move on", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 1, maxHeapUsed: 40 * 1024 * 1024 });
    const first = await p.submit(jobs.fns.threadId);
    const grow = [p.submit(jobs.fns.grow, 16), p.submit(jobs.fns.grow, 16), p.submit(jobs.fns.grow, 16), p.submit(jobs.fns.grow, 16)];
    const afterwards = p.submit(jobs.fns.threadId);
    await Promise.all(grow);
    const later = await afterwards;
    assert.notEqual(later, first, "the grown worker was replaced");
    await p.shutdown();
  });

  test("idleTimeout: an idle worker exits", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 2, idleTimeout: 50 });
    await Promise.all([p.submit(jobs.fns.inc, 1), p.submit(jobs.fns.inc, 2)]);
    await until(() => /workers=0\/2/.test(inspect(p)), 10_000, "idle workers to exit");
    assert.equal(await p.submit(jobs.fns.inc, 3), 4, "a new worker starts on demand");
    await p.shutdown();
  });

  test("initializer runs in every worker before its first job, with initargs", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 2, initializer: jobs.fns.setup, initargs: [{ config: "yes" }] });
    const seen = await Promise.all([p.submit(jobs.fns.getInit), p.submit(jobs.fns.getInit), p.submit(jobs.fns.getInit)]);
    assert.deepEqual(seen, [{ config: "yes" }, { config: "yes" }, { config: "yes" }]);
    await p.shutdown();
  });

  test("process pool: maxTasksPerWorker and initializer", async () => {
    const p = new ProcessPoolExecutor({ maxWorkers: 1, maxTasksPerWorker: 2, initializer: jobs.fns.setup, initargs: ["proc"] });
    const a = await p.submit(jobs.fns.pid);
    assert.equal(await p.submit(jobs.fns.getInit), "proc");
    const b = await p.submit(jobs.fns.pid);
    assert.notEqual(a, b);
    await p.shutdown();
  });
});

test("an idle pool holds no ref'd handle and no pending work on the event loop", async () => {
  const count = (): number => process.getActiveResourcesInfo().filter((r) => r === "MessagePort" || r === "Worker" || r === "ChildProcess" || r === "PipeWrap").length;
  const before = count();
  const threads = new ThreadPoolExecutor({ maxWorkers: 2 });
  const procs = new ProcessPoolExecutor({ maxWorkers: 1 });
  await Promise.all([threads.submit(jobs.fns.slowInc, 1, 20), threads.submit(jobs.fns.inc, 1), procs.submit(jobs.fns.inc, 1)]);
  await pause(50);
  assert.equal(count(), before, process.getActiveResourcesInfo().join(", "));
  await Promise.all([threads.shutdown(), procs.shutdown()]);
});

describe("an idle pool lets the program exit by itself", () => {
  for (const kind of ["threads", "processes", "default executor"]) {
    test(kind, async () => {
      const r = await runFixture("idle-exit.ts", [kind], 20_000);
      assert.equal(r.signal, null, `killed: the process did not exit by itself (${r.stderr})`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "[ 2, 3 ]");
    });
  }
});

test("a cancelled future reports CancelledError with the cancel message", async () => {
  const p = new ThreadPoolExecutor({ maxWorkers: 1 });
  const f = p.submit(jobs.fns.waitForever);
  f.cancel("bye");
  await assert.rejects(f, (e: unknown) => e instanceof CancelledError && e.message === "bye");
  await p.shutdown();
});
