import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BrokenExecutorError, CancelledError, createTask, ThreadPoolExecutor, ProcessPoolExecutor, timeout, TimeoutError } from "../../src/index.js";
import { jobs, pause, poolsShutDownAfter, until } from "./helpers.js";

const pool = poolsShutDownAfter();

describe("cancellation (threads)", () => {
  const p = pool(new ThreadPoolExecutor({ maxWorkers: 1, cancelGracePeriod: 300 }));

  test("cancelling a queued job removes it at once; it never runs", async () => {
    const blocker = p.submit(jobs.fns.spin, 300);
    const queued = p.submit((tag: string) => {
      (globalThis as { ran?: string[] }).ran = [...((globalThis as { ran?: string[] }).ran ?? []), tag];
      return tag;
    }, "q");
    await pause(20);
    assert.equal(queued.cancel("not needed"), true);
    assert.ok(queued.cancelled());
    await queued.stopped();
    await blocker;
    const ran = await p.submit(() => (globalThis as { ran?: string[] }).ran ?? []);
    assert.deepEqual(ran, []);
  });

  test("cancelling a running job aborts its worker-side signal; the worker survives", async () => {
    const tid = await p.submit(jobs.fns.threadId);
    const fut = p.submit(jobs.fns.pollSignal);
    await until(() => fut.running(), 10_000, "the job to start");
    fut.cancel("stop polling");
    assert.ok(fut.cancelled());
    await fut.stopped();
    assert.equal(await p.submit(jobs.fns.threadId), tid, "same worker");
  });

  test("a job that ignores cancellation is terminated after the grace period; the job behind it still runs", async () => {
    const tid = await p.submit(jobs.fns.threadId);
    const spinning = p.submit(jobs.fns.spin, 60_000);
    const behind = p.submit(jobs.fns.inc, 1); // pipelined to the same (only) worker
    await until(() => spinning.running(), 10_000, "the job to start");
    const t0 = performance.now();
    spinning.cancel();
    await spinning.stopped();
    assert.ok(performance.now() - t0 >= 250, "waited for the grace period");
    assert.equal(await behind, 2);
    assert.notEqual(await p.submit(jobs.fns.threadId), tid, "replaced worker");
  });

  test("a job that swallows CancelledError is terminated after the grace period", async () => {
    const fut = p.submit(jobs.fns.stubborn, 60_000);
    await until(() => fut.running(), 10_000, "the job to start");
    fut.cancel();
    await fut.stopped();
    assert.equal(await p.submit(jobs.fns.inc, 2), 3);
  });

  test("cancel({ force: true }) terminates at once", async () => {
    const fut = p.submit(jobs.fns.spin, 60_000);
    await until(() => fut.running(), 10_000, "the job to start");
    const t0 = performance.now();
    fut.cancel("now", { force: true });
    await fut.stopped();
    assert.ok(performance.now() - t0 < 5_000);
    await assert.rejects(fut, (e: unknown) => e instanceof CancelledError && e.message === "now");
    assert.equal(await p.submit(jobs.fns.inc, 3), 4);
  });

  test("a signal given to submitWith cancels the job", async () => {
    const ac = new AbortController();
    const fut = p.submitWith({ signal: ac.signal }, jobs.fns.waitForever);
    await until(() => fut.running(), 10_000, "the job to start");
    ac.abort();
    await assert.rejects(fut, CancelledError);
    await fut.stopped();
    const pre = AbortSignal.abort("already");
    await assert.rejects(p.submitWith({ signal: pre }, jobs.fns.inc, 1), CancelledError);
  });

  test("tsaio timeout() around an executor future cancels the job in the worker", async () => {
    let fut: ReturnType<typeof p.submit<[], never>> | undefined;
    await assert.rejects(
      timeout(100, async () => {
        fut = p.submit(jobs.fns.waitForever);
        await fut;
      }),
      TimeoutError,
    );
    assert.ok(fut?.cancelled());
    await fut?.stopped();
  });

  test("cancelling a task awaiting a job whose worker-side code observes the signal", async () => {
    const fut = p.submit(jobs.fns.pollSignal);
    const t = createTask(() => fut);
    await until(() => fut.running(), 10_000, "the job to start");
    t.cancel();
    await assert.rejects(t, CancelledError);
    await fut.stopped();
  });
});

describe("per-job timeout", () => {
  const p = pool(new ThreadPoolExecutor({ maxWorkers: 1, cancelGracePeriod: 200 }));

  test("counts from when the job starts, not from when it was queued", async () => {
    const blocker = p.submit(jobs.fns.spin, 400);
    const timed = p.submitWith({ timeout: 300 }, jobs.fns.spin, 30); // queued ~400 ms, runs 30 ms
    assert.equal(typeof (await timed), "number");
    await blocker;
  });

  test("a job running past its timeout fails with TimeoutError and its worker is replaced", async () => {
    const tid = await p.submit(jobs.fns.threadId);
    const fut = p.submitWith({ timeout: 100 }, jobs.fns.spin, 60_000);
    await assert.rejects(fut, (e: unknown) => e instanceof TimeoutError && /timed out after 100 ms/.test(e.message));
    await fut.stopped();
    assert.notEqual(await p.submit(jobs.fns.threadId), tid);
  });

  test("a cooperative job past its timeout stops without losing its worker", async () => {
    const tid = await p.submit(jobs.fns.threadId);
    const fut = p.submitWith({ timeout: 50 }, jobs.fns.waitForever);
    await assert.rejects(fut, TimeoutError);
    await fut.stopped();
    assert.equal(await p.submit(jobs.fns.threadId), tid);
  });

  test("the executor's default timeout applies to every job; null disables it per job", async () => {
    const q = pool(new ThreadPoolExecutor({ maxWorkers: 1, timeout: 50, cancelGracePeriod: 100 }));
    await assert.rejects(q.submit(jobs.fns.waitForever), TimeoutError);
    assert.equal(await q.submitWith({ timeout: null }, jobs.fns.slowInc, 1, 100), 2);
  });
});

describe("cancellation (processes)", () => {
  const p = pool(new ProcessPoolExecutor({ maxWorkers: 1, cancelGracePeriod: 200 }));

  test("cooperative cancel keeps the process; a stuck job's process is killed and replaced", async () => {
    const pid = await p.submit(jobs.fns.pid);
    const polite = p.submit(jobs.fns.pollSignal);
    await until(() => polite.running(), 10_000, "the job to start");
    polite.cancel();
    await polite.stopped();
    assert.equal(await p.submit(jobs.fns.pid), pid);
    const stuck = p.submit(jobs.fns.spin, 60_000);
    const behind = p.submit(jobs.fns.inc, 5);
    await until(() => stuck.running(), 10_000, "the job to start");
    stuck.cancel();
    await stuck.stopped();
    assert.equal(await behind, 6);
    assert.notEqual(await p.submit(jobs.fns.pid), pid);
  });

  test("timeout on a process job", async () => {
    await assert.rejects(p.submitWith({ timeout: 100 }, jobs.fns.spin, 60_000), TimeoutError);
    assert.equal(await p.submit(jobs.fns.inc, 1), 2);
  });
});

test("a job's future is never settled twice, whatever ends it", async () => {
  const p = pool(new ThreadPoolExecutor({ maxWorkers: 1, cancelGracePeriod: 100 }));
  const futs = [
    p.submit(jobs.fns.inc, 1),
    p.submitWith({ timeout: 30 }, jobs.fns.spin, 10_000),
    p.submit(jobs.fns.waitForever),
    p.submit(jobs.fns.fail, "x"),
    p.submit(jobs.fns.spin, 10_000),
  ];
  const calls = futs.map(() => 0);
  futs.forEach((f, i) => f.addDoneCallback(() => calls[i]++));
  await until(() => futs[2].running(), 10_000, "job 3 to start");
  futs[2].cancel();
  await until(() => futs[4].running(), 10_000, "job 5 to start");
  futs[4].cancel("x", { force: true });
  await Promise.allSettled(futs);
  await Promise.all(futs.map((f) => f.stopped()));
  await pause(50);
  assert.deepEqual(calls, [1, 1, 1, 1, 1]);
  assert.equal(futs[0].result(), 2);
  assert.ok(futs[1].exception() instanceof TimeoutError);
  assert.ok(futs[2].cancelled() && futs[4].cancelled());
  assert.ok(!(futs[3].exception() instanceof BrokenExecutorError));
});
