/**
 * BENCHMARKS.md: the method, how to reproduce, the machine, the goals, and one table per case.
 * @module
 */
import * as path from "node:path";
import type { GoalResult, SuiteResult, SystemResult } from "../../suite/model.js";
import { fmtNum, fmtRatio } from "./format.js";
import { findCase, firstCase, unionWorkloads, type LoadedResult } from "./load.js";

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
    // Workloads measured later and merged in (BENCH_MERGE=1): when, how long, under what load.
    field("Later runs", (r) =>
      (r.merged ?? []).length === 0
        ? "—"
        : (r.merged ?? []).map((m) => `${m.workloads.join(", ")}: ${m.date}, ${fmtDuration(m.durationSeconds)}, load ${fmtLoad(m.loadAverageAtStart)} → ${fmtLoad(m.loadAverageAtEnd)}`).join("; "),
    ),
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

export function renderMarkdown(runs: readonly LoadedResult[], mdDir: string, svgFile: string): string {
  const lines = [
    "<!-- Generated by bench/tools/report.ts from bench/results; do not edit. Regenerate with: npm run bench:report -->",
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
