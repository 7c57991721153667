/**
 * The worker pools of W7 and W8, each with 2 worker threads running the same plain-JS jobs
 * (bench/workers/jobs.mjs): a hand-written postMessage pool (the floor), tsaio's
 * ThreadPoolExecutor, piscina, tinypool and workerpool, behind one small interface.
 * @module
 */
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { FixedQueue, Piscina } from "piscina";
import { Tinypool } from "tinypool";
import workerpool from "workerpool";
import { ThreadPoolExecutor, workerModule } from "../../src/index.js";
import type { SideKind } from "./model.js";

export const THREADS = 2;
/** Jobs in flight per worker in the tuned peers (their option for many small jobs). */
const PER_WORKER = 32;
const jobsUrl = new URL("../workers/jobs.mjs", import.meta.url);

/** What every side offers: run export `fn` of jobs.mjs on `arg`. */
export interface Pool {
  name: string;
  kind: SideKind;
  note: string;
  call(fn: "inc" | "cpu", arg: number): PromiseLike<number>;
  close(): Promise<void>;
}

/**
 * The floor: one postMessage per job each way, a Map of resolvers, and each job sent to the worker
 * with the fewest jobs in flight (the lowest index on a tie, so one-at-a-time jobs keep one worker
 * awake instead of waking the one that slept longest).
 */
function rawPool(): Pool {
  const pending = new Map<number, (v: number) => void>();
  const inFlight = new Array<number>(THREADS).fill(0);
  let seq = 0;
  const workers = Array.from({ length: THREADS }, (_, k) => {
    const w = new Worker(new URL("../workers/raw-worker.mjs", import.meta.url));
    w.on("message", (m: [number, number]) => {
      const r = pending.get(m[0]) as (v: number) => void;
      pending.delete(m[0]);
      inFlight[k]--;
      r(m[1]);
    });
    return w;
  });
  return {
    name: "raw postMessage",
    kind: "floor",
    note: "hand-written: one postMessage per job each way, to the worker with the fewest jobs in flight",
    call: (fn, arg) =>
      new Promise((resolve) => {
        const id = ++seq;
        pending.set(id, resolve);
        let k = 0;
        for (let j = 1; j < THREADS; j++) if (inFlight[j] < inFlight[k]) k = j;
        inFlight[k]++;
        workers[k].postMessage([id, fn === "inc" ? 0 : 1, arg]);
      }),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * Every pool, started, each worker warmed with a few jobs (module loading is not measured). `tuned`
 * adds piscina and tinypool set up for many small jobs (several jobs in flight per worker; piscina's
 * FixedQueue, no timing records), next to their defaults. `only`: make just the pools of these names
 * (the others' idle threads then take nothing from the machine).
 */
export async function makePools(tuned = false, only?: readonly string[]): Promise<Pool[]> {
  const want = (name: string): boolean => only === undefined || only.includes(name);
  const jobs = workerModule<typeof import("../workers/jobs.mjs")>(jobsUrl);
  const pools: Pool[] = [];
  if (want("raw postMessage")) pools.push(rawPool());
  if (want("tsaio")) {
    const tsaio = new ThreadPoolExecutor({ maxWorkers: THREADS });
    pools.push({ name: "tsaio", kind: "tsaio", note: "ThreadPoolExecutor({ maxWorkers: 2 }).submit(fn, arg)", call: (fn, arg) => tsaio.submit(fn === "inc" ? jobs.fns.inc : jobs.fns.cpu, arg), close: () => tsaio.shutdown() });
  }
  if (want("piscina")) {
    const piscina = new Piscina({ filename: jobsUrl.href, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 60_000 });
    pools.push({ name: "piscina", kind: "peer", note: "run(arg, { name })", call: (fn, arg) => piscina.run(arg, { name: fn }) as Promise<number>, close: () => piscina.destroy() });
  }
  if (want("tinypool")) {
    const tinypool = new Tinypool({ filename: jobsUrl.href, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 60_000 });
    pools.push({ name: "tinypool", kind: "peer", note: "run(arg, { name })", call: (fn, arg) => tinypool.run(arg, { name: fn }) as Promise<number>, close: () => tinypool.destroy() });
  }
  if (want("workerpool")) {
    const wp = workerpool.pool(fileURLToPath(new URL("../workers/workerpool-worker.mjs", import.meta.url)), { minWorkers: THREADS, maxWorkers: THREADS, workerType: "thread" });
    pools.push({
      name: "workerpool",
      kind: "peer",
      note: "exec(name, [arg])",
      call: (fn, arg) => wp.exec(fn, [arg]) as unknown as Promise<number>,
      close: async () => {
        await wp.terminate();
      },
    });
  }
  if (tuned) {
    const piscinaTuned = new Piscina({
      filename: jobsUrl.href,
      minThreads: THREADS,
      maxThreads: THREADS,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: PER_WORKER,
      taskQueue: new FixedQueue(),
      recordTiming: false,
    });
    const tinypoolTuned = new Tinypool({ filename: jobsUrl.href, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 60_000, concurrentTasksPerWorker: PER_WORKER });
    pools.push(
      {
        name: "piscina (tuned)",
        kind: "peer",
        note: `concurrentTasksPerWorker: ${PER_WORKER}, taskQueue: new FixedQueue(), recordTiming: false`,
        call: (fn, arg) => piscinaTuned.run(arg, { name: fn }) as Promise<number>,
        close: () => piscinaTuned.destroy(),
      },
      {
        name: "tinypool (tuned)",
        kind: "peer",
        note: `concurrentTasksPerWorker: ${PER_WORKER}`,
        call: (fn, arg) => tinypoolTuned.run(arg, { name: fn }) as Promise<number>,
        close: () => tinypoolTuned.destroy(),
      },
    );
  }
  await Promise.all(pools.flatMap((p) => Array.from({ length: THREADS * 4 }, (_, i) => p.call("inc", i))));
  return pools;
}
