/**
 * W3 — 100,000 async jobs, at most 10 running at a time; results collected and checked.
 * @module
 */
import { Effect } from "effect";
import pLimit from "p-limit";
import PQueue from "p-queue";
import { map, run, Semaphore } from "../../src/index.js";
import { now, type Sample } from "../lib.js";
import { handLimit } from "./floors.js";
import type { CaseDef, Side, SuiteContext, Workload } from "./model.js";

const LIMIT = 10;

async function job(i: number): Promise<number> {
  return i;
}

function check(rs: readonly number[], n: number, who: string): void {
  let sum = 0;
  for (const r of rs) sum += r;
  if (rs.length !== n || sum !== (n * (n - 1)) / 2) throw new Error(`W3 ${who}: wrong results`);
}

/** Every job handed to `limit` at once, then one Promise.all (p-limit's shape). */
async function through(limit: (fn: () => Promise<number>) => Promise<number>, n: number, who: string): Promise<Sample> {
  const t0 = now();
  const ps = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) ps[i] = limit(() => job(i));
  const rs = await Promise.all(ps);
  const ms = now() - t0;
  check(rs, n, who);
  return { ms };
}

function sides(n: number, ctx: SuiteContext): Side[] {
  const ids = Array.from({ length: n }, (_, i) => i);
  const out: Side[] = [
    { name: "hand-written limiter", kind: "floor", note: "a counter and a queue of resolvers, every job submitted at once", run: () => through(handLimit(LIMIT), n, "floor") },
    {
      name: "tsaio",
      kind: "tsaio",
      note: "map(ids, job, { concurrency: 10 }): 10 workers pull the jobs, none is queued ahead",
      run: () =>
        run(async (): Promise<Sample> => {
          const t0 = now();
          const rs = await map(ids, job, { concurrency: LIMIT });
          const ms = now() - t0;
          check(rs, n, "tsaio map");
          return { ms };
        }),
    },
    {
      name: "tsaio Semaphore",
      kind: "variant",
      note: "Semaphore(10).run(job) for every job at once, then Promise.all: p-limit's shape",
      run: () =>
        run(() => {
          const sem = new Semaphore(LIMIT);
          return through((fn) => sem.run(fn), n, "tsaio Semaphore");
        }),
    },
    { name: "p-limit", kind: "peer", note: "pLimit(10)(job) for every job at once, then Promise.all", run: () => through(pLimit(LIMIT), n, "p-limit") },
    {
      name: "p-queue",
      kind: "peer",
      note: "new PQueue({ concurrency: 10 }).add(job) for every job, then Promise.all",
      run: () => {
        const q = new PQueue({ concurrency: LIMIT });
        return through((fn) => q.add(fn), n, "p-queue");
      },
    },
    {
      name: "Effect",
      kind: "peer",
      note: "Effect.forEach(ids, (i) => Effect.promise(() => job(i)), { concurrency: 10 })",
      run: () =>
        Effect.runPromise(
          Effect.gen(function* () {
            const t0 = now();
            const rs = yield* Effect.forEach(ids, (i) => Effect.promise(() => job(i)), { concurrency: LIMIT });
            const ms = now() - t0;
            check(rs, n, "Effect");
            return { ms };
          }),
        ),
    },
  ];
  const py = ctx.python;
  if (py !== null) out.push({ name: "CPython asyncio", kind: "python", warmup: false, note: "asyncio.gather over n jobs that each take an asyncio.Semaphore(10)", run: () => py("bounded", n, LIMIT) });
  return out;
}

export const w3: Workload = {
  id: "W3",
  title: "jobs bounded to 10 at a time",
  description:
    "n trivial async jobs (each returns its index), never more than 10 running at once; all results collected in order and checked. " +
    "tsaio is measured twice: `map()` with `concurrency: 10` (its tool for this job: 10 workers pull the items, so nothing waits in a queue) " +
    "and `Semaphore(10).run()` with every job submitted at once, the same shape as p-limit and p-queue. " +
    "Effection has no limiter and is not in this workload.",
  async cases(ctx): Promise<CaseDef[]> {
    const n = 100_000;
    return [
      {
        id: "W3a",
        workload: "W3",
        title: `${n.toLocaleString("en")} jobs bounded to ${LIMIT}`,
        metric: "ms",
        unit: "ms",
        floor: "hand-written limiter",
        sides: sides(n, ctx),
        goals: [
          { text: "≥ 3× faster than p-limit", kind: "faster", k: 3, ref: "p-limit" },
          {
            text: "Semaphore.run ≥ 3× faster than p-limit",
            kind: "faster",
            k: 3,
            ref: "p-limit",
            side: "tsaio Semaphore",
            ifMissed:
              "in p-limit's shape (every job submitted at once) the cost is 100,000 pending promises, and the hand-written floor is no faster than p-limit, " +
              "so 3× p-limit is below what the platform allows in this shape; map() does the same job without the queue (the tsaio row).",
          },
          ...(ctx.python !== null ? [{ text: "≥ 10× faster than CPython", kind: "faster" as const, k: 10, ref: "CPython asyncio" }] : []),
        ],
      },
    ];
  },
};
