/**
 * Conformance against CPython 3.13's asyncio: each scenario exists twice, as Python
 * (scenarios/<name>.py, run by the oracle vloop.py into golden/<name>.txt) and as tsaio
 * (scenarios/<name>.ts), and the tsaio trace must equal the golden one line for line.
 * Regenerate the goldens with `npm run conformance:golden` (needs python3 3.13+).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { traceScenario, type Scenario } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const scenarios = readdirSync(join(here, "scenarios"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3))
  .sort();

test("every scenario has its Python twin and a golden trace", () => {
  const py = new Set(readdirSync(join(here, "scenarios")).filter((f) => f.endsWith(".py")).map((f) => f.slice(0, -3)));
  const golden = new Set(readdirSync(join(here, "golden")).map((f) => f.replace(/\.txt$/, "")));
  for (const name of scenarios) {
    assert.ok(py.has(name), `${name}.py is missing`);
    assert.ok(golden.has(name), `golden/${name}.txt is missing: run npm run conformance:golden`);
  }
  assert.ok(scenarios.length >= 25, `at least 25 scenarios expected, found ${scenarios.length}`);
});

for (const name of scenarios) {
  test(`conformance: ${name}`, async () => {
    const mod = (await import(pathToFileURL(join(here, "scenarios", `${name}.ts`)).href)) as { main: Scenario };
    const expected = readFileSync(join(here, "golden", `${name}.txt`), "utf8").trimEnd().split("\n");
    const actual = await traceScenario(mod.main);
    assert.deepEqual(actual, expected);
  });
}
