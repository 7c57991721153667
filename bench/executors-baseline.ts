/**
 * Before/after for the executors (issue 13: the rebuild keeps new ÷ old ≤ 1.10 on W7–W8): the tsaio
 * sides of W7a (10,000 trivial jobs at once), W7b (sequential round trips, median of 100) and W8a
 * (40 CPU-bound jobs of ~25 ms) run against this working tree's `src` ("new") and against a git
 * ref's ("old", and a second copy "old′" whose ratio to "old" is the noise of the comparison itself),
 * interleaved in this one process, in an order that rotates every round, a full GC before every
 * sample. Each side is a ThreadPoolExecutor of 2 threads made by that tree's `src/index.ts`, running
 * the suite's plain-JS job module (bench/workers/jobs.mjs), so only tsaio differs.
 *
 * As in bench/baseline.ts (whose method this follows), three copies of tsaio in one process would
 * each keep an AsyncLocalStorage enabled; before each sample the other trees' `taskStorage` is
 * disabled.
 *
 * Run: `BASELINE_REF=<sha> node --expose-gc --import tsx bench/executors-baseline.ts`
 * (`npm run bench:executors:baseline`; env BASELINE_RUNS (default 11), BASELINE_KEEP=1).
 * Writes `bench/results/executors-baseline-<node-version>.json`.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { calibrate } from "./suite/w8-cpu.js";
import { exportTree, git } from "./tools/trees.js";
import { fmt, interleave, machine, median, now, stats, table, type Sample } from "./tools/lib.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const REF = process.env.BASELINE_REF ?? "HEAD";
const RUNS = Math.max(5, Number(process.env.BASELINE_RUNS ?? 11) | 0);
const TOLERANCE = 1.1;
const jobsUrl = new URL("./workers/jobs.mjs", import.meta.url);

interface Pool {
  submit(fn: unknown, arg: number): PromiseLike<number>;
  shutdown(): Promise<void>;
}
interface Tree {
  key: "new" | "old" | "oldPrime";
  name: string;
  pool: Pool;
  inc: unknown;
  cpu: unknown;
  storage: { disable(): void } | null;
}

async function openTree(key: Tree["key"], name: string, dir: string): Promise<Tree> {
  const t = (await import(pathToFileURL(join(dir, "src", "index.ts")).href)) as {
    ThreadPoolExecutor: new (o: object) => Pool;
    workerModule(url: URL): { fns: { inc: unknown; cpu: unknown } };
  };
  const ctx = (await import(pathToFileURL(join(dir, "src", "context.ts")).href)) as { taskStorage?: unknown };
  const fns = t.workerModule(jobsUrl).fns;
  const pool = new t.ThreadPoolExecutor({ maxWorkers: 2 });
  await Promise.all(Array.from({ length: 8 }, (_, i) => pool.submit(fns.inc, i)));
  return { key, name, pool, inc: fns.inc, cpu: fns.cpu, storage: ctx.taskStorage instanceof AsyncLocalStorage ? ctx.taskStorage : null };
}

const CASES: { id: string; title: string; unit: string; run: (t: Tree, c: { arg: number; expected: number }) => Promise<Sample> }[] = [
  {
    id: "W7a",
    title: "10,000 trivial jobs at once",
    unit: "µs/job",
    run: async (t) => {
      const n = 10_000;
      const t0 = now();
      const fs = new Array<PromiseLike<number>>(n);
      for (let i = 0; i < n; i++) fs[i] = t.pool.submit(t.inc, i);
      const rs = await Promise.all(fs);
      const us = ((now() - t0) * 1000) / n;
      for (let i = 0; i < n; i++) if (rs[i] !== i + 1) throw new Error("W7a: wrong result");
      return { v: us };
    },
  },
  {
    id: "W7b",
    title: "sequential round trip (median of 100)",
    unit: "µs",
    run: async (t) => {
      const lat: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t0 = now();
        if ((await t.pool.submit(t.inc, i)) !== i + 1) throw new Error("W7b: wrong result");
        lat.push((now() - t0) * 1000);
      }
      return { v: median(lat) };
    },
  },
  {
    id: "W8a",
    title: "40 CPU-bound jobs of ~25 ms",
    unit: "ms",
    run: async (t, c) => {
      const t0 = now();
      const rs = await Promise.all(Array.from({ length: 40 }, () => t.pool.submit(t.cpu, c.arg)));
      const ms = now() - t0;
      if (rs.some((r) => r !== c.expected)) throw new Error("W8a: wrong result");
      return { v: ms };
    },
  },
];

async function main(): Promise<void> {
  const load = loadavg();
  const sha = git(["rev-parse", "--verify", `${REF}^{commit}`]);
  const head = git(["rev-parse", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "src/executors"]) !== "";
  const tmp = mkdtempSync(join(tmpdir(), "tsaio-exec-baseline-"));
  process.stderr.write(`executors baseline: new = ${root}/src (HEAD ${head.slice(0, 10)}${dirty ? " + uncommitted changes" : ""}), old = ${REF} (${sha.slice(0, 10)}) in ${tmp}\n`);
  const t0 = now();
  const rows: Record<string, unknown>[] = [];
  const trees: Tree[] = [];
  try {
    exportTree(sha, join(tmp, "old"));
    exportTree(sha, join(tmp, "old-prime"));
    trees.push(await openTree("new", "new", root), await openTree("old", "old", join(tmp, "old")), await openTree("oldPrime", "old′", join(tmp, "old-prime")));
    const c = calibrate();
    for (const k of CASES) {
      process.stderr.write(`\n${k.id} — ${k.title} (${k.unit})\n`);
      const sides = trees.map((t) => ({
        name: t.name,
        run: (): Promise<Sample> => {
          for (const o of trees) if (o !== t) o.storage?.disable();
          return k.run(t, c);
        },
      }));
      const by = await interleave(k.id, sides, RUNS, 2, { rotate: true });
      const xs = (name: string): number[] => by[name].map((s) => s.v);
      const s = { new: stats(xs("new")), old: stats(xs("old")), oldPrime: stats(xs("old′")) };
      const ratio = s.new.median / s.old.median;
      const noise = s.oldPrime.median / s.old.median;
      const paired = median(xs("new").map((x, r) => x / xs("old")[r]));
      rows.push({ id: k.id, title: k.title, unit: k.unit, ...s, ratio, paired, oldVsOld: noise, samples: { new: xs("new"), old: xs("old"), oldPrime: xs("old′") }, pass: ratio <= Math.max(TOLERANCE, noise, 1 / noise) });
    }
  } finally {
    for (const t of trees) await t.pool.shutdown();
    if (process.env.BASELINE_KEEP === "1") process.stderr.write(`kept ${tmp}\n`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  const out = [["case", "unit", "new", "old", "old′", "new ÷ old", "paired", "old′ ÷ old", "verdict"]];
  for (const r of rows as { id: string; title: string; unit: string; new: { median: number }; old: { median: number }; oldPrime: { median: number }; ratio: number; paired: number; oldVsOld: number; pass: boolean }[]) {
    out.push([`${r.id} ${r.title}`, r.unit, fmt(r.new.median), fmt(r.old.median), fmt(r.oldPrime.median), `${r.ratio.toFixed(3)}×`, `${r.paired.toFixed(3)}×`, `${r.oldVsOld.toFixed(3)}×`, r.pass ? "ok" : "SLOWER"]);
  }
  console.log(`\nnew (working tree) vs old (${REF} = ${sha.slice(0, 10)}), ${process.version}, ${RUNS} rounds, medians`);
  console.log(table(out));
  console.log(`verdict: ok when new ÷ old ≤ ${TOLERANCE}, or no further from 1 than old′ ÷ old`);
  const file = join(here, "results", `executors-baseline-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    JSON.stringify({ ...machine(), date: new Date().toISOString(), command: "node --expose-gc --import tsx bench/executors-baseline.ts", ref: REF, refSha: sha, head, srcModified: dirty, runs: RUNS, loadAverageAtStart: load, loadAverageAtEnd: loadavg(), durationSeconds: Math.round((now() - t0) / 1000), cases: rows }, null, 2) + "\n",
  );
  console.log(`results: ${file}`);
}

await main();
