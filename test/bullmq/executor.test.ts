/**
 * BullMQExecutor against one real `tsaio worker` process, started from a copy of the fixture module in
 * another directory: results, typed errors, naming, map, cancellation of waiting and running jobs,
 * per-job timeouts, retries, bad input. Needs Redis (skipped with one loud line without it; a failure
 * under CI=true).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { CancelledError, InvalidStateError, sleep, taskGroup, timeout, TimeoutError, workerModule } from "../../src/index.js";
import { BullMQExecutor, BullMQFuture, remoteModule } from "../../src/bullmq/index.js";
import { redisKeys, redisProblem, redisUrl, requireRedis } from "../support/redis.js";
import { bullPrefix, copyFixture, root, startWorker, until, type WorkerProcess } from "./helpers.js";

type Jobs = typeof import("./fixtures/jobs.js");
const problem = await redisProblem();

test("Redis for the BullMQ tests", async (t) => {
  await requireRedis(t);
});

describe("BullMQExecutor with a worker process", { skip: problem }, () => {
  const keys = redisKeys(after);
  const prefix = bullPrefix(keys.prefix);
  const queue = "exec";
  const fixture = copyFixture();
  let worker: WorkerProcess;
  let pool: BullMQExecutor;
  // The caller's handle names the fixture *here*; the worker runs its copy elsewhere: only "jobs" travels.
  const jobs = workerModule<Jobs>(new URL("./fixtures/jobs.js", import.meta.url));

  before(async () => {
    worker = await startWorker([fixture.path, "--queue", queue, "--prefix", prefix, "--connection", redisUrl(), "--concurrency", "4", "--workers", "2", "--cancel-grace", "300", "--progress", "1000", "--name", "w1"], fixture.dir);
    pool = new BullMQExecutor({ queue, prefix, connection: redisUrl() });
  });
  after(async () => {
    await pool?.shutdown({ cancelFutures: true });
    assert.equal(await worker?.stop(), 0, worker?.output());
    fixture.cleanup();
  });

  test("submit: the result, typed; where it ran and in how many runs", async () => {
    const fut = pool.submit(jobs.fns.add, 2, 40);
    assert.ok(fut instanceof BullMQFuture);
    const n: number = await fut;
    assert.equal(n, 42);
    assert.equal(fut.attempts, 1);
    assert.equal(fut.worker, `${(await import("node:os")).hostname()}:${worker.pid}/w1`);
    assert.match(inspect(fut), /<BullMQFuture finished result=42 job=\S+ add attempts=1 worker=/);
    const v = await pool.submit(jobs.fns.echo, { m: new Map([[1, 2n]]), d: new Date(5), u: new Uint8Array([1, 2]) });
    assert.deepEqual(v, { m: new Map([[1, 2n]]), d: new Date(5), u: new Uint8Array([1, 2]) });
  });

  test("an error keeps its name, message, stack and properties from the worker", async () => {
    const err = await pool.submit(jobs.fns.fail, "no thumbnail").then(
      () => assert.fail("resolved"),
      (e: unknown) => e as Error & { code?: string },
    );
    assert.equal(err.name, "ThumbError");
    assert.equal(err.message, "no thumbnail");
    assert.equal(err.code, "E_THUMB");
    assert.match(err.stack ?? "", /at fail \(.*tsaio-bullmq-worker-.*jobs\.ts/); // the worker's copy, not this file
  });

  test("map: results in input order, chunked", async () => {
    const out: number[] = [];
    for await (const x of pool.map(jobs.fns.square, [1, 2, 3, 4, 5, 6, 7], { chunksize: 3 })) out.push(x);
    assert.deepEqual(out, [1, 4, 9, 16, 25, 36, 49]);
  });

  test("naming: by the file's base name, by the modules option, by remoteModule; never by URL", async () => {
    const elsewhere = workerModule<Jobs>("/nowhere/on/this/machine/thumbs.js");
    const named = new BullMQExecutor({ queue, prefix, connection: redisUrl(), modules: { jobs: elsewhere } });
    try {
      assert.equal(await named.submit(elsewhere.fns.add, 1, 2), 3);
      assert.equal(await named.submit(remoteModule<Jobs>("jobs").fns.add, 3, 4), 7);
      assert.equal(remoteModule("my-pkg/thumbs").url, "tsaio-worker:my-pkg%2Fthumbs");
      assert.throws(() => remoteModule(""), TypeError);
      // Without the mapping, "thumbs" is its name, which no worker runs: a clear error.
      await assert.rejects(pool.submit(elsewhere.fns.add, 1, 2), /no module named "thumbs" here \(this worker runs: jobs\)/);
      const job = await named._queue.getJob((named.submit(elsewhere.fns.pid) as BullMQFuture<number>).queueJobId).catch(() => undefined);
      void job;
    } finally {
      await named.shutdown();
    }
    // What a job carries: the module's name and the export, no path.
    const fut = pool.submit(jobs.fns.add, 5, 5);
    await sleep(0);
    await until(async () => (await pool._queue.getJob(fut.queueJobId)) !== undefined || fut.done(), 5_000, "the job in Redis");
    const raw = JSON.stringify((await pool._queue.getJob(fut.queueJobId))?.data ?? {});
    assert.ok(!raw.includes("fixtures") && !raw.includes("file:"), raw);
    assert.equal(await fut, 10);
  });

  test("a function sent by source is refused with a TypeError; so is a module the executor cannot name", () => {
    assert.throws(() => pool.submit((a: number) => a + 1, 1), (e: unknown) => e instanceof TypeError && /sent by source/.test(e.message));
    assert.throws(() => pool.submit(workerModule<Jobs>("https://example.com/jobs.js").fns.add, 1, 2), (e: unknown) => e instanceof TypeError && /cannot name module/.test(e.message));
    assert.throws(() => pool.map((x: number) => x, [1]), TypeError);
  });

  test("an export the module lacks fails with the module's exports listed", async () => {
    const bad = remoteModule<{ nope(): void }>("jobs");
    await assert.rejects(pool.submit(bad.fns.nope), /nope/);
  });

  test("bad options: TypeError/RangeError naming the argument", () => {
    const mk = (o: unknown) => () => new BullMQExecutor(o as never);
    assert.throws(mk(undefined), /`options` must be an object/);
    assert.throws(mk({}), (e: unknown) => e instanceof TypeError && /`queue`/.test(e.message));
    assert.throws(mk({ queue: "a:b" }), RangeError);
    assert.throws(mk({ queue: "q", attempts: 0 }), (e: unknown) => e instanceof RangeError && /`attempts`/.test(e.message));
    assert.throws(mk({ queue: "q", backoff: { type: "linear", delay: 1 } }), /backoff.type/);
    assert.throws(mk({ queue: "q", connectTimeout: -1 }), /connectTimeout/);
    assert.throws(mk({ queue: "q", connection: 5 }), /connection/);
    assert.throws(() => pool.submitWith({ priority: -1 }, jobs.fns.add, 1, 2), /priority/);
    assert.throws(() => pool.submitWith({ timeout: "1s" as never }, jobs.fns.add, 1, 2), /timeout/);
    assert.throws(() => pool.submitWith(null as never, jobs.fns.add, 1, 2), /options/);
    assert.throws(() => pool.submitWith({ signal: {} as never }, jobs.fns.add, 1, 2), /signal/);
    assert.throws(() => pool.submit(42 as never), TypeError);
  });

  test("an argument that cannot be serialized fails the future", async () => {
    await assert.rejects(pool.submit(jobs.fns.echo, Symbol("x") as never), TypeError);
  });

  test("cancelling a running job cancels its task on the worker, and it is not retried", async () => {
    const file = join(fixture.dir, `told-${Date.now()}`);
    const fut = pool.submitWith({ attempts: 3 }, jobs.fns.napAndTell, 30_000, file);
    await until(async () => (await pool._queue.getJobState(fut.queueJobId)) === "active", 10_000, "the job to start");
    await sleep(100);
    assert.equal(fut.cancel("no longer needed"), true);
    await assert.rejects(fut, CancelledError);
    await fut.stopped();
    await until(() => existsSync(file), 5_000, "the worker task's cancellation");
    assert.equal(readFileSync(file, "utf8"), "cancelled: CancelledError aborted=true");
    await until(async () => (await pool._queue.getJobState(fut.queueJobId)) === "failed", 5_000, "the job to fail");
    const job = await pool._queue.getJob(fut.queueJobId);
    assert.equal(job?.attemptsStarted, 1, "never retried");
    assert.match(job?.failedReason ?? "", /cancelled/);
  });

  test("a running job that ignores its cancellation is killed after the grace period; the worker goes on", async () => {
    const fut = pool.submit(jobs.fns.spin, 60_000);
    await until(async () => (await pool._queue.getJobState(fut.queueJobId)) === "active", 10_000, "the job to start");
    const t0 = Date.now();
    fut.cancel();
    await fut.stopped(); // the worker reports it once its thread was killed, after --cancel-grace 300
    assert.ok(Date.now() - t0 >= 250, `stopped after ${Date.now() - t0} ms`);
    assert.ok(Date.now() - t0 < 20_000);
    assert.equal(await pool.submit(jobs.fns.add, 1, 1), 2);
  });

  test("timeout(), a failing task group and a signal stop a job that waits: it is removed from the queue", async () => {
    const idle = new BullMQExecutor({ queue: "nobody-serves-this", prefix, connection: redisUrl() });
    try {
      const futs: BullMQFuture<unknown>[] = [];
      await assert.rejects(
        timeout(300, async () => {
          const f = idle.submit(jobs.fns.add, 1, 2);
          futs.push(f);
          return f;
        }),
        TimeoutError,
      );
      await assert.rejects(
        taskGroup(async (tg) => {
          const f = idle.submit(jobs.fns.add, 1, 2);
          futs.push(f);
          void tg.createTask(async () => await f);
          await sleep(100);
          throw new Error("boom");
        }),
        (e: unknown) => e instanceof Error && /boom/.test(String((e as AggregateError).errors?.[0])),
      );
      const ac = new AbortController();
      const f3 = idle.submitWith({ signal: ac.signal }, jobs.fns.add, 1, 2);
      futs.push(f3);
      await sleep(100);
      ac.abort(new Error("user left"));
      await assert.rejects(f3, (e: unknown) => e instanceof CancelledError && /user left/.test(e.message));
      for (const f of futs) {
        assert.ok(f.cancelled());
        await f.stopped();
        assert.equal(await idle._queue.getJob(f.queueJobId), undefined, "removed");
      }
      assert.match(inspect(idle), /<BullMQExecutor queue=nobody-serves-this out=0/);
      const aborted = new AbortController();
      aborted.abort();
      assert.ok(idle.submitWith({ signal: aborted.signal }, jobs.fns.add, 1, 2).cancelled());
    } finally {
      await idle.shutdown();
    }
    assert.throws(() => idle.submit(jobs.fns.add, 1, 2), InvalidStateError);
    assert.match(inspect(idle), /closed/);
  });

  test("a per-job timeout counts from the job's start on its worker", async () => {
    await assert.rejects(pool.submitWith({ timeout: 300 }, jobs.fns.nap, 30_000), TimeoutError);
  });

  test("property: random cancellations of waiting and running jobs; each future settles once, nothing is left out", async () => {
    const runs = Number(process.env.FUZZ_RUNS ?? 4);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ nap: fc.integer({ min: 0, max: 150 }), cancelAt: fc.option(fc.integer({ min: 0, max: 250 }), { nil: null }) }), { minLength: 1, maxLength: 8 }), async (plan) => {
        const futs = plan.map((p) => pool.submit(jobs.fns.nap, p.nap));
        const cancelled = new Set<number>();
        await Promise.all(
          plan.map(async (p, i) => {
            if (p.cancelAt === null) return;
            await new Promise((r) => setTimeout(r, p.cancelAt as number));
            if (futs[i].cancel("property")) cancelled.add(i);
          }),
        );
        await Promise.all(futs.map((f) => f.stopped()));
        for (const [i, f] of futs.entries()) {
          assert.ok(f.done());
          if (cancelled.has(i)) assert.ok(f.cancelled());
          else assert.equal(f.result(), "rested");
          const state = await pool._queue.getJobState(f.queueJobId);
          assert.ok(state !== "waiting" && state !== "active" && state !== "delayed" && state !== "prioritized", `job ${i} left ${state}`);
        }
        assert.equal(pool._pending.size, 0);
      }),
      { numRuns: runs },
    );
  });

  test("attempts: a failing job is retried; the future settles once with the run that succeeded", async () => {
    const file = join(fixture.dir, `flaky-${Date.now()}`);
    const fut = pool.submitWith({ attempts: 3 }, jobs.fns.flaky, file, 2);
    assert.equal(await fut, 3);
    assert.equal(fut.attempts, 3);
    await assert.rejects(pool.submitWith({ attempts: 2 }, jobs.fns.flaky, `${file}-b`, 5), /flaky run 2/);
  });
});

test('import "tsaio" loads neither bullmq nor ioredis; tsaio/bullmq does', () => {
  const probe = (what: string): string =>
    execFileSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", `import { createRequire } from "node:module"; await import(${JSON.stringify(what)}); const c = createRequire(import.meta.url).cache; console.log(Object.keys(c).some((k) => k.includes("/node_modules/ioredis/")) ? "loaded" : "none");`],
      { cwd: root, encoding: "utf8" },
    ).trim();
  assert.equal(probe("./src/index.ts"), "none");
  assert.equal(probe("./src/bullmq/index.ts"), "loaded");
});
