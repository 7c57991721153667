/**
 * map / imap against p-map: 100,000 no-op async items with concurrency 10, interleaved in one
 * process (p-map, tsaio map, tsaio imap unordered, …), medians and ratios.
 *
 *   node --expose-gc --import tsx bench/iteration.ts        (BENCH_QUICK=1 for a 10× smaller run)
 *
 * Goals (issue 8): tsaio map ≥ 3× the throughput of p-map; imap with `ordered: false` within 1.5× of map.
 */
import pMap from "p-map";
import { imap, map, run } from "../src/index.js";
import { interleave, median, now } from "./tools/lib.js";

const N = process.env.BENCH_QUICK === "1" ? 10_000 : 100_000;
const RUNS = 7;
const items = Array.from({ length: N }, (_, i) => i);
const noop = async (x: number): Promise<number> => x;

const samples = await interleave(
  "iteration",
  {
    "p-map": async () => {
      const t0 = now();
      await pMap(items, noop, { concurrency: 10 });
      return { ms: now() - t0 };
    },
    "tsaio map": async () => {
      const t0 = now();
      await run(() => map(items, noop, { concurrency: 10 }));
      return { ms: now() - t0 };
    },
    "tsaio imap": async () => {
      const t0 = now();
      await run(async () => {
        let n = 0;
        for await (const _ of imap(items, noop, { concurrency: 10, ordered: false })) n++;
        if (n !== N) throw new Error("imap lost items");
      });
      return { ms: now() - t0 };
    },
  },
  RUNS,
  2,
);

const med = (k: string): number => median(samples[k]!.map((s) => s.ms!));
const pm = med("p-map");
const tm = med("tsaio map");
const ti = med("tsaio imap");
console.log(`\nNode ${process.version}, ${N.toLocaleString()} no-op items, concurrency 10 (median of ${RUNS})`);
console.log(`p-map       ${pm.toFixed(1)} ms  (${((pm * 1e6) / N).toFixed(0)} ns/item)`);
console.log(`tsaio map   ${tm.toFixed(1)} ms  (${((tm * 1e6) / N).toFixed(0)} ns/item)  throughput ${(pm / tm).toFixed(2)}× p-map  (goal ≥ 3×) ${pm / tm >= 3 ? "PASS" : "MISS"}`);
console.log(`tsaio imap  ${ti.toFixed(1)} ms  (${((ti * 1e6) / N).toFixed(0)} ns/item)  ${(ti / tm).toFixed(2)}× map's time  (goal ≤ 1.5×) ${ti / tm <= 1.5 ? "PASS" : "MISS"}`);
