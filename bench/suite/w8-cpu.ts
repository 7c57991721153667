/**
 * W8 — a CPU-bound batch on 2 workers: 40 jobs of ~25 ms each (counting primes, calibrated on the
 * main thread), against the same jobs one after the other on the main thread.
 * @module
 */
import { cpu as cpuOnMain } from "../workers/jobs.mjs";
import { now, type Sample } from "../tools/lib.js";
import type { CaseDef, Side, Workload } from "./model.js";
import { makePools, THREADS, type Pool } from "./pools.js";

const JOB_MS = 25;
let pools: Pool[] = [];

/** The argument that makes one cpu() job take about JOB_MS on this machine's main thread, and its result. */
export function calibrate(): { arg: number; expected: number } {
  let n = 20_000;
  for (let k = 0; k < 8; k++) {
    const t0 = now();
    cpuOnMain(n);
    const ms = now() - t0;
    if (Math.abs(ms - JOB_MS) < 2) break;
    n = Math.max(1000, Math.round(n * Math.pow(JOB_MS / Math.max(ms, 0.1), 0.8)));
  }
  return { arg: n, expected: cpuOnMain(n) };
}

export const w8: Workload = {
  id: "W8",
  title: `a CPU-bound batch on ${THREADS} workers`,
  description:
    `A batch of CPU-bound jobs (counting primes by trial division, sized to about ${JOB_MS} ms each on the main thread) submitted at once to each pool of ${THREADS} threads, ` +
    "against the same jobs run one after the other on the main thread. The speed-up is the main thread's time over the pool's; with 2 cores, 2× is the ceiling. " +
    "The job size is calibrated at the start of each run, so the milliseconds of two Node versions are not the same work; their speed-ups are comparable.",
  async cases(): Promise<CaseDef[]> {
    pools = await makePools();
    const jobs = 40;
    const { arg, expected } = calibrate();
    const onMain: Side = {
      name: "main thread",
      kind: "reference",
      note: `countPrimes(${arg}) ${jobs} times, one after the other`,
      run: async (): Promise<Sample> => {
        const t0 = now();
        for (let i = 0; i < jobs; i++) if (cpuOnMain(arg) !== expected) throw new Error("W8: wrong result");
        return { ms: now() - t0 };
      },
    };
    const onPool = (p: Pool): Side => ({
      name: p.name,
      kind: p.kind,
      note: p.note,
      run: async (): Promise<Sample> => {
        const t0 = now();
        const rs = await Promise.all(Array.from({ length: jobs }, () => p.call("cpu", arg)));
        const ms = now() - t0;
        if (rs.some((r) => r !== expected)) throw new Error(`W8 ${p.name}: wrong result`);
        return { ms };
      },
    });
    return [
      {
        id: "W8a",
        workload: "W8",
        title: `${jobs} CPU-bound jobs of ~${JOB_MS} ms`,
        metric: "ms",
        unit: "ms",
        floor: "raw postMessage",
        sides: [onMain, ...pools.map(onPool)],
        goals: [
          {
            text: "≥ 1.9× speed-up over the main thread",
            kind: "faster",
            k: 1.9,
            ref: "main thread",
            ifMissed: "the hand-written floor gets no more (the main thread's × floor is its speed-up): on this shared 2-core virtual machine two busy threads do not get two whole cores, so no pool can.",
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
