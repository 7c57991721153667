/**
 * Redis going away under a BullMQExecutor, through a TCP proxy the test controls (the machine's Redis
 * is shared and never stopped): every call and every job out fails with a clear error after
 * `connectTimeout`, none hangs, and the executor works again once Redis is back. The worker here is
 * the function form, `runWorker`, in this process, connected to Redis directly.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { remoteModule, BullMQConnectionError, BullMQExecutor, runWorker, type WorkerStats } from "../../src/bullmq/index.js";
import type { Future } from "../../src/index.js";
import { redisKeys, redisProblem, redisUrl, requireRedis } from "../support/redis.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { bullPrefix } from "./helpers.js";

type Jobs = typeof import("./fixtures/jobs.js");
const problem = await redisProblem();
const jobs = remoteModule<Jobs>("jobs");

test("Redis for the BullMQ outage tests", async (t) => {
  await requireRedis(t);
});

describe("Redis going away", { skip: problem }, () => {
  const keys = redisKeys(after);
  const prefix = bullPrefix(keys.prefix);
  const queue = "outage";
  let proxy: TcpProxy;
  let pool: BullMQExecutor;
  const stop = new AbortController();
  let worker: Future<WorkerStats>;
  const lines: string[] = [];

  before(async () => {
    proxy = await TcpProxy.start({ host: new URL(redisUrl()).hostname, port: Number(new URL(redisUrl()).port || 6379) });
    pool = new BullMQExecutor({ queue, prefix, connection: proxy.urlFor(redisUrl()), connectTimeout: 1_000 });
    worker = runWorker({
      modules: { jobs: fileURLToPath(new URL("./fixtures/jobs.ts", import.meta.url)) },
      queue, prefix, connection: redisUrl(), concurrency: 4, maxWorkers: 1, signal: stop.signal, progressEvery: 1, log: (l) => lines.push(l),
    });
  });
  after(async () => {
    stop.abort();
    const stats = await worker;
    assert.ok(stats.completed >= 2, inspect(stats));
    assert.ok(lines.some((l) => /serving queue outage \(modules: jobs/.test(l)), lines.join("\n"));
    await pool?.shutdown({ cancelFutures: true });
    await proxy?.close();
  });

  const timed = async (p: PromiseLike<unknown>): Promise<{ error: unknown; ms: number }> => {
    const t0 = performance.now();
    try {
      await p;
      return { error: null, ms: performance.now() - t0 };
    } catch (e) {
      return { error: e, ms: performance.now() - t0 };
    }
  };

  test("shutdown({ cancelFutures }) while Redis is away ends within connectTimeout and a few checks", async () => {
    const other = new BullMQExecutor({ queue, prefix, connection: proxy.urlFor(redisUrl()), connectTimeout: 1_000, _checkInterval: 300 });
    // Its stop cannot reach the worker (Redis is away, then the executor is closed): it naps to its end there.
    const out = other.submit(jobs.fns.nap, 1_500);
    await new Promise((r) => setTimeout(r, 300));
    proxy.cut();
    try {
      const t0 = performance.now();
      await other.shutdown({ cancelFutures: true });
      const ms = performance.now() - t0;
      assert.ok(out.cancelled());
      assert.ok(ms < 10_000, `shutdown took ${ms} ms`);
      assert.match(inspect(other), /closed/);
    } finally {
      proxy.restore();
    }
  });

  for (const mode of ["refuse", "blackhole"] as const) {
    test(`${mode}: calls and jobs out fail after connectTimeout; back to work once Redis is back`, async () => {
      assert.equal(await pool.submit(jobs.fns.add, 1, 1), 2);
      const out = pool.submit(jobs.fns.nap, 60_000); // out on the worker when Redis goes away
      await new Promise((r) => setTimeout(r, 300));
      proxy.cut({ mode });
      const call = await timed(pool.submit(jobs.fns.add, 2, 2));
      assert.ok(call.error instanceof BullMQConnectionError, String(call.error));
      assert.match((call.error as Error).message, /BullMQExecutor\.(submit|job): Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer within 1000 ms/);
      assert.ok(call.ms >= 900 && call.ms < 10_000, `failed after ${call.ms} ms`);
      const job = await timed(out);
      assert.ok(job.error instanceof BullMQConnectionError, String(job.error));
      proxy.restore();
      // Back: the executor reconnects by itself.
      const again = await timed(pool.submit(jobs.fns.add, 3, 4));
      assert.equal(again.error, null, String(again.error));
      assert.match(inspect(pool), /<BullMQExecutor queue=outage out=0 /);
    });
  }
});
