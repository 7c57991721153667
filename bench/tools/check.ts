/**
 * `npm run bench:check`: a quick regression check of tsaio against the goals of the issues.
 *
 * Runs the suite in quick mode (the same workloads, counts and rounds, but only the sides the goals
 * compare tsaio with; CPython, Effection and the other bystanders are left out: about 1.5 minutes
 * instead of 5–7) in a child process, then judges every goal:
 * - a goal that passes is fine;
 * - a goal that fails but was already missed by the newest full run committed for this Node major
 *   (`bench/results/<version>.json`) is a known miss: it fails the check only if it got more than
 *   25% worse than that run (so a known miss cannot quietly get worse);
 * - any other failing goal fails the check, unless it misses by at most 5% (the noise of a shared
 *   machine: a goal that sits at its limit flips between runs; it is shown as "at the limit");
 * The goals are set for Node 24. On an older Node every goal is judged like a known miss: against
 * that Node's own full run, failing only past the 25% tolerance.
 *
 * Not part of CI: machines are noisy, and a shared one more so (a single case missing by a few
 * percent is usually noise: re-run it with BENCH_ONLY=<case> npm run bench). Run it on a quiet
 * machine before and after a change to the hot paths. Exit code 1 on a regression.
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, table } from "./lib.js";
import { majorOf, newestFullRun } from "./report/load.js";
import type { GoalResult, SuiteResult } from "../suite/model.js";

const TOLERANCE = 0.25;
const NOISE = 0.05;
const here = dirname(fileURLToPath(import.meta.url));
const MAJOR = majorOf(process.version);

/** How far a missed goal is past its limit, as a fraction (> 0: past it). */
function pastLimit(g: GoalResult): number {
  return g.kind === "faster" ? g.k / g.value - 1 : g.value / g.k - 1;
}

/** How much worse `now` is than `then`, as a fraction (> 0: worse), in the goal's direction. */
function worsening(g: GoalResult, then: GoalResult): number {
  return g.kind === "faster" ? then.value / g.value - 1 : g.value / then.value - 1;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "tsaio-bench-check-"));
  const out = join(tmp, "quick.json");
  const child = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(here, "..", "suite", "run.ts")], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, BENCH_QUICK: "1", BENCH_OUT: out },
  });
  if (child.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    console.error("bench:check: the quick run failed");
    process.exit(1);
  }
  const quick = JSON.parse(readFileSync(out, "utf8")) as SuiteResult;
  rmSync(tmp, { recursive: true, force: true });
  const base = await newestFullRun(join(here, "..", "results"), MAJOR);
  const known = new Map<string, GoalResult>();
  for (const w of base?.workloads ?? []) for (const c of w.cases) for (const g of c.goals) known.set(`${c.id} ${g.text}`, g);

  const rows = [["case", "goal", "now", `full run ${base?.node ?? "(none)"}`, "verdict"]];
  let failed = 0;
  for (const w of quick.workloads)
    for (const c of w.cases)
      for (const g of c.goals) {
        const then = known.get(`${c.id} ${g.text}`);
        const show = (x: GoalResult | undefined): string => (x === undefined ? "—" : x.kind === "absolute" ? `${fmt(x.value)} ${c.unit}` : `${x.value.toFixed(2)}×`);
        let verdict: string;
        if (g.pass) verdict = "ok";
        else if (then !== undefined && (!then.pass || MAJOR < 24)) {
          const worse = worsening(g, then);
          const known = then.pass ? "a Node 24 goal" : "known miss";
          verdict = worse > TOLERANCE ? `REGRESSED (${known}, ${(worse * 100).toFixed(0)}% worse)` : known;
        } else verdict = pastLimit(g) <= NOISE ? "at the limit (within 5%)" : "FAILED";
        if (verdict.startsWith("REGRESSED") || verdict === "FAILED") failed++;
        rows.push([c.id, g.text, show(g), show(then), verdict]);
      }
  console.log(`\nbench:check on Node ${process.version} (quick run; CPython goals are judged by the full run only)\n`);
  console.log(table(rows));
  if (base === null) console.log(`\n(no full run for Node ${MAJOR} in bench/results: every missed goal fails the check)`);
  console.log(failed === 0 ? "\nNo regression." : `\n${failed} goal(s) regressed. On a shared machine, confirm with BENCH_ONLY=<case> npm run bench before chasing one.`);
  process.exit(failed === 0 ? 0 : 1);
}

await main();
