/**
 * `npm run bench:bullmq`: BullMQExecutor against BullMQ used directly (W12, see
 * bench/suite/w12-bullmq.ts), interleaved rounds, a table, and bench/results/bullmq-<node>.json.
 * Also the plain side's worker process: `bench/bullmq.ts --plain-worker <queue> <prefix>`.
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, interleave, machine, median, now, table } from "./tools/lib.js";
import { CONCURRENCY, JOBS, plainBurst, plainRoundTrip, plainWorkerMain, ROUND_TRIPS, startFleet, tsaioBurst, tsaioRoundTrip, WORKER_PROCESSES } from "./suite/w12-bullmq.js";

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_RUNS ?? 5);

async function main(): Promise<void> {
  const t0 = now();
  const loadAtStart = loadavg();
  const fleet = await startFleet();
  try {
    const burst = await interleave("W12a", [{ name: "plain", run: () => plainBurst(fleet) }, { name: "tsaio", run: () => tsaioBurst(fleet) }], ROUNDS, 1, { rotate: true });
    const trip = await interleave("W12b", [{ name: "plain", run: () => plainRoundTrip(fleet) }, { name: "tsaio", run: () => tsaioRoundTrip(fleet) }], ROUNDS, 1, { rotate: true });
    const med = (xs: { [k: string]: number }[], k: string): number => median(xs.map((s) => s[k]));
    const bPlain = med(burst.plain, "ms");
    const bTsaio = med(burst.tsaio, "ms");
    const rPlain = med(trip.plain, "us");
    const rTsaio = med(trip.tsaio, "us");
    const throughputRatio = bPlain / bTsaio; // tsaio's jobs/s ÷ plain's
    const tripRatio = rTsaio / rPlain;
    const goals = {
      throughput: { text: "W12a: BullMQExecutor ≥ 0.8× plain BullMQ's throughput", value: throughputRatio, pass: throughputRatio >= 0.8 },
      roundTrip: { text: "W12b: round trip ≤ 1.25× plain BullMQ's", value: tripRatio, pass: tripRatio <= 1.25 },
    };
    const result = {
      ...machine(),
      date: new Date().toISOString(),
      command: "node --expose-gc --import tsx bench/bullmq.ts",
      jobs: JOBS,
      workerProcesses: WORKER_PROCESSES,
      concurrency: CONCURRENCY,
      roundTrips: ROUND_TRIPS,
      rounds: ROUNDS,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg(),
      durationSeconds: Math.round((now() - t0) / 1000),
      burst: { plainMs: bPlain, tsaioMs: bTsaio, plainJobsPerSec: (JOBS / bPlain) * 1000, tsaioJobsPerSec: (JOBS / bTsaio) * 1000, samples: burst },
      roundTrip: { plainUs: rPlain, tsaioUs: rTsaio, samples: trip },
      goals,
    };
    console.log(`BullMQExecutor vs BullMQ on Node ${process.version} (load ${loadAtStart.map((x) => x.toFixed(1)).join(" ")}), median of ${ROUNDS} interleaved rounds`);
    console.log(
      table([
        ["case", "side", "median", "throughput"],
        [`W12a ${JOBS} jobs`, "BullMQ Queue+Worker+QueueEvents", `${fmt(bPlain)} ms`, `${fmt((JOBS / bPlain) * 1000)} jobs/s`],
        ["", "tsaio BullMQExecutor", `${fmt(bTsaio)} ms`, `${fmt((JOBS / bTsaio) * 1000)} jobs/s`],
        ["W12b round trip", "BullMQ add+waitUntilFinished", `${fmt(rPlain)} µs`, ""],
        ["", "tsaio BullMQExecutor", `${fmt(rTsaio)} µs`, ""],
      ]),
    );
    for (const g of Object.values(goals)) console.log(`${g.pass ? "met   " : "MISSED"} ${g.text}: ${fmt(g.value)}×`);
    const file = join(here, "results", `bullmq-${process.version}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
    console.log(`results: ${file}`);
  } finally {
    await fleet.close();
  }
}

if (process.argv[2] === "--plain-worker") await plainWorkerMain(process.argv[3] as string, process.argv[4] as string);
else await main();
