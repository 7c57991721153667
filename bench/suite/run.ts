/**
 * The benchmark suite (`npm run bench`): workloads W1–W8, each running tsaio and every comparator
 * interleaved in this one process (every side once per round, in an order that rotates each round;
 * 2 warm-up rounds, then BENCH_RUNS counted rounds; a full GC before every sample, outside the
 * measurement). CPython's
 * asyncio takes its turn in the same rotation, in a fresh `python3` per round, timed inside Python.
 *
 * Writes `bench/results/<node-version>.json` (`-quick.json` with BENCH_QUICK=1), then regenerates
 * BENCHMARKS.md and the chart from every results file (`bench/tools/report.ts`).
 *
 * Env: BENCH_QUICK=1 (bench:check: the same counts and rounds, at most 20, but only the sides the
 * goals compare tsaio with, CPython excepted), BENCH_RUNS=n (counted rounds, default 5, at least 5), BENCH_ONLY=W1,W4b (workloads or cases), BENCH_PYTHON=/path/to/python3,
 * BENCH_NO_REPORT=1 (skip the report), BENCH_OUT=path (write the JSON there instead), BENCH_MERGE=1 (with BENCH_ONLY:
 * replace only the selected workloads in this Node's existing results file and regenerate the report, so a
 * new workload joins the published tables without re-running the rest).
 * @module
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, interleave, machine, median, now, table, type Sample } from "../tools/lib.js";
import { evalGoal, type CaseDef, type CaseResult, type SuiteContext, type SuiteResult, type SystemResult, type Workload, type WorkloadResult } from "./model.js";
import { w1 } from "./w1-tasks.js";
import { w2 } from "./w2-sleeps.js";
import { w3 } from "./w3-bounded.js";
import { w4 } from "./w4-lock.js";
import { w5 } from "./w5-queue.js";
import { w6 } from "./w6-fanout.js";
import { w7 } from "./w7-pool.js";
import { w8 } from "./w8-cpu.js";
import { w9 } from "./w9-threading.js";
import { w10 } from "./w10-multiprocessing.js";
import { w11 } from "./w11-redis.js";
import { w12 } from "./w12-bullmq.js";

const WORKLOADS: Workload[] = [w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12];

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5) | 0);
const ONLY = (process.env.BENCH_ONLY ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "");
const MERGE = process.env.BENCH_MERGE === "1" && ONLY.length > 0;
// "W1" selects W1 and its cases W1a, W1b…, never W10–W12.
const within = (id: string, prefix: string): boolean => id === prefix || (id.startsWith(prefix) && /^[a-z]$/.test(id.slice(prefix.length)));
const selected = (id: string): boolean => ONLY.length === 0 || ONLY.some((o) => within(id, o));

// ---------------------------------------------------------------------------------------- python

interface Python {
  exe: string;
  version: string;
}

/** python3 (or BENCH_PYTHON) if it is CPython ≥ 3.11 (asyncio.timeout); null otherwise. */
function findPython(): Python | null {
  const exe = process.env.BENCH_PYTHON ?? "python3";
  const r = spawnSync(exe, ["-c", "import sys, platform; print(sys.version_info >= (3, 11) and platform.python_implementation() == 'CPython', platform.python_version())"], {
    encoding: "utf8",
  });
  if (r.status !== 0) return null;
  const [ok, version] = r.stdout.trim().split(" ");
  return ok === "True" ? { exe, version } : null;
}

function pythonRunner(py: Python): SuiteContext["python"] {
  const script = join(root, "bench", "asyncio_bench.py");
  return (kase, n, ...args) =>
    new Promise<Sample>((resolve, reject) => {
      execFile(py.exe, [script, kase, String(n), ...args.map(String)], { encoding: "utf8", maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`python ${kase} failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as Sample);
      });
    });
}

// ------------------------------------------------------------------------------------- measuring

/** Runs one case: every side once per round, in an order that rotates each round; returns the result row. */
async function runCase(c: CaseDef): Promise<CaseResult> {
  if (QUICK) c = { ...c, sides: c.sides.filter((s) => judged(c, s.name, s.kind)), runs: Math.min(c.runs ?? RUNS, 20) };
  const runs = Math.max(c.runs ?? RUNS, 5);
  const warmup = c.warmup ?? 2;
  // Node's GC time means nothing for CPython, which runs in its own process.
  const sides = c.sides.map((side) => ({ name: side.name, run: side.run, warmup: side.warmup, gc: side.kind !== "python" }));
  const byName = await interleave(c.id, sides, runs, warmup, { gc: c.gc, rotate: true });
  const samples = new Map<string, Sample[]>(Object.entries(byName));
  for (const [name, ss] of samples)
    for (const s of ss) if (!Number.isFinite(s[c.metric])) throw new Error(`${c.id} ${name}: no metric ${c.metric} in ${JSON.stringify(s)}`);
  const medianOf = (name: string): number => median((samples.get(name) as Sample[]).map((s) => s[c.metric]));
  const floor = medianOf(c.floor);
  const tsaioSide = c.sides.find((s) => s.kind === "tsaio");
  const tsaio = tsaioSide === undefined ? NaN : medianOf(tsaioSide.name);
  const systems: SystemResult[] = c.sides.map((side) => {
    const ss = samples.get(side.name) as Sample[];
    const xs = ss.map((s) => s[c.metric]);
    const m = median(xs);
    const extra: Record<string, number> = {};
    for (const k of Object.keys(ss[0])) if (k !== c.metric) extra[k] = median(ss.map((s) => s[k]));
    const out: SystemResult = { name: side.name, kind: side.kind, samples: xs, min: Math.min(...xs), median: m, max: Math.max(...xs), vsFloor: m / floor, vsTsaio: m / tsaio };
    if (side.note !== undefined) out.note = side.note;
    if (Object.keys(extra).length > 0) out.extra = extra;
    return out;
  });
  return { id: c.id, workload: c.workload, title: c.title, unit: c.unit, floor: c.floor, runs, warmup, systems, goals: c.goals.map((g) => evalGoal(g, systems)), notes: c.notes ?? [] };
}

/** Whether a side takes part in a quick run: the floor, tsaio, and what the goals compare against. */
function judged(c: CaseDef, name: string, kind: string): boolean {
  if (name === c.floor || kind === "tsaio") return true;
  return c.goals.some((g) => g.side === name || g.ref === name || (g.ref === "best peer" && kind === "peer"));
}

function printCase(r: CaseResult): void {
  const rows = [["system", `median ${r.unit}`, "min", "max", "× floor", "× tsaio"]];
  for (const s of r.systems) rows.push([s.kind === "tsaio" ? `* ${s.name}` : `  ${s.name}`, fmt(s.median), fmt(s.min), fmt(s.max), `${s.vsFloor.toFixed(2)}×`, `${s.vsTsaio.toFixed(2)}×`]);
  console.log(`\n${r.id} — ${r.title}`);
  console.log(table(rows));
  for (const g of r.goals) console.log(`  goal ${g.text}: ${goalValue(g, r.unit)} ${g.pass ? "PASS" : "MISSED"}`);
}

function goalValue(g: { kind: string; value: number; refResolved?: string }, unit: string): string {
  const v = g.kind === "absolute" ? `${fmt(g.value)} ${unit}` : `${g.value.toFixed(2)}×`;
  return g.refResolved === undefined ? v : `${v} (best peer: ${g.refResolved})`;
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const t0 = now();
  const start = loadavg();
  // A quick run (bench:check) leaves CPython out: it is the slowest side, and not a regression baseline.
  const py = QUICK ? null : findPython();
  if (py === null && !QUICK) process.stderr.write("CPython ≥ 3.11 not found (python3 or BENCH_PYTHON): its rows are skipped\n");
  const ctx: SuiteContext = { quick: QUICK, python: py === null ? null : pythonRunner(py) };
  if (start[0] > 0.5) process.stderr.write(`note: load average ${start.map((x) => x.toFixed(2)).join(" ")}: other processes share the CPUs\n`);

  const workloads: WorkloadResult[] = [];
  for (const w of WORKLOADS) {
    if (!selected(w.id) && !ONLY.some((o) => within(o, w.id))) continue;
    process.stderr.write(`\n${w.id} — ${w.title}\n`);
    let cases: CaseDef[];
    try {
      cases = (await w.cases(ctx)).filter((c) => selected(c.id) || selected(w.id));
    } catch (e) {
      // A workload that needs what this machine lacks (W11–W12: a Redis server) is left out, loudly.
      process.stderr.write(`${w.id} skipped: its setup failed: ${(e as Error).message}\n`);
      await w.teardown?.();
      continue;
    }
    const results: CaseResult[] = [];
    try {
      for (const c of cases) {
        const r = await runCase(c);
        printCase(r);
        results.push(r);
      }
    } finally {
      await w.teardown?.();
    }
    workloads.push({ id: w.id, title: w.title, description: w.description, cases: results });
  }

  const versions: Record<string, string> = {};
  for (const p of ["effection", "effect", "p-limit", "p-queue", "async-mutex", "piscina", "tinypool", "workerpool"]) versions[p] = versionOf(p);
  const result: SuiteResult = {
    ...machine(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    python: py === null ? null : `CPython ${py.version}`,
    versions,
    date: new Date().toISOString(),
    command: process.env.BENCH_COMMAND ?? (QUICK ? "npm run bench:check" : "npm run bench"),
    quick: QUICK,
    loadAverageAtStart: start,
    loadAverageAtEnd: loadavg(),
    durationSeconds: Math.round((now() - t0) / 1000),
    workloads,
  };
  const out = process.env.BENCH_OUT ?? join(root, "bench", "results", `${process.version}${QUICK ? "-quick" : ""}.json`);
  mkdirSync(dirname(out), { recursive: true });
  if (MERGE) {
    // The earlier run's other workloads stay as they were measured (their machine lines too); the
    // selected ones are replaced, in suite order.
    const before = JSON.parse(readFileSync(out, "utf8")) as SuiteResult;
    const fresh = new Map(workloads.map((w) => [w.id, w]));
    const order = WORKLOADS.map((w) => w.id);
    const merged = [...before.workloads.filter((w) => !fresh.has(w.id)), ...workloads].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    result.workloads = merged;
    result.date = before.date;
    result.durationSeconds = before.durationSeconds;
    result.loadAverageAtStart = before.loadAverageAtStart;
    result.loadAverageAtEnd = before.loadAverageAtEnd;
    result.merged = [...(before.merged ?? []), { workloads: workloads.map((w) => w.id), date: new Date().toISOString(), durationSeconds: Math.round((now() - t0) / 1000), loadAverageAtStart: start, loadAverageAtEnd: loadavg() }];
  }
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  console.log(`\n${result.durationSeconds} s; results: ${out}`);

  const missed = workloads.flatMap((w) => w.cases.flatMap((c) => c.goals.filter((g) => !g.pass).map((g) => `${c.id} ${g.text}: ${goalValue(g, c.unit)}`)));
  console.log(missed.length === 0 ? "Every goal met." : `Goals missed on this run:\n  ${missed.join("\n  ")}`);

  if (process.env.BENCH_NO_REPORT !== "1" && (ONLY.length === 0 || MERGE) && !QUICK) {
    const { writeReport } = await import("../tools/report.js");
    const files = await writeReport();
    console.log(`report: ${files.markdown}, ${files.svg}`);
  }
}

await main();
