/**
 * Core benchmarks of tsaio against plain JavaScript, in one process, strictly interleaved
 * (baseline, tsaio, baseline, tsaio, …; one warm-up round, then BENCH_RUNS counted rounds).
 *
 * 1. tasks   — create + await 1,000,000 tasks inside `run()` vs `Promise.all` over 1,000,000 async
 *              calls. Goal: median ratio ≤ 3× (on Node 24).
 * 2. sleeps  — 1,000,000 concurrent sleeps of 1–100 ms (same seeded durations on both sides) inside
 *              `run()` on the real clock vs `timers/promises` `setTimeout`. Goals: wall time ≤ 1.5×,
 *              heap bytes per pending sleep ≤ 2× (heapUsed after a full GC, all sleeps pending,
 *              minus before, divided by the count; measured in separate runs so the GC pauses do
 *              not distort the wall times).
 * 3. cancel  — 100,000 tasks sleeping 60 s: time to cancel them all and await their completion.
 *              Goal: < 200 ms (absolute). The plain-JS line (an AbortController per async function
 *              around a `timers/promises` sleep) is shown for context only.
 *
 * Node 20 caveat: AsyncLocalStorage (which tsaio enters once per task) turns on V8 promise hooks for
 * the rest of the process on Node 20, and they slow *every* promise, the plain-JS baselines included.
 * So, where AsyncLocalStorage uses promise hooks (Node < 24 without --experimental-async-context-frame),
 * the baselines are also measured alone before the first `run()` ("clean"), and the table shows
 * tsaio's median against that clean median too (not interleaved, so noisier: the heap's history
 * differs). On Node 24 (AsyncContextFrame) there is nothing to correct and the phase is skipped;
 * BENCH_CLEAN=1 / BENCH_CLEAN=0 forces it on or off.
 *
 * Scale matters: at 1,000,000 much of the time is garbage collection of objects that all stay alive
 * until the end (about 2/3 of the plain-JS baseline, 1/3 of tsaio), so the baseline swings with the
 * heap's state; a second table shows the GC time per row (v8.GCProfiler) and the ratio outside GC.
 * BENCH_QUICK's ratios (100,000, which fit the young generation) are not the goals' ratios, only a
 * smoke test. A warning is printed when the load average says other processes share the CPUs.
 *
 * Run: `npm run bench` (Node with --expose-gc). Env: BENCH_QUICK=1 (counts ÷ 10), BENCH_RUNS=n
 * (counted rounds, default 7, at least 5), BENCH_ONLY=tasks,sleeps,cancel (a subset).
 * Results: a table on stdout, progress on stderr, JSON in bench/results/core-<node version>.json.
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as nodeSleep } from "node:timers/promises";
import { GCProfiler } from "node:v8";
import { fileURLToPath } from "node:url";
import { CancelledError, createTask, gather, run, sleep, type Future, type Task } from "../src/index.js";
import { fmt, fullGc, gcExposed, gcMillis, heapUsed, interleave, median, now, prng, stats, table, type Sample, type Stats } from "./lib.js";

const QUICK = process.env.BENCH_QUICK === "1";
const SCALE = QUICK ? 10 : 1;
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 7) | 0);
const WARMUP = 1;
const ONLY = new Set((process.env.BENCH_ONLY ?? "tasks,sleeps,cancel").split(",").map((s) => s.trim()));

const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
const NODE_FLAGS = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
/** Whether AsyncLocalStorage is built on AsyncContextFrame (no promise hooks). */
const ALS_FRAME = NODE_FLAGS.includes("--no-async-context-frame")
  ? false
  : NODE_MAJOR >= 24 || NODE_FLAGS.includes("--experimental-async-context-frame");
const CLEAN = process.env.BENCH_CLEAN === undefined ? !ALS_FRAME : process.env.BENCH_CLEAN === "1";

const N_TASKS = 1_000_000 / SCALE;
const N_SLEEPS = 1_000_000 / SCALE;
const N_CANCEL = 100_000 / SCALE;
const SEED = 0x7a5a10;

// ------------------------------------------------------------------------------------ 1. tasks

async function work(i: number): Promise<number> {
  return i;
}

const expectedSum = (n: number): number => (n * (n - 1)) / 2;

function checkSum(sum: number, n: number, what: string): void {
  if (sum !== expectedSum(n)) throw new Error(`${what}: wrong sum ${sum}, expected ${expectedSum(n)}`);
}

async function tasksBaseline(): Promise<Sample> {
  const n = N_TASKS;
  const t0 = now();
  const ps = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) ps[i] = work(i);
  const rs = await Promise.all(ps);
  const ms = now() - t0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += rs[i];
  checkSum(sum, n, "tasks baseline");
  return { ms };
}

/** createTask for each, then a for-loop of awaits. `ms` is timed inside the main task; `runMs` around run(). */
async function tasksAwaitLoop(): Promise<Sample> {
  const n = N_TASKS;
  const r0 = now();
  const ms = await run(async () => {
    const t0 = now();
    const ts = new Array<Task<number>>(n);
    for (let i = 0; i < n; i++) ts[i] = createTask(() => work(i));
    let sum = 0;
    for (let i = 0; i < n; i++) sum += await ts[i];
    const ms = now() - t0;
    checkSum(sum, n, "tasks tsaio (await loop)");
    return ms;
  });
  return { ms, runMs: now() - r0 };
}

/** createTask for each, then one `await gather(tasks)`. */
async function tasksGather(): Promise<Sample> {
  const n = N_TASKS;
  const r0 = now();
  const ms = await run(async () => {
    const t0 = now();
    const ts = new Array<Task<number>>(n);
    for (let i = 0; i < n; i++) ts[i] = createTask(() => work(i));
    const rs = (await gather(ts)) as number[];
    const ms = now() - t0;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += rs[i];
    checkSum(sum, n, "tasks tsaio (gather)");
    return ms;
  });
  return { ms, runMs: now() - r0 };
}

// ----------------------------------------------------------------------------------- 2. sleeps

/** Integer durations 1–100 ms, the same sequence every time (Node timers are whole ms anyway). */
const durations: number[] = (() => {
  const rnd = prng(SEED);
  const d = new Array<number>(N_SLEEPS);
  for (let i = 0; i < N_SLEEPS; i++) d[i] = 1 + Math.floor(rnd() * 100);
  return d;
})();
const maxDuration = durations.reduce((a, b) => (b > a ? b : a), 0);

async function sleepsBaseline(): Promise<Sample> {
  const n = N_SLEEPS;
  const t0 = now();
  const ps = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) ps[i] = nodeSleep(durations[i]);
  await Promise.all(ps);
  const ms = now() - t0;
  return { ms, overMs: ms - maxDuration };
}

async function sleepsTsaio(): Promise<Sample> {
  const n = N_SLEEPS;
  const r0 = now();
  const ms = await run(async () => {
    const t0 = now();
    const fs = new Array<Future<void>>(n);
    for (let i = 0; i < n; i++) fs[i] = sleep(durations[i]);
    await gather(fs);
    return now() - t0;
  });
  return { ms, overMs: ms - maxDuration, runMs: now() - r0 };
}

/**
 * Heap per pending sleep. `created`: right after creating them all (the sleeps alone);
 * `combined`: after also handing them to Promise.all / gather (what awaiting them all costs).
 * The array holding them is allocated before the first reading, so it is not counted.
 */
async function sleepsHeapBaseline(): Promise<Sample> {
  const n = N_SLEEPS;
  const ps = new Array<Promise<void>>(n).fill(undefined as unknown as Promise<void>);
  fullGc();
  const h0 = heapUsed();
  for (let i = 0; i < n; i++) ps[i] = nodeSleep(durations[i]);
  fullGc();
  const h1 = heapUsed();
  const all = Promise.all(ps);
  fullGc();
  const h2 = heapUsed();
  await all;
  return { created: (h1 - h0) / n, combined: (h2 - h0) / n };
}

async function sleepsHeapTsaio(): Promise<Sample> {
  const n = N_SLEEPS;
  return run(async () => {
    const fs = new Array<Future<void>>(n).fill(undefined as unknown as Future<void>);
    fullGc();
    const h0 = heapUsed();
    for (let i = 0; i < n; i++) fs[i] = sleep(durations[i]);
    fullGc();
    const h1 = heapUsed();
    const all = gather(fs);
    fullGc();
    const h2 = heapUsed();
    await all;
    return { created: (h1 - h0) / n, combined: (h2 - h0) / n };
  });
}

// ----------------------------------------------------------------------------------- 3. cancel

async function sleeperTsaio(): Promise<void> {
  await sleep(60_000);
}

async function cancelTsaio(): Promise<Sample> {
  const n = N_CANCEL;
  return run(async () => {
    const s0 = now();
    const ts = new Array<Task<void>>(n);
    for (let i = 0; i < n; i++) ts[i] = createTask(sleeperTsaio);
    await sleep(1); // every task runs its first step and suspends in sleep(60_000)
    const startMs = now() - s0;
    for (let i = 0; i < n; i++) if (ts[i].done()) throw new Error("cancel tsaio: a task finished before being cancelled");
    const gcp = new GCProfiler();
    gcp.start();
    const t0 = now();
    for (let i = 0; i < n; i++) ts[i].cancel();
    const rs = await gather(ts, { returnExceptions: true });
    const ms = now() - t0;
    const gcMs = gcMillis(gcp.stop());
    let ok = 0;
    for (let i = 0; i < n; i++) if (rs[i] instanceof CancelledError && ts[i].cancelled()) ok++;
    if (ok !== n) throw new Error(`cancel tsaio: only ${ok} of ${n} tasks ended cancelled`);
    return { ms, startMs, gcMs };
  });
}

async function sleeperNode(signal: AbortSignal): Promise<void> {
  await nodeSleep(60_000, undefined, { signal });
}

async function cancelBaseline(): Promise<Sample> {
  const n = N_CANCEL;
  const s0 = now();
  const acs = new Array<AbortController>(n);
  const ps = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) {
    const ac = (acs[i] = new AbortController());
    ps[i] = sleeperNode(ac.signal);
  }
  await nodeSleep(1);
  const startMs = now() - s0;
  const gcp = new GCProfiler();
  gcp.start();
  const t0 = now();
  for (let i = 0; i < n; i++) acs[i].abort();
  const rs = await Promise.allSettled(ps);
  const ms = now() - t0;
  const gcMs = gcMillis(gcp.stop());
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const r = rs[i];
    if (r.status === "rejected" && (r.reason as Error).name === "AbortError") ok++;
  }
  if (ok !== n) throw new Error(`cancel baseline: only ${ok} of ${n} sleeps were aborted`);
  return { ms, startMs, gcMs };
}

// ---------------------------------------------------------------------------------- reporting

interface Goal {
  /** "ratio": the median paired ratio tsaio/baseline must be ≤ max; "abs": the tsaio median must be < max. */
  kind: "ratio" | "abs";
  max: number;
  note?: string;
}

interface Row {
  id: string;
  title: string;
  unit: string;
  baselineLabel: string;
  baseline: { samples: number[]; stats: Stats };
  tsaio: { samples: number[]; stats: Stats };
  /** The same baseline measured before tsaio ever ran (no promise hooks on Node 20), if any. */
  cleanBaseline: { samples: number[]; stats: Stats } | null;
  /** tsaio median / clean baseline median. */
  ratioVsClean: number | null;
  /** For time rows: GC ms per sample (baseline, tsaio) and the paired ratio of the time outside GC. */
  gc: { baseline: number[]; tsaio: number[]; ratioExclGc: number } | null;
  /** tsaio / baseline per round (the runs are interleaved, so each round is a pair). */
  ratios: number[];
  ratio: Stats;
  ratioOfMedians: number;
  goal: Goal;
  pass: boolean;
}

const rows: Row[] = [];

function addRow(
  id: string,
  title: string,
  unit: string,
  baselineLabel: string,
  base: Sample[],
  mine: Sample[],
  metric: string,
  goal: Goal,
  clean?: Sample[],
): void {
  const b = base.map((s) => s[metric]);
  const c = clean?.map((s) => s[metric]) ?? null;
  const hasGc = metric === "ms" && base.every((s) => s.gcMs !== undefined) && mine.every((s) => s.gcMs !== undefined);
  const gc = hasGc
    ? {
        baseline: base.map((s) => s.gcMs),
        tsaio: mine.map((s) => s.gcMs),
        ratioExclGc: median(mine.map((s, i) => (s.ms - s.gcMs) / (base[i].ms - base[i].gcMs))),
      }
    : null;
  const t = mine.map((s) => s[metric]);
  const ratios = t.map((v, i) => v / b[i]);
  const ratio = stats(ratios);
  const ts = stats(t);
  const pass = goal.kind === "ratio" ? ratio.median <= goal.max : ts.median < goal.max;
  rows.push({
    id,
    title,
    unit,
    baselineLabel,
    baseline: { samples: b, stats: stats(b) },
    tsaio: { samples: t, stats: ts },
    cleanBaseline: c === null ? null : { samples: c, stats: stats(c) },
    ratioVsClean: c === null ? null : median(t) / median(c),
    gc,
    ratios,
    ratio,
    ratioOfMedians: median(t) / median(b),
    goal,
    pass,
  });
}

/** The commit measured, with "+dirty" when src/ has uncommitted changes. */
function gitDescribe(): string {
  try {
    const cwd = dirname(fileURLToPath(import.meta.url));
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "../src"], { cwd, encoding: "utf8" }).trim() !== "";
    return `tsaio ${head}${dirty ? "+dirty" : ""}`;
  } catch {
    return "tsaio (no git)";
  }
}

const mmm = (s: Stats): string => `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}`;

function report(raw: Record<string, unknown>, started: number): void {
  const nodeVersion = process.version;
  const head = [
    `tsaio core benchmarks — ${gitDescribe()} — Node ${nodeVersion} (V8 ${process.versions.v8}), ${process.platform} ${process.arch}, ` +
      `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    `${RUNS} counted runs after ${WARMUP} warm-up, interleaved baseline/tsaio${QUICK ? ", BENCH_QUICK=1 (counts ÷ 10)" : ""}; ` +
      `tasks=${N_TASKS.toLocaleString("en")}, sleeps=${N_SLEEPS.toLocaleString("en")}, cancel=${N_CANCEL.toLocaleString("en")}` +
      (gcExposed ? "" : "; gc enabled late (no --expose-gc)"),
    `AsyncLocalStorage: ${ALS_FRAME ? "AsyncContextFrame (no promise hooks)" : "promise hooks (they slow every promise once tsaio has run)"}` +
      `; clean baselines ${CLEAN ? "measured" : "skipped"}; load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`,
  ];
  const t = [["benchmark", "unit", "baseline", "baseline min / med / max", "tsaio min / med / max", "ratio med", "clean base med", "vs clean", "goal", "result"]];
  for (const r of rows) {
    t.push([
      r.title,
      r.unit,
      r.baselineLabel,
      mmm(r.baseline.stats),
      mmm(r.tsaio.stats),
      `${r.ratio.median.toFixed(2)}×`,
      r.cleanBaseline === null ? "-" : fmt(r.cleanBaseline.stats.median),
      r.ratioVsClean === null ? "-" : `${r.ratioVsClean.toFixed(2)}×`,
      r.goal.kind === "ratio" ? `≤ ${r.goal.max}×` : `< ${r.goal.max} ${r.unit}`,
      r.pass ? "PASS" : "FAIL",
    ]);
  }
  const g = [["time spent in GC (medians)", "baseline GC ms", "tsaio GC ms", "tsaio GC share", "ratio excl. GC"]];
  for (const r of rows) {
    if (r.gc === null) continue;
    g.push([
      r.title,
      fmt(median(r.gc.baseline)),
      fmt(median(r.gc.tsaio)),
      `${Math.round((100 * median(r.gc.tsaio)) / r.tsaio.stats.median)}%`,
      `${r.gc.ratioExclGc.toFixed(2)}×`,
    ]);
  }
  const notes = rows.filter((r) => r.goal.note !== undefined).map((r) => `  ${r.title}: ${r.goal.note}`);
  const legend =
    "ratio med: median over rounds of tsaio/baseline (interleaved pairs); result judges it (or the tsaio median for an absolute goal).\n" +
    "clean base med / vs clean: the baseline measured before tsaio first ran (Node 20: before AsyncLocalStorage enabled promise hooks).";
  process.stdout.write(
    `\n${head.join("\n")}\n\n${table(t)}\n\n${legend}\n\n${table(g)}\n\n${notes.length > 0 ? `notes:\n${notes.join("\n")}\n` : ""}`,
  );

  const dir = join(dirname(fileURLToPath(import.meta.url)), "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `core-${nodeVersion}${QUICK ? "-quick" : ""}.json`);
  const json = {
    node: nodeVersion,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? "?",
    cpuCount: cpus().length,
    date: new Date().toISOString(),
    git: gitDescribe(),
    loadAverage: { start: loadAtStart, end: loadavg()[0] },
    quick: QUICK,
    asyncLocalStorage: ALS_FRAME ? "AsyncContextFrame" : "promise hooks",
    runs: RUNS,
    warmup: WARMUP,
    gcExposed,
    counts: { tasks: N_TASKS, sleeps: N_SLEEPS, cancel: N_CANCEL },
    seed: SEED,
    durationSec: (now() - started) / 1000,
    results: rows,
    raw,
  };
  writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
  process.stdout.write(`\nresults written to ${file}\n`);
}

// --------------------------------------------------------------------------------------- main

const loadAtStart = loadavg()[0];

async function main(): Promise<void> {
  const started = now();
  if (loadAtStart > cpus().length * 0.5) {
    process.stderr.write(
      `warning: load average ${loadAtStart.toFixed(2)} on ${cpus().length} CPUs: other processes compete for the CPU and the GC threads; numbers will be noisy\n`,
    );
  }
  const raw: Record<string, unknown> = {};

  // Clean baselines first, before any run(): see the Node 20 caveat at the top.
  const clean: Record<string, Sample[]> = {};
  if (CLEAN && ONLY.has("tasks")) clean.tasks = (await interleave("clean", { "tasks baseline": tasksBaseline }, RUNS, WARMUP))["tasks baseline"];
  if (CLEAN && ONLY.has("sleeps")) {
    clean.sleeps = (await interleave("clean", { "sleeps baseline": sleepsBaseline }, RUNS, WARMUP))["sleeps baseline"];
    clean.sleepsHeap = (await interleave("clean", { "sleeps-heap baseline": sleepsHeapBaseline }, RUNS, WARMUP, { gc: false }))[
      "sleeps-heap baseline"
    ];
  }
  raw.clean = clean;

  if (ONLY.has("tasks")) {
    const r = await interleave(
      "tasks",
      { baseline: tasksBaseline, "tsaio await-loop": tasksAwaitLoop, "tsaio gather": tasksGather },
      RUNS,
      WARMUP,
    );
    raw.tasks = r;
    const note = "the ≤ 3× goal is set for Node 24 (AsyncLocalStorage costs more per task on Node 20)";
    const title = `${N_TASKS.toLocaleString("en")} tasks create+await`;
    addRow("tasks.awaitLoop", `${title} (await loop)`, "ms", "Promise.all", r.baseline, r["tsaio await-loop"], "ms", { kind: "ratio", max: 3, note }, clean.tasks);
    addRow("tasks.gather", `${title} (gather)`, "ms", "Promise.all", r.baseline, r["tsaio gather"], "ms", { kind: "ratio", max: 3, note }, clean.tasks);
  }

  if (ONLY.has("sleeps")) {
    const w = await interleave("sleeps", { baseline: sleepsBaseline, tsaio: sleepsTsaio }, RUNS, WARMUP);
    const h = await interleave("sleeps-heap", { baseline: sleepsHeapBaseline, tsaio: sleepsHeapTsaio }, RUNS, WARMUP, { gc: false });
    raw.sleeps = w;
    raw.sleepsHeap = h;
    const title = `${N_SLEEPS.toLocaleString("en")} sleeps 1–100 ms`;
    addRow("sleeps.wall", `${title}: wall`, "ms", "timers/promises", w.baseline, w.tsaio, "ms", { kind: "ratio", max: 1.5 }, clean.sleeps);
    addRow("sleeps.heapCreated", `${title}: heap/pending sleep`, "B", "timers/promises", h.baseline, h.tsaio, "created", { kind: "ratio", max: 2 }, clean.sleepsHeap);
    addRow("sleeps.heapCombined", `${title}: heap/sleep incl. gather`, "B", "+ Promise.all", h.baseline, h.tsaio, "combined", {
      kind: "ratio",
      max: 2,
      note: "heap with every sleep also handed to gather() vs Promise.all() (informative; the goal row is the one above)",
    }, clean.sleepsHeap);
  }

  if (ONLY.has("cancel")) {
    // These samples time only the cancellation window, and measure their GC time in it themselves.
    const r = await interleave("cancel", { baseline: cancelBaseline, tsaio: cancelTsaio }, RUNS, WARMUP, { gc: false });
    raw.cancel = r;
    addRow("cancel", `cancel ${N_CANCEL.toLocaleString("en")} sleeping tasks`, "ms", "AbortController", r.baseline, r.tsaio, "ms", {
      kind: "abs",
      max: 200,
      note: "goal is absolute (tsaio median); the baseline aborts one AbortController per async fn awaiting timers/promises",
    });
  }

  report(raw, started);

  // The process must exit by itself: after one more macrotask turn nothing may still be scheduled.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const left = process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate");
  if (left.length > 0) process.stderr.write(`warning: resources still active at the end: ${left.join(", ")}\n`);
}

await main();
