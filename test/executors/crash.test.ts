/**
 * Crash injection: every kind of worker death loses nothing. The job the worker held fails with
 * BrokenExecutorError naming the cause and the job; every other job still runs; the pool goes on.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { BrokenExecutorError, ProcessPoolExecutor, ThreadPoolExecutor, type Executor, type ExecutorFuture } from "../../src/index.js";
import { jobs, until } from "./helpers.js";

const pools: Executor[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.shutdown({ cancelFutures: true })));
});

type Crasher = (p: Executor) => ExecutorFuture<unknown>;

/**
 * Submits `n` good jobs with a crashing one in the middle of them, checks that only the crasher
 * fails (with a BrokenExecutorError matching `why`), and that the pool still serves.
 */
async function crashAmongOthers(p: Executor, crash: Crasher, why: RegExp, n = 20): Promise<void> {
  const before = Array.from({ length: n }, (_, i) => p.submit(jobs.fns.slowInc, i, 1));
  const bad = crash(p);
  const afterwards = Array.from({ length: n }, (_, i) => p.submit(jobs.fns.inc, 100 + i));
  const settled = await Promise.allSettled([...before, bad, ...afterwards]);
  const failed = settled.filter((s) => s.status === "rejected");
  assert.equal(failed.length, 1, `only the crasher fails; got ${failed.map((f) => String((f as PromiseRejectedResult).reason)).join(" | ")}`);
  const err = (settled[n] as PromiseRejectedResult).reason as unknown;
  assert.ok(err instanceof BrokenExecutorError, `got ${String(err)}`);
  assert.match(err.message, why);
  assert.match(err.message, new RegExp(`job #${bad.jobId} `), "the message names the job");
  for (let i = 0; i < n; i++) assert.deepEqual(settled[i], { status: "fulfilled", value: i + 1 });
  for (let i = 0; i < n; i++) assert.deepEqual(settled[n + 1 + i], { status: "fulfilled", value: 101 + i });
  assert.equal(await p.submit(jobs.fns.inc, 1), 2, "the pool keeps serving");
}

describe("thread workers", () => {
  const p = new ThreadPoolExecutor({ maxWorkers: 2, resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } });
  pools.push(p);

  test("an uncaught exception at the worker's top level (from a callback)", async () => {
    await crashAmongOthers(p, (q) => q.submit(jobs.fns.crashUncaught), /worker thread #\d+ crashed with an uncaught TypeError: boom at top level.*crashUncaught/);
  });

  test("process.exit() inside a job", async () => {
    await crashAmongOthers(p, (q) => q.submit(jobs.fns.exitNow, 3), /worker thread #\d+ exited with code 3 while running job #\d+ exitNow/);
  });

  test("running out of memory under resourceLimits", async () => {
    await crashAmongOthers(p, (q) => q.submit(jobs.fns.allocate), /ran out of memory.*allocate/);
  });

  test("the cause of the crash is attached", async () => {
    const fut = p.submit(jobs.fns.crashUncaught);
    await assert.rejects(fut, (e: unknown) => {
      assert.ok(e instanceof BrokenExecutorError);
      assert.ok(e.cause instanceof TypeError);
      assert.equal(e.cause.message, "boom at top level");
      return true;
    });
  });
});

describe("process workers", () => {
  const p = new ProcessPoolExecutor({ maxWorkers: 2, resourceLimits: { maxOldGenerationSizeMb: 48 } });
  pools.push(p);

  test("SIGKILL from outside while a job runs", async () => {
    await crashAmongOthers(
      p,
      (q) => {
        const fut = q.submit(jobs.fns.spin, 60_000);
        void until(() => fut.running(), 20_000, "the job to start").then(async () => {
          // The spinning process cannot tell its pid: read it from the pool's record of the worker.
          const pid = (fut as unknown as { _slot: { _child: { pid: number } } })._slot._child.pid;
          process.kill(pid, "SIGKILL");
        });
        return fut;
      },
      /process worker #\d+ \(pid \d+\) was killed by SIGKILL while running job #\d+ spin/,
    );
  });

  test("an uncaught exception at the worker's top level", async () => {
    await crashAmongOthers(p, (q) => q.submit(jobs.fns.crashUncaught), /crashed with an uncaught TypeError: boom at top level/, 6);
  });

  test("process.exit() inside a job", async () => {
    await crashAmongOthers(p, (q) => q.submit(jobs.fns.exitNow, 4), /exited with code 4/, 6);
  });

  test("running out of memory under resourceLimits", async () => {
    await crashAmongOthers(p, (q) => q.submit(jobs.fns.allocate), /process worker #\d+ .*(killed by SIG|exited with code)/, 6);
  });
});

test("a storm of crashes: 0 lost jobs, 0 hangs", async () => {
  const p = new ThreadPoolExecutor({ maxWorkers: 2 });
  pools.push(p);
  const futs: ExecutorFuture<unknown>[] = [];
  const crashers = new Set<number>();
  for (let i = 0; i < 60; i++) {
    if (i % 10 === 5) {
      crashers.add(i);
      futs.push(i % 20 === 5 ? p.submit(jobs.fns.exitNow, 9) : p.submit(jobs.fns.crashUncaught));
    } else futs.push(p.submit(jobs.fns.inc, i));
  }
  const settled = await Promise.allSettled(futs);
  settled.forEach((s, i) => {
    if (crashers.has(i)) assert.ok(s.status === "rejected" && s.reason instanceof BrokenExecutorError, `job ${i}: ${String((s as PromiseRejectedResult).reason)}`);
    else assert.deepEqual(s, { status: "fulfilled", value: i + 1 }, `job ${i}`);
  });
});
