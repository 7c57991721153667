/**
 * The benchmark report: reads the suite's result files (`bench/results/<node-version>.json`, written
 * by `bench/suite`) and writes `BENCHMARKS.md` plus a chart, `bench/results/chart.svg`.
 *
 * Per Node major version the newest result file (by its `date`) is used; quick runs are left out
 * unless asked for (`--quick`), and even then a full run beats a quick one for the same major.
 * The parts: `report/load.ts` (which results), `report/markdown.ts` (the text),
 * `report/chart.ts` (the SVG), `report/format.ts` (numbers, for both).
 *
 * Run it with `npm run bench:report` (or `node --import tsx bench/tools/report.ts [--quick]`).
 * @module
 */
import { writeFile, mkdir } from "node:fs/promises";
import { realpathSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { renderSvg } from "./report/chart.js";
import { loadResults, pickResults } from "./report/load.js";
import { renderMarkdown } from "./report/markdown.js";

const here = fileURLToPath(import.meta.url);
/** The repo root: this file lives in `<root>/bench/tools/`. */
const repoRoot = path.resolve(path.dirname(here), "..", "..");

/** Where `writeReport` reads and writes. */
export interface ReportOptions {
  /** Where the result files are (default `bench/results`, relative to the repo root). */
  resultsDir?: string;
  /** The markdown output (default `BENCHMARKS.md` at the repo root). */
  markdown?: string;
  /** The chart output (default `bench/results/chart.svg`). */
  svg?: string;
  /** Also consider quick runs (a full run of the same major still wins). */
  includeQuick?: boolean;
}

// --------------------------------------------------------------------------------------- API

/** Writes BENCHMARKS.md and the chart from the chosen result files; returns their paths. */
export async function writeReport(options: ReportOptions = {}): Promise<{ markdown: string; svg: string }> {
  const resultsDir = path.resolve(repoRoot, options.resultsDir ?? "bench/results");
  const markdown = path.resolve(repoRoot, options.markdown ?? "BENCHMARKS.md");
  const svg = path.resolve(repoRoot, options.svg ?? "bench/results/chart.svg");
  const runs = pickResults(await loadResults(resultsDir), options.includeQuick ?? false);
  if (runs.length === 0) {
    throw new Error(`no suite results in ${resultsDir}${options.includeQuick ? "" : " (quick runs were skipped; try --quick)"}; run npm run bench first`);
  }
  const text = renderMarkdown(runs, path.dirname(markdown), svg);
  // The chart shows one run: the newest major that has a full run (quick runs are too noisy to draw).
  const chartRun = runs.find((r) => !r.quick) ?? runs[0];
  const chart = await renderSvg(chartRun.result, chartRun.quick);
  await mkdir(path.dirname(markdown), { recursive: true });
  await mkdir(path.dirname(svg), { recursive: true });
  await writeFile(markdown, text);
  await writeFile(svg, chart);
  return { markdown, svg };
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(path.resolve(arg)) === realpathSync(here);
  } catch {
    return false;
  }
}

if (isMain()) {
  try {
    const out = await writeReport({ includeQuick: process.argv.includes("--quick") });
    console.log(out.markdown);
    console.log(out.svg);
  } catch (err) {
    console.error(`bench:report: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
