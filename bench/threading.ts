/**
 * tsaio/threading (issue 14) — the measured floors, each on warm workers of one ThreadPoolExecutor:
 * - the uncontended fast path: `acquireSync()` + `release()` in a worker against a bare
 *   `Atomics.compareExchange` + `Atomics.store` pair (target ≤ 2×), best of 5 rounds of 1,000,000;
 * - 4 workers × 100,000 increments of one `Value` under its `Lock` (`acquireSync`/`release`), started
 *   together at a `Barrier`: the total must be exact; median of 5 runs (CPython's
 *   `multiprocessing.Value` + `get_lock()` across 4 processes is the baseline, ≥ 3× wanted);
 * - the same with `await lock.acquire()` in 2 workers and the main thread (async path, FIFO hand-offs);
 * - one producer thread → one consumer thread moving `{ id: i, name: "item-" + i }` through a
 *   `Queue` (blocking put/get) against a `MessagePort` (THREADING_QUEUE_ITEMS, default 200,000).
 *
 * Run: `node --import tsx bench/threading.ts` (prints a table; `--json` prints JSON).
 * @module
 */
import { loadavg } from "node:os";
import { ThreadPoolExecutor, workerModule } from "../src/index.js";
import { MessageChannel } from "node:worker_threads";
import { transfer } from "../src/index.js";
import { Barrier, Queue, SharedArray, Value } from "../src/threading/index.js";

const jobs = workerModule<typeof import("../test/threading/fixtures/jobs.js")>(new URL("../test/threading/fixtures/jobs.js", import.meta.url));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 4, prestart: true });
  // Warm every worker (module load, JIT).
  await Promise.all([0, 1, 2, 3].map(() => pool.submit(jobs.fns.fastPath, 10_000)));

  const fast = await pool.submit(jobs.fns.fastPath, 1_000_000);

  const N = 100_000;
  const runs: number[] = [];
  for (let r = 0; r < 6; r++) {
    const v = new Value("i32", 0);
    const start = new Barrier(4);
    const t0 = performance.now();
    await Promise.all([0, 1, 2, 3].map(() => pool.submit(jobs.fns.increment, v, N, start)));
    const ms = performance.now() - t0;
    if (v.value !== 4 * N) throw new Error(`lost updates: ${v.value} != ${4 * N}`);
    if (r > 0) runs.push(ms);
  }

  const M = 20_000;
  const asyncRuns: number[] = [];
  for (let r = 0; r < 3; r++) {
    const a = new SharedArray("i32", 1);
    const lock = a.getLock();
    const t0 = performance.now();
    const mainSide = (async () => {
      for (let i = 0; i < M; i++) {
        await lock.acquire();
        a.array[0] += 1;
        lock.release();
      }
    })();
    await Promise.all([pool.submit(jobs.fns.incrementAsync, a, M), pool.submit(jobs.fns.incrementAsync, a, M), mainSide]);
    if (a.array[0] !== 3 * M) throw new Error(`lost updates (async): ${a.array[0]}`);
    asyncRuns.push(performance.now() - t0);
  }

  // One producer thread → one consumer thread: Queue against a MessagePort, same items.
  const Q = Number(process.env.THREADING_QUEUE_ITEMS ?? 200_000);
  const queueRuns: number[] = [];
  const portRuns: number[] = [];
  for (let r = 0; r < 3; r++) {
    const q = new Queue<{ id: number; name: string } | null>(10_000, { bufferSize: 4 << 20 });
    let t0 = performance.now();
    const [[got]] = await Promise.all([pool.submit(jobs.fns.consumeAll, q), pool.submit(jobs.fns.produce, q, Q)]);
    if (got !== Q) throw new Error(`queue lost items: ${got}`);
    queueRuns.push(performance.now() - t0);
    const { port1, port2 } = new MessageChannel();
    t0 = performance.now();
    const [n] = await Promise.all([pool.submit(jobs.fns.consumePort, transfer(port2, [port2])), pool.submit(jobs.fns.producePort, transfer(port1, [port1]), Q)]);
    if (n !== Q) throw new Error(`port lost items: ${n}`);
    portRuns.push(performance.now() - t0);
  }

  const out = {
    node: process.version,
    loadavg: loadavg()[0],
    fastPathNsPerPair: fast.lock,
    bareNsPerPair: fast.bare,
    fastPathRatio: fast.lock / fast.bare,
    counter4x100kMs: median(runs),
    counterOpsPerSec: (4 * N) / (median(runs) / 1000),
    async3x20kMs: median(asyncRuns),
    queueItemsPerSec: Q / (median(queueRuns) / 1000),
    portItemsPerSec: Q / (median(portRuns) / 1000),
  };
  if (process.argv.includes("--json")) console.log(JSON.stringify(out));
  else {
    console.log(`tsaio/threading on Node ${out.node} (load ${out.loadavg.toFixed(1)})`);
    console.log(`  uncontended acquireSync+release: ${out.fastPathNsPerPair.toFixed(1)} ns vs bare CAS+store ${out.bareNsPerPair.toFixed(1)} ns → ${out.fastPathRatio.toFixed(2)}× (target ≤ 2×)`);
    console.log(`  4 workers × 100,000 locked increments of one Value: ${out.counter4x100kMs.toFixed(0)} ms (${(out.counterOpsPerSec / 1e6).toFixed(2)} M/s), total exact`);
    console.log(`  2 workers + main × 20,000 async-locked increments: ${out.async3x20kMs.toFixed(0)} ms`);
    console.log(`  1 producer → 1 consumer thread, ${Q} items { id, name }: Queue ${(out.queueItemsPerSec / 1e6).toFixed(2)} M/s, MessagePort ${(out.portItemsPerSec / 1e6).toFixed(2)} M/s → ${(out.queueItemsPerSec / out.portItemsPerSec).toFixed(2)}× (issue: ≥ 3×)`);
  }
}

await main();
