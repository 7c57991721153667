// The benchmark suite's own logic: how goals are judged, and what the report writes from a result
// file (BENCHMARKS.md's tables and misses, and the SVG chart). The measurements themselves are not
// tested here: they live in bench/ and depend on the machine.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeReport } from "../../bench/tools/report.js";
import { evalGoal, type SuiteResult, type SystemResult } from "../../bench/suite/model.js";

function system(name: string, kind: SystemResult["kind"], median: number, floor = 10, tsaio = 20): SystemResult {
  return { name, kind, samples: [median], min: median, median, max: median, vsFloor: median / floor, vsTsaio: median / tsaio };
}

const systems = [system("floor", "floor", 10), system("tsaio", "tsaio", 20), system("variant", "variant", 50), system("slow peer", "peer", 100), system("fast peer", "peer", 60)];

test("evalGoal: within, faster, absolute, best peer and a judged variant", () => {
  const within = evalGoal({ text: "≤ 3× floor", kind: "within", k: 3, ref: "floor" }, systems);
  assert.equal(within.value, 2);
  assert.equal(within.pass, true);
  assert.equal(evalGoal({ text: "≤ 1.5× floor", kind: "within", k: 1.5, ref: "floor" }, systems).pass, false);

  const best = evalGoal({ text: "≥ 5× best", kind: "faster", k: 5, ref: "best peer" }, systems);
  assert.equal(best.refResolved, "fast peer");
  assert.equal(best.value, 3);
  assert.equal(best.pass, false);

  const abs = evalGoal({ text: "≤ 25", kind: "absolute", k: 25 }, systems);
  assert.deepEqual([abs.value, abs.pass], [20, true]);

  const variant = evalGoal({ text: "variant ≥ 3× slow peer", kind: "faster", k: 3, ref: "slow peer", side: "variant", ifMissed: "because" }, systems);
  assert.deepEqual([variant.value, variant.pass, variant.side, variant.whyMissed], [2, false, "variant", "because"]);
  // The explanation is carried only by a miss.
  assert.equal(evalGoal({ text: "ok", kind: "within", k: 3, ref: "floor", ifMissed: "because" }, systems).whyMissed, undefined);

  assert.throws(() => evalGoal({ text: "x", kind: "within", k: 1, ref: "nobody" }, systems), /no side nobody/);
});

test("writeReport: tables, plain misses with their reasons, and an SVG chart from a result file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsaio-report-"));
  try {
    const goals = [
      evalGoal({ text: "≤ 3× the floor", kind: "within", k: 3, ref: "floor" }, systems),
      evalGoal({ text: "≥ 5× faster than the best peer", kind: "faster", k: 5, ref: "best peer", ifMissed: "the reason it is missed" }, systems),
    ];
    const result: SuiteResult = {
      node: "v24.0.0",
      v8: "1",
      platform: "linux",
      arch: "x64",
      cpuModel: "Test CPU",
      cpus: 2,
      memoryGiB: 4,
      python: null,
      versions: { "p-limit": "1.0.0" },
      date: "2026-01-01T00:00:00.000Z",
      command: "npm run bench",
      quick: false,
      loadAverageAtStart: [0, 0, 0],
      loadAverageAtEnd: [0, 0, 0],
      durationSeconds: 61,
      workloads: [
        {
          id: "W9",
          title: "a test workload",
          description: "What W9 does.",
          cases: [{ id: "W9a", workload: "W9", title: "test case", unit: "ms", floor: "floor", runs: 5, warmup: 2, systems, goals, notes: ["a case note"] }],
        },
      ],
    };
    writeFileSync(join(dir, "v24.0.0.json"), JSON.stringify(result));
    writeFileSync(join(dir, "v24.1.0-quick.json"), JSON.stringify({ ...result, node: "v24.1.0", quick: true, workloads: [] }));
    const files = await writeReport({ resultsDir: dir, markdown: join(dir, "B.md"), svg: join(dir, "chart.svg") });
    const md = readFileSync(files.markdown, "utf8");
    assert.match(md, /## W9 — a test workload/);
    assert.match(md, /### W9a — test case \(ms\)/);
    assert.match(md, /\*\*tsaio\*\*/); // tsaio's row stands out
    assert.match(md, /MISSED/);
    assert.match(md, /the reason it is missed/);
    assert.match(md, /a case note/);
    assert.doesNotMatch(md, /v24\.1\.0/, "a quick run is not reported next to a full one");
    const svg = readFileSync(files.svg, "utf8");
    assert.match(svg, /^<svg/);
    assert.match(svg, /W9a test case/);
    assert.match(svg, /fast peer/); // the best peer's bar, not the slow one
    assert.doesNotMatch(svg, /slow peer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
