/**
 * `RedisLock` speed (issue 16, "Speed"): uncontended acquire/release with its fencing token against a
 * plain `SET NX PX` + Lua release — the same two round trips — side by side in one run, in blocks
 * that alternate (the order rotates every round), on the Redis at REDIS_URL (default
 * redis://127.0.0.1:6379). Goal: RedisLock ≤ 1.5× the plain pair (median of the rounds).
 *
 * Run: `node --expose-gc --import tsx bench/redis.ts` (`npm run bench:redis`; env REDIS_BENCH_N pairs
 * per round (default 2,000), REDIS_BENCH_RUNS rounds (default 7)).
 * Writes `bench/results/redis-<node-version>.json`.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, interleave, machine, median, now, table } from "./tools/lib.js";
import { makeRig, PAIRS, redisUrl } from "./suite/w11-redis.js";

const N = Math.max(100, Number(process.env.REDIS_BENCH_N ?? PAIRS) | 0);
const RUNS = Math.max(3, Number(process.env.REDIS_BENCH_RUNS ?? 7) | 0);
const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const load = loadavg();
  const t0 = now();
  const rig = await makeRig();
  if (rig === null) {
    process.exitCode = 1;
    return;
  }
  let samples;
  try {
    samples = await interleave(
      "redis lock",
      [
        { name: "plain", run: () => rig.plain(N, "outside run()") },
        { name: "tsaio", run: () => rig.tsaio(N, "outside run()") },
        { name: "plain in run", run: () => rig.plain(N, "inside run()") },
        { name: "tsaio in run", run: () => rig.tsaio(N, "inside run()") },
      ],
      RUNS,
      1,
      { rotate: true },
    );
  } finally {
    await rig.close();
  }
  const us = (k: string): number[] => samples[k].map((s) => s.us);
  const roundTrips = median(samples.tsaio.map((s) => s.roundTrips));
  const pairs = (["", " in run"] as const).map((suffix) => {
    const plain = us(`plain${suffix}`);
    const tsaio = us(`tsaio${suffix}`);
    return { where: suffix === "" ? "outside run()" : "inside run()", plain, tsaio, ratio: median(tsaio) / median(plain), perRound: tsaio.map((v, i) => v / plain[i]) };
  });
  console.log(`\n${N} uncontended acquire/release pairs per round, ${RUNS} rounds, ${process.version}, ${redisUrl()}`);
  const rows = [["side", "median µs/pair", "min µs/pair", "max µs/pair", "round trips/pair", "÷ plain"]];
  for (const p of pairs) {
    rows.push([`SET NX PX + Lua release, ${p.where}`, fmt(median(p.plain)), fmt(Math.min(...p.plain)), fmt(Math.max(...p.plain)), "2", "1.00×"]);
    rows.push([`tsaio RedisLock (fencing token), ${p.where}`, fmt(median(p.tsaio)), fmt(Math.min(...p.tsaio)), fmt(Math.max(...p.tsaio)), fmt(roundTrips), `${p.ratio.toFixed(2)}×`]);
  }
  console.log(table(rows));
  const ok = pairs.every((p) => p.ratio <= 1.5);
  for (const p of pairs) console.log(`${p.where}: RedisLock ÷ plain ${p.ratio.toFixed(2)}× (median of rounds; per round ${p.perRound.map((x) => x.toFixed(2)).join(" ")})`);
  console.log(`goal (≤ 1.5× in both): ${ok ? "met" : "missed"}`);
  const result = {
    ...machine(),
    date: new Date().toISOString(),
    command: "node --expose-gc --import tsx bench/redis.ts",
    redis: redisUrl(),
    pairsPerRound: N,
    rounds: RUNS,
    loadAverageAtStart: load,
    loadAverageAtEnd: loadavg(),
    durationSeconds: Math.round((now() - t0) / 1000),
    roundTripsPerPair: roundTrips,
    comparisons: pairs.map((p) => ({ where: p.where, plainUs: p.plain, tsaioUs: p.tsaio, plainMedianUs: median(p.plain), tsaioMedianUs: median(p.tsaio), ratio: p.ratio, perRoundRatios: p.perRound })),
    goal: "RedisLock ≤ 1.5× SET NX PX + Lua release",
    goalMet: ok,
  };
  const file = join(here, "results", `redis-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`results: ${file}`);
}

await main();
