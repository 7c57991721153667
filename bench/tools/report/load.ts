/**
 * The report's input: the suite's result files in `bench/results`, and the choice among them (per
 * Node major the newest full run; quick runs only when asked for, and a full run still wins).
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import type { CaseResult, SuiteResult, WorkloadResult } from "../../suite/model.js";

/** One result file that was read and recognised as a suite result. */
export interface LoadedResult {
  file: string;
  result: SuiteResult;
  major: number;
  quick: boolean;
}

/**
 * A light shape check: `bench/results` also holds the older per-script result files
 * (`core-v24.21.0.json`…), which are not suite results and must be skipped, not crash the report.
 */
function isSuiteResult(x: unknown): x is SuiteResult {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Record<string, unknown>;
  return typeof r.node === "string" && typeof r.date === "string" && Array.isArray(r.workloads);
}

export function majorOf(node: string): number {
  return Number.parseInt(node.replace(/^v/, ""), 10);
}

export async function loadResults(dir: string): Promise<LoadedResult[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  const out: LoadedResult[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, "utf8"));
    } catch {
      continue; // not JSON (or unreadable): not ours
    }
    if (!isSuiteResult(parsed)) continue;
    const major = majorOf(parsed.node);
    if (!Number.isFinite(major)) continue;
    out.push({ file, result: parsed, major, quick: parsed.quick === true || name.endsWith("-quick.json") });
  }
  return out;
}

/** Per major: a full run beats a quick one, then the newest date wins. Newest major first. */
export function pickResults(all: readonly LoadedResult[], includeQuick: boolean): LoadedResult[] {
  const best = new Map<number, LoadedResult>();
  const better = (a: LoadedResult, b: LoadedResult): boolean => {
    if (a.quick !== b.quick) return !a.quick;
    return Date.parse(a.result.date) > Date.parse(b.result.date);
  };
  for (const r of all) {
    if (r.quick && !includeQuick) continue;
    const cur = best.get(r.major);
    if (cur === undefined || better(r, cur)) best.set(r.major, r);
  }
  return [...best.values()].sort((a, b) => b.major - a.major);
}

/** The newest full (not quick) suite run in `dir` on Node major `major`, or null (bench:check's baseline). */
export async function newestFullRun(dir: string, major: number): Promise<SuiteResult | null> {
  return pickResults(await loadResults(dir), false).find((l) => l.major === major)?.result ?? null;
}

// --------------------------------------------------------------------------- the union of runs

/**
 * Workloads and cases across the chosen runs, in the newest run's order; a workload or case only
 * some runs have (e.g. filtered with BENCH_ONLY) still gets its section.
 */
export function unionWorkloads(runs: readonly LoadedResult[]): { workload: WorkloadResult; caseIds: string[] }[] {
  const order: { workload: WorkloadResult; caseIds: string[] }[] = [];
  const byId = new Map<string, { workload: WorkloadResult; caseIds: string[] }>();
  for (const r of runs) {
    for (const w of r.result.workloads) {
      let entry = byId.get(w.id);
      if (entry === undefined) {
        entry = { workload: w, caseIds: [] };
        byId.set(w.id, entry);
        order.push(entry);
      }
      for (const c of w.cases) if (!entry.caseIds.includes(c.id)) entry.caseIds.push(c.id);
    }
  }
  return order;
}

export function findCase(r: SuiteResult, id: string): CaseResult | undefined {
  for (const w of r.workloads) for (const c of w.cases) if (c.id === id) return c;
  return undefined;
}

export function firstCase(runs: readonly LoadedResult[], id: string): CaseResult {
  for (const r of runs) {
    const c = findCase(r.result, id);
    if (c !== undefined) return c;
  }
  throw new Error(`unknown case ${id}`);
}
