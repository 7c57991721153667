/**
 * Before/after on the hot paths: the tsaio sides of W1a (spawn and join tasks), W4a (an uncontended
 * Lock) and W5a (a bounded Queue) run against this working tree's `src` ("new") and against a
 * previous commit's ("old"), interleaved in this one process. A change to the core (issue 12's
 * foreign-promise fixes, say) must cost these paths nothing measurable, and two separate runs of the
 * suite cannot show that: their difference is mostly the machine's mood between them.
 *
 * How: BASELINE_REF (default `HEAD`) is exported with `git archive` (its `src`, `package.json` and
 * `tsconfig.json`) into two temporary trees, "old" and "old′", each with `node_modules` symlinked
 * to this repo's. This tree's `bench/tools/lib.ts` and `bench/suite/` are copied into both, so that the very
 * same workload code (`bench/suite/w1-tasks.ts`…, whose `../../src/index.js` then means the old
 * `src`) runs on every side; only tsaio differs. Both sides are loaded from TypeScript source through
 * tsx, so neither gets a different build. The second old copy is a separate module instance with
 * its own JIT history, like "new": old′ ÷ old is the noise of the comparison itself.
 *
 * Three copies of tsaio in one process cost each other something a single copy never pays: each
 * has its own AsyncLocalStorage (the ambient task), and on Node 20 every enabled AsyncLocalStorage
 * adds work to every promise created anywhere (measured here: three copies interleaved made W4a's
 * tsaio side about 1.8× slower than one copy alone, hiding small differences). So before each sample the harness disables the other
 * trees' task storage (`src/context.ts`'s `taskStorage`; a tree's next `run()` re-enables its own),
 * which brings every side back to what one copy alone measures. A ref whose `src/context.ts` has no
 * such export is run without it, with a warning.
 *
 * Per case: 2 warm-up rounds, then BASELINE_RUNS (default 15, at least 5) counted rounds of new,
 * old and old′ in an order that rotates every round, a full GC before every sample (`lib.interleave`).
 * Each workload side checks its own result. Verdict per case (issue 12), on the medians: new ÷ old
 * ≤ 1.05, or no further from 1 than old′ ÷ old. Also shown: the median of the per-round ratios
 * new ÷ old ("paired"), which cancels load that comes and goes across rounds (a shared machine).
 *
 * Run: `node --expose-gc --import tsx bench/baseline.ts` (env BASELINE_REF, BASELINE_RUNS,
 * BASELINE_CASES=W1a,W4a,W5a — any of the suite's W1/W4/W5 case ids; BASELINE_KEEP=1 keeps the
 * temporary trees; BASELINE_STRICT=1 exits with code 1 when a case is slower).
 * Writes `bench/results/baseline-<node-version>.json`.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { exportTree, git } from "./tools/trees.js";
import { fmt, gcExposed, interleave, machine, median, now, stats, table, type Sample, type Stats } from "./tools/lib.js";
import type { CaseDef, SuiteContext, Workload } from "./suite/model.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const REF = process.env.BASELINE_REF ?? "HEAD";
const RUNS = Math.max(5, Number(process.env.BASELINE_RUNS ?? 15) | 0);
const WARMUP = 2;
const CASES = (process.env.BASELINE_CASES ?? "W1a,W4a,W5a")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "");
/** The bound: new may be up to 5% slower than old, or as far off as old′ is from old. */
const TOLERANCE = 1.05;

/** The workload modules, relative to a tree's root (the same files in every tree). */
const MODULES = {
  W1: { file: "bench/suite/w1-tasks.ts", key: "w1" },
  W4: { file: "bench/suite/w4-lock.ts", key: "w4" },
  W5: { file: "bench/suite/w5-queue.ts", key: "w5" },
} as const;
type WorkloadId = keyof typeof MODULES;

// ---------------------------------------------------------------------------------- the old trees

/** An old tree (bench/tools/trees.ts) plus this tree's benchmark code, which runs against its `src`. */
function exportTreeWithBench(sha: string, dir: string): void {
  exportTree(sha, dir);
  mkdirSync(join(dir, "bench", "tools"), { recursive: true });
  cpSync(join(here, "tools", "lib.ts"), join(dir, "bench", "tools", "lib.ts"));
  cpSync(join(here, "suite"), join(dir, "bench", "suite"), { recursive: true });
}

/** The workload `id` as a tree's copy of the suite defines it (imports that tree's `src`). */
async function loadWorkload(treeRoot: string, id: WorkloadId): Promise<Workload> {
  const m = MODULES[id];
  const mod = (await import(pathToFileURL(join(treeRoot, m.file)).href)) as Record<string, Workload>;
  const w = mod[m.key];
  if (w === undefined) throw new Error(`${join(treeRoot, m.file)} exports no ${m.key}`);
  return w;
}

/** What the harness needs of an AsyncLocalStorage. */
interface Disableable {
  disable(): void;
}

/**
 * A tree's ambient-task AsyncLocalStorage (the very module instance its `src/index.ts` uses), or null
 * (with a warning) if its `src/context.ts` exports none under the name `taskStorage`.
 */
async function taskStorageOf(treeRoot: string): Promise<Disableable | null> {
  const file = join(treeRoot, "src", "context.ts");
  const mod = (await import(pathToFileURL(file).href)) as { taskStorage?: unknown };
  const als = mod.taskStorage;
  if (als instanceof AsyncLocalStorage) return als;
  process.stderr.write(`warning: ${file} exports no taskStorage: the copies' AsyncLocalStorages stay enabled (slower, noisier samples on Node 20)\n`);
  return null;
}

/** The case's tsaio side, as built by one tree's workload module. */
async function tsaioSide(treeRoot: string, caseId: string): Promise<{ kase: CaseDef; run: CaseDef["sides"][number]["run"] }> {
  const wid = caseId.slice(0, 2) as WorkloadId;
  if (!(wid in MODULES)) throw new Error(`BASELINE_CASES: ${caseId} is not a case of ${Object.keys(MODULES).join(", ")}`);
  const ctx: SuiteContext = { quick: false, python: null };
  const kase = (await (await loadWorkload(treeRoot, wid)).cases(ctx)).find((c) => c.id === caseId);
  if (kase === undefined) throw new Error(`BASELINE_CASES: no case ${caseId} in ${wid}`);
  const side = kase.sides.find((s) => s.kind === "tsaio");
  if (side === undefined) throw new Error(`${caseId} has no tsaio side`);
  return { kase, run: side.run };
}

// ------------------------------------------------------------------------------------------ main

/** The median of the per-round ratios a[r] ÷ b[r]. */
function paired(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, r) => x / b[r]));
}

interface CaseResult {
  id: string;
  title: string;
  unit: string;
  new: Stats & { samples: number[] };
  old: Stats & { samples: number[] };
  oldPrime: Stats & { samples: number[] };
  /** new ÷ old, of the medians (> 1: new is slower). */
  ratio: number;
  /** The median of the per-round ratios new ÷ old (both sides measured in the same round). */
  pairedRatio: number;
  /** old′ ÷ old, of the medians: the comparison's own noise. */
  oldVsOld: number;
  /** The median of the per-round ratios old′ ÷ old. */
  pairedOldVsOld: number;
  pass: boolean;
}

async function main(): Promise<void> {
  if (!gcExposed) process.stderr.write("note: run with --expose-gc (GC is enabled late through V8 flags otherwise)\n");
  const load = loadavg();
  if (load[0] > 0.5) process.stderr.write(`note: load average ${load.map((x) => x.toFixed(2)).join(" ")}: other processes share the CPUs\n`);
  const sha = git(["rev-parse", "--verify", `${REF}^{commit}`]);
  const head = git(["rev-parse", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "src"]) !== "";
  const tmp = mkdtempSync(join(tmpdir(), "tsaio-baseline-"));
  const trees = { new: root, old: join(tmp, "old"), oldPrime: join(tmp, "old-prime") };
  const names = { new: "new", old: "old", oldPrime: "old′" };
  process.stderr.write(`baseline: new = ${root}/src (HEAD ${head.slice(0, 10)}${dirty ? " + uncommitted changes" : ""}), old = ${REF} (${sha.slice(0, 10)}) in ${tmp}\n`);

  const t0 = now();
  const results: CaseResult[] = [];
  try {
    exportTreeWithBench(sha, trees.old);
    exportTreeWithBench(sha, trees.oldPrime);
    const keys = ["new", "old", "oldPrime"] as const;
    const storages = await Promise.all(keys.map((k) => taskStorageOf(trees[k])));
    /** Leaves only tree `k`'s task storage enabled (outside the sample's timing, which is inside `run`). */
    const alone = (k: (typeof keys)[number], run: () => Promise<Sample>) => (): Promise<Sample> => {
      keys.forEach((other, i) => {
        if (other !== k) storages[i]?.disable();
      });
      return run();
    };
    for (const id of CASES) {
      const sides = await Promise.all(keys.map(async (k) => ({ key: k, ...(await tsaioSide(trees[k], id)) })));
      const { kase } = sides[0];
      process.stderr.write(`\n${id} — ${kase.title} (${kase.unit})\n`);
      const by = await interleave(id, sides.map((s) => ({ name: names[s.key], run: alone(s.key, s.run) })), RUNS, WARMUP, { rotate: true, gc: kase.gc });
      const row = (k: keyof typeof names): Stats & { samples: number[] } => {
        const xs = by[names[k]].map((s) => s[kase.metric]);
        for (const x of xs) if (!Number.isFinite(x)) throw new Error(`${id} ${names[k]}: no metric ${kase.metric}`);
        return { samples: xs, ...stats(xs) };
      };
      const r = { new: row("new"), old: row("old"), oldPrime: row("oldPrime") };
      const ratio = r.new.median / r.old.median;
      const oldVsOld = r.oldPrime.median / r.old.median;
      const spread = Math.max(oldVsOld, 1 / oldVsOld);
      const pairedRatio = paired(r.new.samples, r.old.samples);
      const pairedOldVsOld = paired(r.oldPrime.samples, r.old.samples);
      results.push({ id, title: kase.title, unit: kase.unit, ...r, ratio, pairedRatio, oldVsOld, pairedOldVsOld, pass: ratio <= Math.max(TOLERANCE, spread) });
    }
  } finally {
    if (process.env.BASELINE_KEEP === "1") process.stderr.write(`kept ${tmp}\n`);
    else rmSync(tmp, { recursive: true, force: true });
  }

  console.log(`\nnew (working tree${dirty ? ", src modified" : ""}) vs old (${REF} = ${sha.slice(0, 10)}), ${process.version}, ${RUNS} rounds, medians`);
  const rows = [["case", "unit", "new", "old", "old′", "new ÷ old", "paired", "old′ ÷ old", "paired", "new min–max", "old min–max", "verdict"]];
  for (const c of results)
    rows.push([
      `${c.id} ${c.title}`,
      c.unit,
      fmt(c.new.median),
      fmt(c.old.median),
      fmt(c.oldPrime.median),
      `${c.ratio.toFixed(3)}×`,
      `${c.pairedRatio.toFixed(3)}×`,
      `${c.oldVsOld.toFixed(3)}×`,
      `${c.pairedOldVsOld.toFixed(3)}×`,
      `${fmt(c.new.min)}–${fmt(c.new.max)}`,
      `${fmt(c.old.min)}–${fmt(c.old.max)}`,
      c.pass ? "ok" : "SLOWER",
    ]);
  console.log(table(rows));
  console.log(`verdict: ok when new ÷ old (medians) ≤ ${TOLERANCE}, or no further from 1 than old′ ÷ old (the noise of two identical builds side by side)`);
  console.log("paired: the median of the per-round ratios (each round measures every side once, in rotating order)");

  const result = {
    ...machine(),
    date: new Date().toISOString(),
    command: "node --expose-gc --import tsx bench/baseline.ts",
    ref: REF,
    refSha: sha,
    head,
    srcModified: dirty,
    runs: RUNS,
    warmup: WARMUP,
    tolerance: TOLERANCE,
    loadAverageAtStart: load,
    loadAverageAtEnd: loadavg(),
    durationSeconds: Math.round((now() - t0) / 1000),
    cases: results,
  };
  const file = join(here, "results", `baseline-${process.version}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`\n${result.durationSeconds} s; results: ${file}`);
  if (process.env.BASELINE_STRICT === "1" && results.some((c) => !c.pass)) process.exitCode = 1;
}

await main();
