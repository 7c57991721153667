/**
 * W7 — 10,000 trivial jobs on 2 worker threads (W7a), and the latency of one job at a time (W7b).
 * @module
 */
import { median, now, type Sample } from "../lib.js";
import type { CaseDef, Side, Workload } from "./model.js";
import { makePools, THREADS, type Pool } from "./pools.js";

const BLOCK = 100;
let pools: Pool[] = [];

function burst(p: Pool, n: number): () => Promise<Sample> {
  return async () => {
    const t0 = now();
    const fs = new Array<PromiseLike<number>>(n);
    for (let i = 0; i < n; i++) fs[i] = p.call("inc", i);
    const rs = await Promise.all(fs);
    const ms = now() - t0;
    for (let i = 0; i < n; i++) if (rs[i] !== i + 1) throw new Error(`W7 ${p.name}: wrong result ${rs[i]} for ${i}`);
    return { us: (ms * 1000) / n };
  };
}

/** BLOCK round trips one after the other, each timed alone; the sample is their median. */
function roundTrips(p: Pool): () => Promise<Sample> {
  return async () => {
    const lat = new Array<number>(BLOCK);
    for (let i = 0; i < BLOCK; i++) {
      const t = now();
      const v = await p.call("inc", i);
      lat[i] = (now() - t) * 1000;
      if (v !== i + 1) throw new Error(`W7 ${p.name}: wrong result`);
    }
    return { us: median(lat) };
  };
}

const toSides = (make: (p: Pool) => () => Promise<Sample>): Side[] => pools.map((p) => ({ name: p.name, kind: p.kind, note: p.note, run: make(p) }));

export const w7: Workload = {
  id: "W7",
  title: `trivial jobs on ${THREADS} worker threads`,
  description:
    `Every pool has ${THREADS} worker threads running the same plain-JS job module. ` +
    "W7a submits n trivial jobs (return the argument + 1) at once and awaits them all: time per job, which is the pool's own overhead. " +
    `W7b sends one job at a time and times each round trip; a sample is the median of ${BLOCK} round trips, and the sides take turns block by block, ` +
    "because on a shared machine a sleeping thread's wake-up time swings with the state of the whole machine.",
  async cases(): Promise<CaseDef[]> {
    pools = await makePools();
    const n = 10_000;
    return [
      {
        id: "W7a",
        workload: "W7",
        title: `${n.toLocaleString("en")} trivial jobs at once`,
        metric: "us",
        unit: "µs/job",
        floor: "raw postMessage",
        sides: toSides((p) => burst(p, n)),
        goals: [{ text: "≥ 5× the best pool's throughput", kind: "faster", k: 5, ref: "best peer" }],
      },
      {
        id: "W7b",
        workload: "W7",
        title: "sequential round trip",
        metric: "us",
        unit: "µs",
        floor: "raw postMessage",
        sides: toSides(roundTrips),
        runs: 60,
        warmup: 3,
        goals: [
          {
            text: "≤ 1.2× raw postMessage",
            kind: "within",
            k: 1.2,
            ref: "raw postMessage",
            ifMissed:
              "a sequential round trip is mostly the wake-up of a sleeping worker thread, which swings between modes (about 15 µs and 60 µs) with the state of this shared machine; " +
              "the block medians scatter more than the pools differ (compare the min – max ranges).",
          },
        ],
      },
    ];
  },
  async teardown(): Promise<void> {
    for (const p of pools) await p.close();
    pools = [];
  },
};
