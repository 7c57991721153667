/**
 * W12 — BullMQExecutor (issue 16) against BullMQ used directly, on the same Redis, side by side:
 * W12a 10,000 trivial jobs added at once, 2 worker processes × concurrency 50 each side (tsaio:
 * `tsaio worker`; plain: a BullMQ `Worker` whose processor adds two numbers), until every result is
 * back (tsaio: the futures; plain: `completed` events of a `QueueEvents` whose stream is made long
 * enough to lose none); W12b one job's sequential round trip (plain: `queue.add` +
 * `job.waitUntilFinished(queueEvents)`).
 *
 * The measuring parts are exported for bench/bullmq.ts (the standalone run with its table and
 * results file). Worker processes are started once per side and shared by the rounds; each side has
 * its own queue under a prefix that is obliterated at the end.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents, Worker } from "bullmq";
import { gather, workerModule } from "../../src/index.js";
import { BullMQExecutor } from "../../src/bullmq/index.js";
import type { Sample } from "../tools/lib.js";
import type { CaseDef, Workload } from "./model.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const FIXTURE = join(root, "test/bullmq/fixtures/jobs.ts");
const jobs = workerModule<typeof import("../../test/bullmq/fixtures/jobs.js")>(new URL("../../test/bullmq/fixtures/jobs.js", import.meta.url));

export const JOBS = 10_000;
export const WORKER_PROCESSES = 2;
export const CONCURRENCY = 50;
export const ROUND_TRIPS = 200;

export function redisUrl(): string {
  const u = process.env.REDIS_URL;
  return u === undefined || u === "" ? "redis://127.0.0.1:6379" : u;
}

/** Both sides' workers and clients, started once. */
export interface Fleet {
  prefix: string;
  pool: BullMQExecutor;
  queue: Queue;
  events: QueueEvents;
  children: ChildProcess[];
  close(): Promise<void>;
}

function started(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const on = (d: Buffer): void => {
      out += d.toString();
      if (out.includes(marker)) {
        child.stdout?.off("data", on);
        resolve();
      }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", (d: Buffer) => process.stderr.write(d));
    child.once("exit", (c) => reject(new Error(`bench worker exited (${c}) before it was ready:\n${out}`)));
  });
}

/** The plain side's worker process (bench/bullmq.ts --plain-worker). */
export async function plainWorkerMain(queue: string, prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const w = new Worker(queue, async (job) => (job.data as { a: number; b: number }).a + (job.data as { a: number; b: number }).b, { connection, prefix, concurrency: CONCURRENCY });
  await w.waitUntilReady();
  process.stdout.write("plain worker ready\n");
  process.on("SIGTERM", () => void w.close().then(() => connection.disconnect()));
}

export async function startFleet(): Promise<Fleet> {
  const prefix = `tsaio-bench-${process.pid}`;
  const tsx = import.meta.resolve("tsx");
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < WORKER_PROCESSES; i++) {
    const t = spawn(process.execPath, ["--import", tsx, join(root, "src/cli.ts"), "worker", FIXTURE, "--queue", "tsaio", "--prefix", prefix, "--connection", redisUrl(), "--concurrency", String(CONCURRENCY), "--progress", "1000000000"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const p = spawn(process.execPath, ["--import", tsx, join(root, "bench/bullmq.ts"), "--plain-worker", "plain", prefix], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    children.push(t, p);
    ready.push(started(t, "serving queue"), started(p, "plain worker ready"));
  }
  await Promise.all(ready);
  const { Redis } = await import("ioredis");
  const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const queue = new Queue("plain", { connection, prefix, streams: { events: { maxLen: 10 * JOBS } } });
  const events = new QueueEvents("plain", { connection: { url: redisUrl() } as never, prefix });
  await events.waitUntilReady();
  const pool = new BullMQExecutor({ queue: "tsaio", prefix, connection: redisUrl() });
  // Warm both: every worker thread loaded, every connection open.
  await gather(Array.from({ length: 200 }, (_, i) => pool.submit(jobs.fns.add, i, 1)));
  await plainBurst({ queue, events } as Fleet, 200);
  return {
    prefix,
    pool,
    queue,
    events,
    children,
    async close() {
      await pool.shutdown({ cancelFutures: true });
      for (const c of children) c.kill("SIGTERM");
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
      const cleanup = new BullMQExecutor({ queue: "tsaio", prefix, connection: redisUrl() });
      await cleanup._queue.obliterate({ force: true });
      await cleanup.shutdown();
      await queue.obliterate({ force: true });
      await events.close();
      await queue.close();
      connection.disconnect();
    },
  };
}

/** W12a tsaio: `n` jobs submitted at once, until every future is done: ms. */
export async function tsaioBurst(f: Fleet, n = JOBS): Promise<Sample> {
  const t0 = performance.now();
  const out = await gather(Array.from({ length: n }, (_, i) => f.pool.submit(jobs.fns.add, i, 1)));
  const ms = performance.now() - t0;
  if (out.length !== n || out[n - 1] !== n) throw new Error("W12a tsaio: wrong results");
  return { ms };
}

/** W12a plain: addBulk of `n` jobs, until `n` completed events arrived: ms. */
export async function plainBurst(f: Pick<Fleet, "queue" | "events">, n = JOBS): Promise<Sample> {
  const t0 = performance.now();
  let left = n;
  const done = new Promise<void>((resolve) => {
    const on = (): void => {
      if (--left === 0) {
        f.events.off("completed", on);
        resolve();
      }
    };
    f.events.on("completed", on);
  });
  const tag = Math.random().toString(36).slice(2);
  await f.queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: "add", data: { a: i, b: 1 }, opts: { jobId: `${tag}-${i}` } })));
  await done;
  return { ms: performance.now() - t0 };
}

/** W12b tsaio: µs per sequential round trip. */
export async function tsaioRoundTrip(f: Fleet, n = ROUND_TRIPS): Promise<Sample> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if ((await f.pool.submit(jobs.fns.add, i, 1)) !== i + 1) throw new Error("W12b tsaio: wrong result");
  return { us: ((performance.now() - t0) * 1000) / n };
}

/** W12b plain: add + waitUntilFinished, µs per sequential round trip. */
export async function plainRoundTrip(f: Fleet, n = ROUND_TRIPS): Promise<Sample> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const job = await f.queue.add("add", { a: i, b: 1 });
    if ((await job.waitUntilFinished(f.events, 30_000)) !== i + 1) throw new Error("W12b plain: wrong result");
  }
  return { us: ((performance.now() - t0) * 1000) / n };
}

let fleet: Fleet | null = null;

export const w12: Workload = {
  id: "W12",
  title: "BullMQExecutor vs BullMQ used directly",
  description:
    `W12a: ${JOBS.toLocaleString("en")} trivial jobs added at once, ${WORKER_PROCESSES} worker processes × concurrency ${CONCURRENCY} per side, until every result is back; ` +
    "tsaio's futures against a plain BullMQ Queue + Worker + QueueEvents (its events stream made long enough to lose nothing). " +
    `W12b: one job's sequential round trip (${ROUND_TRIPS} in a row), against queue.add + job.waitUntilFinished. Needs Redis at REDIS_URL.`,
  async cases(): Promise<CaseDef[]> {
    fleet = await startFleet();
    const f = fleet;
    return [
      {
        id: "W12a",
        workload: "W12",
        title: `${JOBS.toLocaleString("en")} trivial jobs, ${WORKER_PROCESSES} workers × ${CONCURRENCY}`,
        metric: "ms",
        unit: "ms",
        floor: "BullMQ Queue+Worker+QueueEvents",
        sides: [
          { name: "BullMQ Queue+Worker+QueueEvents", kind: "floor", run: () => plainBurst(f) },
          { name: "tsaio BullMQExecutor", kind: "tsaio", run: () => tsaioBurst(f) },
        ],
        goals: [{ text: "≥ 0.8× plain BullMQ's throughput (≤ 1.25× its time)", kind: "within", k: 1.25, ref: "BullMQ Queue+Worker+QueueEvents" }],
        runs: 5,
        warmup: 1,
      },
      {
        id: "W12b",
        workload: "W12",
        title: "one job's sequential round trip",
        metric: "us",
        unit: "µs",
        floor: "BullMQ add+waitUntilFinished",
        sides: [
          { name: "BullMQ add+waitUntilFinished", kind: "floor", run: () => plainRoundTrip(f) },
          { name: "tsaio BullMQExecutor", kind: "tsaio", run: () => tsaioRoundTrip(f) },
        ],
        goals: [{ text: "≤ 1.25× plain BullMQ's round trip", kind: "within", k: 1.25, ref: "BullMQ add+waitUntilFinished" }],
        runs: 5,
        warmup: 1,
      },
    ];
  },
  async teardown() {
    await fleet?.close();
    fleet = null;
  },
};
