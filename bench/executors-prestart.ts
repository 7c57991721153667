/**
 * A new pool (issue 13, "Speed"): workers start on demand by default; `prestart: true` starts them
 * when the pool is made. Measured here: a burst of PRE_N (default 1,000) trivial jobs submitted at
 * once and awaited, on
 * - "warm": a pool of 2 threads that has already run such bursts;
 * - "prestart, idle 50 ms": a pool made with `prestart: true`, left idle PRE_IDLE_MS (50) ms, then the burst;
 * - "on demand, idle 50 ms": the same without `prestart` (workers boot when the burst arrives).
 * Each round makes fresh pools for the last two sides and shuts them down after. Goal: the
 * prestarted burst ≤ 1.5× the warm one.
 *
 * What a worker must do before its first job is the same either way (start a thread, load the
 * worker entry, then the job module); so the goal is only reachable when that fits in the idle
 * time. Two builds are measured: `dist` (compiled tsaio, workers started with `execArgv: []`, as an
 * application run by plain `node` has them) and `src` (tsaio's TypeScript source: each worker thread
 * registers tsx first, which alone takes longer than 50 ms here). Build `dist` first (`npm run build`).
 *
 * Run: `node --expose-gc --import tsx bench/executors-prestart.ts` (`npm run bench:executors:prestart`;
 * env PRE_RUNS (default 15), PRE_N, PRE_IDLE_MS, PRE_BUILDS=dist,src).
 * Writes `bench/results/executors-prestart-<node-version>.json`.
 * @module
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmt, interleave, machine, median, now, table, type Sample } from "./tools/lib.js";

const here = dirname(fileURLToPath(import.meta.url));
const N = Math.max(10, Number(process.env.PRE_N ?? 1000) | 0);
const IDLE_MS = Number(process.env.PRE_IDLE_MS ?? 50);
const RUNS = Math.max(5, Number(process.env.PRE_RUNS ?? 15) | 0);
const BUILDS = (process.env.PRE_BUILDS ?? "dist,src").split(",").filter((b) => b === "dist" || b === "src");
const THREADS = 2;
const jobsUrl = new URL("./workers/jobs.mjs", import.meta.url);

interface Pool {
  submit(fn: unknown, arg: number): PromiseLike<number>;
  shutdown(): Promise<void>;
}
interface Tsaio {
  ThreadPoolExecutor: new (o: object) => Pool;
  workerModule(url: URL): { fns: { inc: unknown } };
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function burst(pool: Pool, inc: unknown): Promise<number> {
  const t0 = now();
  const fs = new Array<PromiseLike<number>>(N);
  for (let i = 0; i < N; i++) fs[i] = pool.submit(inc, i);
  const rs = await Promise.all(fs);
  const ms = now() - t0;
  for (let i = 0; i < N; i++) if (rs[i] !== i + 1) throw new Error(`wrong result ${rs[i]} for ${i}`);
  return ms;
}

async function main(): Promise<void> {
  const load = loadavg();
  const t0 = now();
  const results: Record<string, { warm: number; prestart: number; onDemand: number; ratio: number; samples: Record<string, number[]> }> = {};
  for (const build of BUILDS) {
    const entry = build === "dist" ? join(here, "..", "dist", "index.js") : join(here, "..", "src", "index.ts");
    if (!existsSync(entry)) {
      process.stderr.write(`skipping ${build}: ${entry} does not exist (npm run build)\n`);
      continue;
    }
    const t = (await import(pathToFileURL(entry).href)) as Tsaio;
    const inc = t.workerModule(jobsUrl).fns.inc;
    const base = { maxWorkers: THREADS, ...(build === "dist" ? { execArgv: [] } : {}) };
    const warm = new t.ThreadPoolExecutor(base);
    for (let k = 0; k < 3; k++) await burst(warm, inc);
    const fresh = (prestart: boolean) => async (): Promise<Sample> => {
      const pool = new t.ThreadPoolExecutor({ ...base, prestart });
      await pause(IDLE_MS);
      const ms = await burst(pool, inc);
      await pool.shutdown();
      return { ms };
    };
    const by = await interleave(
      `${build}:`,
      [
        { name: "warm", run: async (): Promise<Sample> => ({ ms: await burst(warm, inc) }) },
        { name: "prestart", run: fresh(true) },
        { name: "on demand", run: fresh(false) },
      ],
      RUNS,
      2,
      { rotate: true },
    );
    await warm.shutdown();
    const med = (k: string): number => median(by[k].map((s) => s.ms));
    results[build] = {
      warm: med("warm"),
      prestart: med("prestart"),
      onDemand: med("on demand"),
      ratio: med("prestart") / med("warm"),
      samples: Object.fromEntries(Object.entries(by).map(([k, v]) => [k, v.map((s) => s.ms)])),
    };
  }
  const rows = [["build", "warm ms", `prestart, idle ${IDLE_MS} ms`, `on demand, idle ${IDLE_MS} ms`, "prestart ÷ warm", "on demand ÷ warm", "goal ≤ 1.5×"]];
  for (const [b, r] of Object.entries(results)) {
    rows.push([b, fmt(r.warm), fmt(r.prestart), fmt(r.onDemand), `${r.ratio.toFixed(2)}×`, `${(r.onDemand / r.warm).toFixed(2)}×`, r.ratio <= 1.5 ? "met" : "missed"]);
  }
  console.log(`\na burst of ${N} trivial jobs on ${THREADS} threads, medians of ${RUNS} rounds, ${process.version}`);
  console.log(table(rows));
  const file = join(here, "results", `executors-prestart-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({ ...machine(), date: new Date().toISOString(), command: "node --expose-gc --import tsx bench/executors-prestart.ts", n: N, idleMs: IDLE_MS, runs: RUNS, loadAverageAtStart: load, loadAverageAtEnd: loadavg(), durationSeconds: Math.round((now() - t0) / 1000), results }, null, 2) + "\n",
  );
  console.log(`results: ${file}`);
}

await main();
