// Regenerates the conformance golden traces from CPython's asyncio (the oracle, vloop.py).
// Needs python3 with CPython 3.13+ reachable (vloop.py finds it through pyenv). `npm test` does not.
// Usage: node scripts/golden.mjs [name-filter...]
import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = "test/conformance/scenarios";
const filter = process.argv.slice(2);
let n = 0;
for (const f of readdirSync(dir).filter((f) => f.endsWith(".py")).sort()) {
  const name = f.slice(0, -3);
  if (filter.length > 0 && !filter.some((x) => name.includes(x))) continue;
  const r = spawnSync("python3", ["test/conformance/vloop.py", join(dir, f)], { encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`${name}: vloop.py failed\n${r.stderr}`);
    process.exit(1);
  }
  writeFileSync(join("test/conformance/golden", `${name}.txt`), r.stdout);
  n++;
  console.log(`${name}: ${r.stdout.trim().split("\n").length} lines`);
}
console.log(`${n} golden traces written`);
