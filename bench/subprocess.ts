/**
 * Subprocess start-up (issue 15, "Speed"): `true` run 1,000 times, 10 at a time, to its exit —
 *
 * - **execFile**: `child_process.execFile("true")` (promisified), the baseline;
 * - **tsaio**: `createSubprocessExec("true")` then `wait()` (stdio inherited, asyncio's default);
 * - **tsaio PIPE**: `createSubprocessExec("true", [], { stdout: PIPE, stderr: PIPE })` then
 *   `communicate()`, which collects the output as execFile does.
 *
 * Every side is 10 workers pulling from one counter, in a tsaio task for the tsaio sides. Sides are
 * interleaved in this one process (`lib.interleave`, rotating): 1 warm-up round, then
 * SUBPROCESS_RUNS (default 5) counted rounds. Reported: min/median/max wall time, and tsaio ÷
 * execFile of the medians — goal ≤ 1.2.
 *
 * Run: `npm run bench:subprocess` (env SUBPROCESS_RUNS, SUBPROCESS_N).
 * Writes `bench/results/subprocess-<node-version>.json`.
 * @module
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createSubprocessExec, gather, PIPE, run } from "../src/index.js";
import { fmt, interleave, machine, median, stats, table, type Sample } from "./tools/lib.js";

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = Math.max(3, Number(process.env.SUBPROCESS_RUNS ?? 5) | 0);
const N = Number(process.env.SUBPROCESS_N ?? 1000);
const CONCURRENCY = 10;
const execFileP = promisify(execFile);

/** Runs `one` N times, CONCURRENCY at a time; checks every exit status was 0. */
async function pool(one: () => Promise<number>, workers: (fns: (() => Promise<void>)[]) => Promise<unknown>): Promise<Sample> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      next++;
      if ((await one()) !== 0) failed++;
    }
  };
  const t0 = performance.now();
  await workers(Array.from({ length: CONCURRENCY }, () => worker));
  const ms = performance.now() - t0;
  if (failed > 0) throw new Error(`${failed} runs failed`);
  return { ms, perSpawnUs: (ms * 1000) / N };
}

const nativeWorkers = (fns: (() => Promise<void>)[]): Promise<unknown> => Promise.all(fns.map((f) => f()));
const tsaioWorkers = (fns: (() => Promise<void>)[]): Promise<unknown> => gather(fns);

async function main(): Promise<void> {
  const sides = [
    {
      name: "execFile",
      run: () =>
        pool(async () => {
          await execFileP("true");
          return 0;
        }, nativeWorkers),
    },
    {
      name: "tsaio",
      run: () =>
        pool(async () => {
          const p = await createSubprocessExec("true");
          return p.wait();
        }, tsaioWorkers),
    },
    {
      name: "tsaio PIPE",
      run: () =>
        pool(async () => {
          const p = await createSubprocessExec("true", [], { stdout: PIPE, stderr: PIPE });
          await p.communicate();
          return p.returncode ?? -1;
        }, tsaioWorkers),
    },
  ];
  process.stderr.write(`subprocess: "true" × ${N}, ${CONCURRENCY} at a time, ${RUNS} runs\n`);
  const res = await interleave("subprocess", sides, RUNS, 1, { rotate: true });
  const rows = [["side", "min ms", "median ms", "max ms", "µs per run"]];
  for (const s of sides) {
    const st = stats(res[s.name]!.map((x) => x.ms!));
    rows.push([s.name, fmt(st.min), fmt(st.median), fmt(st.max), fmt(median(res[s.name]!.map((x) => x.perSpawnUs!)))]);
  }
  const med = (name: string): number => median(res[name]!.map((x) => x.ms!));
  const ratio = med("tsaio") / med("execFile");
  const ratioPipe = med("tsaio PIPE") / med("execFile");
  console.log(table(rows));
  console.log(`tsaio wall time: ${ratio.toFixed(2)}× execFile's (goal ≤ 1.2); with pipes and communicate(): ${ratioPipe.toFixed(2)}×`);
  const file = join(here, "results", `subprocess-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify(
      {
        bench: "subprocess",
        date: new Date().toISOString(),
        machine: machine(),
        load: loadavg(),
        workload: { n: N, concurrency: CONCURRENCY, runs: RUNS },
        samples: res,
        ratios: { tsaioVsExecFile: ratio, tsaioPipeVsExecFile: ratioPipe },
        goals: { tsaioVsExecFile: { max: 1.2, met: ratio <= 1.2 } },
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`written: ${file}`);
}

await run(main, { handleSigint: false });
