/**
 * W7 — 10,000 trivial jobs on 2 worker threads (W7a), and the latency of one job at a time (W7b).
 * @module
 */
import { median, now, type Sample } from "../tools/lib.js";
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
    pools = await makePools(true);
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
        notes: ["The tuned rows are piscina and tinypool set up for small jobs; the goal's best pool is the fastest row of all."],
        goals: [
          {
            text: "≥ 5× the best pool's throughput",
            kind: "faster",
            k: 5,
            ref: "best peer",
            ifMissed:
              "against piscina and tinypool at their defaults (one job in flight per worker) tsaio is 8–9× faster; tuned to keep 32 jobs in flight per worker they pipeline as tsaio does, " +
              "and what is left is their per-job protocol (a message each way and a task object per job) against tsaio's batched messages and results in shared memory: 3–5×.",
          },
        ],
      },
      {
        id: "W7b",
        workload: "W7",
        title: "sequential round trip",
        metric: "us",
        unit: "µs",
        floor: "raw postMessage",
        sides: toSides(roundTrips).filter((s) => !s.name.endsWith("(tuned)")),
        runs: 60,
        warmup: 3,
        goals: [
          {
            text: "≤ 1.2× raw postMessage",
            kind: "within",
            k: 1.2,
            ref: "raw postMessage",
            ifMissed:
              "a sequential round trip is mostly the wake-up of a waiting worker thread. The floor's worker waits for messages in libuv; tsaio's spins briefly, then blocks in Atomics.wait " +
              "and is woken with Atomics.notify. Which is faster depends on how this shared machine schedules a woken thread: tsaio's best round trips are the fastest of all (the min column), " +
              "its median moved between 0.9× and 1.5× the floor across runs.",
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
