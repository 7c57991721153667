/**
 * The benchmark report: reads the suite's result files (`bench/results/<node-version>.json`, written
 * by `bench/suite`) and writes `BENCHMARKS.md` plus a chart, `bench/results/chart.svg`.
 *
 * Per Node major version the newest result file (by its `date`) is used; quick runs are left out
 * unless asked for (`--quick`), and even then a full run beats a quick one for the same major. The
 * chart is a vega-lite spec rendered to SVG headlessly (`renderer: "none"`), so that neither a
 * browser nor the `canvas` package is needed.
 *
 * Run it with `npm run bench:report` (or `node --import tsx bench/report.ts [--quick]`).
 * @module
 */
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { realpathSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { CaseResult, GoalResult, SuiteResult, SystemResult, WorkloadResult } from "./suite/model.js";

const here = fileURLToPath(import.meta.url);
/** The repo root: this file lives in `<root>/bench/`. */
const repoRoot = path.resolve(path.dirname(here), "..");

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

/** One result file that was read and recognised as a suite result. */
interface LoadedResult {
  file: string;
  result: SuiteResult;
  major: number;
  quick: boolean;
}

// ---------------------------------------------------------------------------------- loading

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

async function loadResults(dir: string): Promise<LoadedResult[]> {
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
function pickResults(all: readonly LoadedResult[], includeQuick: boolean): LoadedResult[] {
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

// ------------------------------------------------------------------------------- formatting

/** About 3 significant digits; thousands get separators and no decimals (1234 → "1,234"). */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return "—";
  if (Math.abs(x) >= 1000) return x.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (x === 0) return "0";
  return x.toLocaleString("en-US", { minimumSignificantDigits: 3, maximumSignificantDigits: 3 });
}

/** Ratios: two decimals and "×". */
export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return "—";
  return `${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}×`;
}

function fmtGoalValue(g: GoalResult, unit: string): string {
  if (g.kind === "absolute") return `${fmtNum(g.value)} ${unit}`;
  // A miss by less than the rounding (1.003× against "≤ 1×") must not print as "1.00×": show more digits.
  const shown = fmtRatio(g.value);
  return shown === fmtRatio(g.k) && g.value !== g.k ? `${g.value.toFixed(4)}×` : shown;
}

function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function fmtLoad(xs: readonly number[] | undefined): string {
  return xs === undefined || xs.length === 0 ? "—" : xs.map((x) => x.toFixed(2)).join(" / ");
}

/** Table cells must not contain a raw `|` or a newline. */
/** A markdown link target: relative to the markdown file's folder, with forward slashes. */
function link(fromDir: string, to: string): string {
  return path.relative(fromDir, to).split(path.sep).join("/");
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

const PASS = "✅";
const MISSED = "❌ **MISSED**";

function goalRef(g: GoalResult): string {
  if (g.ref === undefined) return "";
  return g.refResolved !== undefined ? ` (vs ${g.refResolved})` : "";
}

// --------------------------------------------------------------------------- the union of runs

/**
 * Workloads and cases across the chosen runs, in the newest run's order; a workload or case only
 * some runs have (e.g. filtered with BENCH_ONLY) still gets its section.
 */
function unionWorkloads(runs: readonly LoadedResult[]): { workload: WorkloadResult; caseIds: string[] }[] {
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

function findCase(r: SuiteResult, id: string): CaseResult | undefined {
  for (const w of r.workloads) for (const c of w.cases) if (c.id === id) return c;
  return undefined;
}

function firstCase(runs: readonly LoadedResult[], id: string): CaseResult {
  for (const r of runs) {
    const c = findCase(r.result, id);
    if (c !== undefined) return c;
  }
  throw new Error(`unknown case ${id}`);
}

// --------------------------------------------------------------------------------- markdown

function methodSection(): string[] {
  return [
    "## Method",
    "",
    "Every workload runs tsaio and every comparator interleaved in the same process (every side once per round, in an order that rotates each round): warm-up " +
      "rounds (2 unless a table says otherwise), then at least 5 counted rounds, with a full GC before every sample, outside the measurement. " +
      "Tables report the median with the min – max range. CPython runs in a fresh `python3` process per " +
      "round, timed inside Python (so interpreter start-up is excluded), and takes its turn in the same " +
      "rotation. The floor is hand-written plain JS in the same shape as the workload (Promises, `timers/promises`, " +
      "AbortController, raw `postMessage`): the platform's own tools with no library, written plainly. It is not always the least " +
      "the platform could do (W2c's floor pays for Node's AbortError stack traces; the raw pool does not batch like tsaio's), and the notes say where.",
    "",
    "Every side checks its own results (sums, order, which requests timed out and saw the cancellation, one lock holder at a time " +
      "and every contender served), so a side that skips work fails the run instead of looking fast. " +
      "A run on a shared machine has noise of a few percent: a goal within that distance of its limit can flip between runs.",
    "",
    "Every metric is lower-is-better. **× floor** = median / the floor's median. " +
      "**× tsaio** = median / tsaio's median: above 1 means tsaio is faster.",
    "",
  ];
}

function reproduceSection(): string[] {
  return [
    "## How to reproduce",
    "",
    "- `npm run bench`: the whole suite on the current Node (under 10 minutes on a 2-core machine); " +
      "writes `bench/results/<node-version>.json`.",
    "- `npm run bench:all`: the suite on Node 20 and Node 24 (fetched from the npm registry), then the report.",
    "- `npm run bench:check`: a quick regression check against the goals (not part of CI).",
    "- `npm run bench:report`: regenerates this file and the chart from `bench/results`.",
    "",
    "Environment: `BENCH_QUICK=1` (what `bench:check` runs: the same inputs and rounds (at most 20), but only the sides " +
      "the goals compare tsaio with, no CPython; written as `<node-version>-quick.json`), " +
      "`BENCH_RUNS=n` (counted rounds), `BENCH_ONLY=W1,W4b` (only these workloads or cases), `BENCH_PYTHON=/path/to/python3`.",
    "",
  ];
}

function machineSection(runs: readonly LoadedResult[], mdDir: string): string[] {
  const head = ["", ...runs.map((r) => `Node ${r.result.node}`)];
  const field = (label: string, f: (r: SuiteResult, l: LoadedResult) => string): string =>
    row([label, ...runs.map((l) => cell(f(l.result, l)))]);
  const lines = [
    "## The machine",
    "",
    row(head),
    row(head.map(() => "---")),
    field("Result file", (_r, l) => `[${path.basename(l.file)}](${link(mdDir, l.file)})${l.quick ? " (quick run)" : ""}`),
    field("Node / V8", (r) => `${r.node} / ${r.v8}`),
    field("Platform", (r) => `${r.platform}/${r.arch}`),
    field("CPU", (r) => `${r.cpuModel} × ${r.cpus}`),
    field("Memory", (r) => `${fmtNum(r.memoryGiB)} GiB`),
    field("Python", (r) => r.python ?? "not found"),
    field("Libraries", (r) => {
      const entries = Object.entries(r.versions ?? {}).sort(([a], [b]) => a.localeCompare(b));
      return entries.length === 0 ? "—" : entries.map(([k, v]) => `${k} ${v}`).join(", ");
    }),
    field("Date", (r) => r.date),
    field("Command", (r) => `\`${r.command}\``),
    field("Duration", (r) => fmtDuration(r.durationSeconds)),
    field("Load average (1 / 5 / 15 min)", (r) => `start ${fmtLoad(r.loadAverageAtStart)}, end ${fmtLoad(r.loadAverageAtEnd)}`),
    "",
  ];
  // A load near the core count means the suite (2 threads in W7–W8, the GC's helpers) shared the CPUs.
  const loaded = runs.filter((l) => Math.max(l.result.loadAverageAtStart[0] ?? 0, l.result.loadAverageAtEnd[0] ?? 0) >= l.result.cpus * 0.75);
  if (loaded.length > 0)
    lines.push(
      `Load: ${loaded.map((l) => `Node ${l.result.node}`).join(" and ")} ran with a load average near or above the ${loaded[0].result.cpus} cores, ` +
        "part of it the suite's own worker threads, part other processes on this shared machine: expect a few percent of noise in every ratio, more in W7b and W8.",
      "",
    );
  return lines;
}

function goalsSection(runs: readonly LoadedResult[]): string[] {
  const lines = ["## Goals", ""];
  // Plain counts first, so that a missed goal cannot hide in a long table.
  for (const l of runs) {
    const all: { id: string; g: GoalResult }[] = [];
    for (const w of l.result.workloads) for (const c of w.cases) for (const g of c.goals) all.push({ id: c.id, g });
    const missed = all.filter((x) => !x.g.pass);
    if (all.length === 0) {
      lines.push(`- Node ${l.result.node}: no goals declared.`);
      continue;
    }
    const tail =
      missed.length === 0
        ? "all met."
        : `**${missed.length} missed**: ${missed.map((x) => `${x.id} (${x.g.text})`).join("; ")}.`;
    lines.push(`- Node ${l.result.node}: ${all.length - missed.length} of ${all.length} goals met; ${tail}`);
  }
  lines.push("");
  const head = ["Case", "Goal", ...runs.map((l) => `Node ${l.result.node}`)];
  const table = [row(head), row(head.map(() => "---"))];
  for (const { caseIds } of unionWorkloads(runs)) {
    for (const id of caseIds) {
      const c = firstCase(runs, id);
      // Goals are matched across runs by their text (the same GoalDef in every run).
      const texts: string[] = [];
      for (const l of runs) for (const g of findCase(l.result, id)?.goals ?? []) if (!texts.includes(g.text)) texts.push(g.text);
      for (const text of texts) {
        const cells = runs.map((l) => {
          const lc = findCase(l.result, id);
          const g = lc?.goals.find((x) => x.text === text);
          if (lc === undefined || g === undefined) return "—";
          return `${fmtGoalValue(g, lc.unit)}${goalRef(g)} ${g.pass ? PASS : MISSED}`;
        });
        table.push(row([cell(`${id} — ${c.title}`), cell(text), ...cells]));
      }
    }
  }
  if (table.length > 2) lines.push(...table, "");
  // Every miss with its explanation (the newest run's words; the same GoalDef in every run).
  const why: string[] = [];
  for (const l of runs)
    for (const w of l.result.workloads)
      for (const c of w.cases)
        for (const g of c.goals) {
          const fallback = l.major < 24 ? "Node 20 only: see the paragraph below." : "no explanation recorded.";
          const line = `- **${c.id}, ${g.text}** (missed on Node ${l.result.node}): ${g.whyMissed ?? fallback}`;
          if (!g.pass && !why.some((x) => x.startsWith(`- **${c.id}, ${g.text}**`))) why.push(line);
        }
  if (why.length > 0) lines.push("Why the missed goals are missed:", "", ...why, "");
  if (runs.some((l) => l.major < 24))
    lines.push(
      "The goals are set for Node 24. On Node 20, AsyncLocalStorage (which tsaio enters once per task) turns on V8's promise hooks " +
        "for the whole process, which slows every promise, the floors' and the peers' included: so Node 20's ratios to the floor " +
        "look better and its absolute times worse; a goal missed only on Node 20 is explained by that alone.",
      "",
    );
  return lines;
}

function systemRow(s: SystemResult): string {
  const cells = [
    s.name,
    fmtNum(s.median),
    `${fmtNum(s.min)} – ${fmtNum(s.max)}`,
    fmtRatio(s.vsFloor),
    fmtRatio(s.vsTsaio),
  ].map(cell);
  return row(s.kind === "tsaio" ? cells.map((x) => `**${x}**`) : cells);
}

function caseSection(runs: readonly LoadedResult[], id: string): string[] {
  const c = firstCase(runs, id);
  const lines = [`### ${id} — ${c.title} (${c.unit})`, ""];
  const goalLines: string[] = [];
  const notes: string[] = [];
  const addNote = (n: string): void => {
    if (!notes.includes(n)) notes.push(n);
  };
  for (const l of runs) {
    const node = l.result.node;
    const lc = findCase(l.result, id);
    if (lc === undefined) {
      lines.push(`Node ${node}: not run.`, "");
      continue;
    }
    lines.push(`**Node ${node}** (${lc.runs} rounds after ${lc.warmup} warm-up ${lc.warmup === 1 ? "round" : "rounds"}${l.quick ? ", quick run" : ""})`, "");
    const head = ["System", "median", "min – max", "× floor", "× tsaio"];
    lines.push(row(head), row(["---", "---:", "---:", "---:", "---:"]));
    for (const s of lc.systems) lines.push(systemRow(s));
    lines.push("");
    for (const g of lc.goals) {
      const verdict = g.pass ? `${PASS} PASS` : `${MISSED}${g.whyMissed === undefined ? "" : ` (${g.whyMissed})`}`;
      goalLines.push(`- ${g.text}, Node ${node}: ${fmtGoalValue(g, lc.unit)}${goalRef(g)} ${verdict}`);
    }
    for (const n of lc.notes) addNote(n);
    for (const s of lc.systems) if (s.note !== undefined && s.note !== "") addNote(`${s.name}: ${s.note}`);
    const extras = lc.systems
      .filter((s) => Object.keys(s.extra ?? {}).length > 0)
      .map((s) => `${s.name} ${Object.entries(s.extra ?? {}).map(([k, v]) => `${k} ${fmtNum(v)}`).join(", ")}`);
    if (extras.length > 0) notes.push(`Other medians, Node ${node}: ${extras.join("; ")}`);
  }
  if (goalLines.length > 0) lines.push("Goals:", "", ...goalLines, "");
  if (notes.length > 0) lines.push("Notes:", "", ...notes.map((n) => `- ${n.replace(/\r?\n/g, " ")}`), "");
  return lines;
}

function renderMarkdown(runs: readonly LoadedResult[], mdDir: string, svgFile: string): string {
  const lines = [
    "<!-- Generated by bench/report.ts from bench/results; do not edit. Regenerate with: npm run bench:report -->",
    "",
    "# tsaio benchmarks",
    "",
    ...methodSection(),
    ...reproduceSection(),
    ...machineSection(runs, mdDir),
    `![tsaio vs the best peer](${link(mdDir, svgFile)})`,
    "",
    ...goalsSection(runs),
  ];
  for (const { workload, caseIds } of unionWorkloads(runs)) {
    lines.push(`## ${workload.id} — ${workload.title}`, "");
    if (workload.description !== "") lines.push(workload.description, "");
    for (const id of caseIds) lines.push(...caseSection(runs, id));
  }
  return lines.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

// ------------------------------------------------------------------------------------ chart

type Series = "tsaio" | "best peer" | "CPython";
interface Bar {
  label: string;
  series: Series;
  system: string;
  value: number;
  text: string;
}

const SERIES: Series[] = ["tsaio", "best peer", "CPython"];
const COLOURS = ["#4c78a8", "#f58518", "#54a24b"];
const FONT = "Helvetica, Arial, sans-serif";
const BAR_LABEL_SIZE = 10;

/** Helvetica's advance widths (per 1000 em) for ASCII 32–126, from its AFM metrics. */
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
  556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
const WIDE: Record<string, number> = { "×": 584, "÷": 584, "—": 1000, "–": 556, "…": 1000, "≤": 549, "≥": 549, "µ": 556 };

/**
 * Text width in px. Without the `canvas` package vega estimates every character as 0.8 em, which
 * makes axes far too wide and truncates labels that would fit; a per-character table is close
 * enough for Helvetica/Arial (what the SVG asks for).
 */
function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    units += code >= 32 && code <= 126 ? HELVETICA[code - 32] : (WIDE[ch] ?? 556);
  }
  return (units / 1000) * fontSize * (bold ? 1.08 : 1);
}

/** The slice of vega-scenegraph's runtime `textMetrics` this module replaces (not in vega's types). */
interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}
interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

function itemWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
  const bold = item.fontWeight === "bold" || Number(item.fontWeight) >= 600;
  const lines = Array.isArray(text) ? text.map(String) : [text == null ? "" : String(text).trim()];
  return Math.max(0, ...lines.map((l) => textWidth(l, size, bold)));
}

function shortTitle(title: string, max = 34): string {
  return title.length <= max ? title : `${title.slice(0, max - 1).trimEnd()}…`;
}

function chartBars(r: SuiteResult): Bar[] {
  const bars: Bar[] = [];
  for (const w of r.workloads) {
    for (const c of w.cases) {
      const tsaio = c.systems.find((s) => s.kind === "tsaio");
      if (tsaio === undefined) continue;
      const label = `${c.id} ${shortTitle(c.title)}`;
      const add = (series: Series, s: SystemResult | undefined): void => {
        // A log scale cannot show 0, negatives or NaN: leave such a bar out rather than break the chart.
        if (s === undefined || !Number.isFinite(s.vsFloor) || s.vsFloor <= 0) return;
        bars.push({ label, series, system: s.name, value: s.vsFloor, text: `${s.name} ${fmtRatio(s.vsFloor)}` });
      };
      add("tsaio", tsaio);
      let peer: SystemResult | undefined;
      for (const s of c.systems) if (s.kind === "peer" && (peer === undefined || s.median < peer.median)) peer = s;
      add("best peer", peer);
      add("CPython", c.systems.find((s) => s.kind === "python"));
    }
  }
  return bars;
}

function chartSpec(r: SuiteResult, bars: readonly Bar[], quick: boolean): TopLevelSpec {
  const labels = [...new Set(bars.map((b) => b.label))];
  const width = 620;
  const height = Math.max(120, labels.length * 45);
  // Log domain in decades: include 1 (the floor rule) with some room below it, and stretch the top
  // until every bar's text label (drawn right of the bar's end) fits inside the plot.
  const lo = Math.log10(Math.min(1, ...bars.map((b) => b.value)) / 1.3);
  let hi = Math.log10(Math.max(1, ...bars.map((b) => b.value))) + 0.05;
  for (const b of bars) {
    const room = width - 6 - textWidth(b.text, BAR_LABEL_SIZE);
    if (room > width / 4) hi = Math.max(hi, lo + ((Math.log10(b.value) - lo) * width) / room);
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `tsaio vs the best peer (time, or bytes in W2b, ÷ hand-written floor; lower is better) — Node ${r.node}${quick ? " (quick run)" : ""}`,
      fontSize: 14,
      anchor: "start",
      frame: "bounds",
      offset: 14,
    },
    width,
    height,
    background: "white",
    // Extra room on the left: the axis labels are measured in Helvetica, and a viewer that falls back to a wider font must not clip them.
    padding: { left: 60, right: 10, top: 10, bottom: 10 },
    config: {
      font: FONT,
      axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" },
      legend: { labelFontSize: 11, titleFontSize: 12 },
      view: { stroke: "#ccc" },
    },
    layer: [
      {
        data: { values: bars.map((b) => ({ ...b })) },
        encoding: {
          y: { field: "label", type: "nominal", sort: labels, title: null, axis: { labelLimit: 320, labelFontSize: 11, ticks: false } },
          yOffset: { field: "series", type: "nominal", sort: SERIES, scale: { domain: SERIES } },
          x: {
            field: "value",
            type: "quantitative",
            title: "time relative to the hand-written floor (log scale; lower is better)",
            scale: { type: "log", domain: [10 ** lo, 10 ** hi], nice: false, clamp: true },
            axis: { format: "~g", grid: true, tickCount: 10 },
          },
        },
        layer: [
          {
            mark: { type: "bar", height: { band: 0.85 } },
            encoding: {
              color: {
                field: "series",
                type: "nominal",
                title: null,
                scale: { domain: SERIES, range: COLOURS },
                legend: { orient: "bottom", direction: "horizontal", symbolType: "square" },
              },
            },
          },
          {
            mark: { type: "text", align: "left", baseline: "middle", dx: 3, fontSize: BAR_LABEL_SIZE, color: "#333" },
            encoding: { text: { field: "text", type: "nominal" } },
          },
        ],
      },
      {
        // The floor: a dashed rule at 1 across the whole plot, labelled just above it (clear of the bars).
        data: { values: [{ x: 1 }] },
        layer: [
          { mark: { type: "rule", color: "#222", strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x: { field: "x", type: "quantitative" } } },
          {
            mark: { type: "text", text: "floor", align: "center", baseline: "bottom", dy: -3, fontSize: 11, fontWeight: "bold", color: "#222" },
            encoding: { x: { field: "x", type: "quantitative" }, y: { value: 0 } },
          },
        ],
      },
    ],
  };
}

async function renderSvg(r: SuiteResult, quick: boolean): Promise<string> {
  const bars = chartBars(r);
  if (bars.length === 0) {
    // Nothing comparable (no tsaio side anywhere): a valid, readable placeholder beats no file.
    return `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="40"><text x="10" y="25" font-family="${FONT}">No tsaio results for Node ${r.node}.</text></svg>\n`;
  }
  const spec = compile(chartSpec(r, bars, quick)).spec;
  // textMetrics is exported at run time but missing from vega's type declarations.
  const metrics = (vega as unknown as { textMetrics?: TextMetrics }).textMetrics;
  const saved = metrics?.width;
  if (metrics !== undefined) metrics.width = itemWidth;
  // renderer "none": no DOM and no canvas; toSVG still renders the whole scenegraph to SVG markup.
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
    if (metrics !== undefined && saved !== undefined) metrics.width = saved;
  }
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
