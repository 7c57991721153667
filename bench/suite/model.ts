/**
 * The shape of the benchmark suite: what a workload declares (cases, sides, goals) and what a run
 * writes to `bench/results/<node-version>.json` (read back by `bench/tools/report.ts` and `bench/tools/check.ts`).
 *
 * Every metric is "lower is better" (ms, ns per operation, µs per job, bytes per sleep), so that
 * one rule reads every table: a ratio > 1 against tsaio means tsaio is that many times better.
 * @module
 */
import type { Sample } from "../tools/lib.js";

/**
 * Who a side is: the hand-written platform floor, tsaio (exactly one per case: the side the goals
 * judge), another way of doing it with tsaio ("variant"), a JS peer library, CPython's asyncio, or
 * a reference point that is none of these (the main thread in W8).
 */
export type SideKind = "floor" | "tsaio" | "variant" | "peer" | "python" | "reference";

/** One system doing a case's work once; returns one sample holding at least the case's metric. */
export interface Side {
  name: string;
  kind: SideKind;
  run: () => Promise<Sample>;
  /** Shown under the table (how this side does the work, when that is not obvious). */
  note?: string;
  /** false: no warm-up round (CPython: every round is a fresh interpreter, nothing to warm). */
  warmup?: boolean;
}

/**
 * A goal from the issues, checked on tsaio's median:
 * - `within`: tsaio ≤ k × ref (e.g. W1 ≤ 3× the Promise floor);
 * - `faster`: ref ≥ k × tsaio, i.e. tsaio is at least k times faster (e.g. W3 ≥ 3× p-limit);
 * - `absolute`: tsaio ≤ k in the case's unit (e.g. W5 ≤ 200 ns per item, i.e. ≥ 5M items/s).
 * `ref` names a side, or "best peer" (the fastest side of kind "peer"). `side` judges another
 * side than the case's tsaio side (a tsaio variant held to the same goal).
 */
export interface GoalDef {
  text: string;
  kind: "within" | "faster" | "absolute";
  k: number;
  ref?: string;
  side?: string;
  /** Why this goal is out of reach when it is missed (printed with the miss, never when it passes). */
  ifMissed?: string;
}

/** One measured comparison: the same work done by every side, interleaved in one process. */
export interface CaseDef {
  /** "W1a", "W1b", …: stable, used by bench:check and the report. */
  id: string;
  workload: string;
  title: string;
  /** The sample key that is the case's metric. */
  metric: string;
  unit: string;
  /** The side everything is divided by in "× floor". */
  floor: string;
  sides: Side[];
  goals: GoalDef[];
  /** Counted rounds (default: the suite's BENCH_RUNS) and warm-up rounds (default 2). */
  runs?: number;
  warmup?: number;
  /** false when the sides force collections themselves (heap measurements). */
  gc?: boolean;
  /** Extra explanation printed under the table. */
  notes?: string[];
}

/** A workload module: builds its cases (setup may start pools), and cleans up after them. */
export interface Workload {
  id: string;
  title: string;
  /** What is measured and how, one paragraph for BENCHMARKS.md. */
  description: string;
  cases(ctx: SuiteContext): Promise<CaseDef[]>;
  teardown?(): Promise<void>;
}

export interface SuiteContext {
  quick: boolean;
  /** Runs one case of bench/asyncio_bench.py in a fresh CPython process, or null without Python ≥ 3.11. */
  python: ((kase: string, n: number, ...args: number[]) => Promise<Sample>) | null;
}

// ------------------------------------------------------------------------------- the results file

export interface SystemResult {
  name: string;
  kind: SideKind;
  samples: number[];
  min: number;
  median: number;
  max: number;
  /** median / the floor's median. */
  vsFloor: number;
  /** median / tsaio's median (> 1: tsaio is faster). */
  vsTsaio: number;
  note?: string;
  /** Other keys of the samples, by key: their medians (GC time, start-up time…). */
  extra?: Record<string, number>;
}

export interface GoalResult {
  text: string;
  kind: GoalDef["kind"];
  k: number;
  ref?: string;
  /** The side the "best peer" turned out to be. */
  refResolved?: string;
  /** The judged side, when it is not the case's tsaio side. */
  side?: string;
  /** The goal's explanation, present only when it was missed. */
  whyMissed?: string;
  /** within: tsaio/ref; faster: ref/tsaio; absolute: tsaio's median. */
  value: number;
  pass: boolean;
}

export interface CaseResult {
  id: string;
  workload: string;
  title: string;
  unit: string;
  floor: string;
  runs: number;
  warmup: number;
  systems: SystemResult[];
  goals: GoalResult[];
  notes: string[];
}

export interface WorkloadResult {
  id: string;
  title: string;
  description: string;
  cases: CaseResult[];
}

export interface SuiteResult {
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  python: string | null;
  versions: Record<string, string>;
  date: string;
  command: string;
  quick: boolean;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  durationSeconds: number;
  workloads: WorkloadResult[];
  /** Later runs (BENCH_MERGE=1) that replaced some workloads: which, when, and under what load. */
  merged?: { workloads: string[]; date: string; durationSeconds: number; loadAverageAtStart: number[]; loadAverageAtEnd: number[] }[];
}

/** The goal "tsaio is ≥ k× faster than CPython", or none when CPython is not in the run. */
export function fasterThanCPython(ctx: SuiteContext, k: number, ifMissed?: string): GoalDef[] {
  if (ctx.python === null) return [];
  const goal: GoalDef = { text: `≥ ${k}× faster than CPython`, kind: "faster", k, ref: "CPython asyncio" };
  if (ifMissed !== undefined) goal.ifMissed = ifMissed;
  return [goal];
}

/** Evaluates a goal against a case's per-system medians. */
export function evalGoal(goal: GoalDef, systems: readonly SystemResult[]): GoalResult {
  const by = new Map(systems.map((s) => [s.name, s]));
  const tsaio = goal.side === undefined ? systems.find((s) => s.kind === "tsaio") : by.get(goal.side);
  if (tsaio === undefined) throw new Error(`goal "${goal.text}": no side ${goal.side ?? "of kind tsaio"}`);
  let ref: SystemResult | undefined;
  if (goal.ref === "best peer") {
    for (const s of systems) if (s.kind === "peer" && (ref === undefined || s.median < ref.median)) ref = s;
  } else if (goal.ref !== undefined) ref = by.get(goal.ref);
  if (goal.kind !== "absolute" && ref === undefined) throw new Error(`goal "${goal.text}": no side ${goal.ref}`);
  const value = goal.kind === "absolute" ? tsaio.median : goal.kind === "within" ? tsaio.median / (ref as SystemResult).median : (ref as SystemResult).median / tsaio.median;
  const pass = goal.kind === "faster" ? value >= goal.k : value <= goal.k;
  const out: GoalResult = { text: goal.text, kind: goal.kind, k: goal.k, value, pass };
  if (goal.ref !== undefined) out.ref = goal.ref;
  if (goal.side !== undefined) out.side = goal.side;
  if (!pass && goal.ifMissed !== undefined) out.whyMissed = goal.ifMissed;
  if (goal.ref === "best peer" && ref !== undefined) out.refResolved = ref.name;
  return out;
}
