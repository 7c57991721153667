/**
 * The single job (issue 13, "Speed"): one `await pool.submit(fn, x)` after another inside `run()` —
 * the latency a request handler sees. Every pool of W7 (bench/suite/pools.ts: the hand-written
 * postMessage pool, tsaio's ThreadPoolExecutor, piscina, tinypool, workerpool; 2 threads each, warm)
 * runs LAT_N (default 1,000) sequential round trips of a trivial job inside one `run()`, timed one
 * by one. The sides take turns in blocks of LAT_BLOCK (default 50) round trips, in an order that
 * rotates every block, so that the machine's mood (a shared 2-core VM) is spread over all of them.
 * Reported per side: median, mean and p99 of the round trips, and tsaio ÷ raw on each. Goal: tsaio
 * ≤ 1.2× the raw pool on the median and the mean.
 *
 * Run: `node --expose-gc --import tsx bench/executors-latency.ts` (`npm run bench:executors:latency`;
 * env LAT_N, LAT_BLOCK, LAT_SIDES=raw postMessage,tsaio to run only those, LAT_OUTSIDE=1 outside `run()`).
 * Writes `bench/results/executors-latency-<node-version>.json`.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../src/index.js";
import { fmt, machine, median, now, table } from "./tools/lib.js";
import { makePools, type Pool } from "./suite/pools.js";

const N = Math.max(100, Number(process.env.LAT_N ?? 1000) | 0);
const BLOCK = Math.max(10, Number(process.env.LAT_BLOCK ?? 50) | 0);
const here = dirname(fileURLToPath(import.meta.url));

interface Row {
  name: string;
  median: number;
  mean: number;
  p99: number;
  min: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const load = loadavg();
  const only = process.env.LAT_SIDES?.split(",");
  const pools = await makePools(false, only);
  const lat: Record<string, number[]> = Object.fromEntries(pools.map((p) => [p.name, []]));
  const t0 = now();
  const body = async (): Promise<void> => {
    // Warm-up inside run(): a block per side.
    for (const p of pools) for (let i = 0; i < BLOCK; i++) await p.call("inc", i);
    for (let b = 0; b * BLOCK < N; b++) {
      for (let k = 0; k < pools.length; k++) {
        const p: Pool = pools[(k + b) % pools.length];
        const xs = lat[p.name];
        for (let i = 0; i < BLOCK; i++) {
          const t = now();
          const v = await p.call("inc", i);
          xs.push((now() - t) * 1000);
          if (v !== i + 1) throw new Error(`${p.name}: wrong result`);
        }
      }
    }
  };
  // LAT_OUTSIDE=1: the same, outside run() (for comparison).
  if (process.env.LAT_OUTSIDE === "1") await body();
  else await run(body);
  for (const p of pools) await p.close();
  const rows: Row[] = pools.map((p) => {
    const xs = lat[p.name];
    const sorted = [...xs].sort((a, b) => a - b);
    return { name: p.name, median: median(xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length, p99: quantile(sorted, 0.99), min: sorted[0] };
  });
  const raw = rows.find((r) => r.name === "raw postMessage") as Row;
  const out = [["side", "median µs", "mean µs", "p99 µs", "min µs", "median ÷ raw", "mean ÷ raw", "p99 ÷ raw"]];
  for (const r of rows) {
    out.push([r.name, fmt(r.median), fmt(r.mean), fmt(r.p99), fmt(r.min), `${(r.median / raw.median).toFixed(2)}×`, `${(r.mean / raw.mean).toFixed(2)}×`, `${(r.p99 / raw.p99).toFixed(2)}×`]);
  }
  console.log(`\n${N} sequential round trips per side ${process.env.LAT_OUTSIDE === "1" ? "outside" : "inside"} run(), blocks of ${BLOCK}, ${process.version}`);
  console.log(table(out));
  const tsaio = rows.find((r) => r.name === "tsaio") as Row;
  const ok = tsaio.median <= 1.2 * raw.median && tsaio.mean <= 1.2 * raw.mean;
  console.log(`goal (tsaio ≤ 1.2× raw on median and mean): ${ok ? "met" : "missed"}`);
  const result = {
    ...machine(),
    date: new Date().toISOString(),
    command: "node --expose-gc --import tsx bench/executors-latency.ts",
    n: N,
    block: BLOCK,
    loadAverageAtStart: load,
    loadAverageAtEnd: loadavg(),
    durationSeconds: Math.round((now() - t0) / 1000),
    rows,
    goalMet: ok,
  };
  const file = join(here, "results", `executors-latency-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`results: ${file}`);
}

await main();
