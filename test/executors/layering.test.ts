/**
 * What the executors load: a worker (thread or process) loads the worker entry and what it imports
 * — never `runners.ts` (which drags in the introspection server), `debug/`, `cli.ts` or the barrel;
 * and no file of `src/executors/` imports `runners.ts` (the running loop comes from `context.ts`).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

/** The relative modules `file` imports (static imports and re-exports, type-only ones excluded). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^"';]*?\s+from\s+)?["'](\.[^"']+)["']/gm)) {
    out.push(resolve(dirname(file), m[1].replace(/\.js$/, ".ts")));
  }
  return out;
}

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...importsOf(f));
  }
  return seen;
}

test("a worker loads neither runners.ts, debug/, cli.ts nor the barrel", () => {
  const loaded = [...closure(join(src, "executors", "worker.ts"))].map((f) => relative(src, f));
  const banned = loaded.filter((f) => f === "runners.ts" || f.startsWith("debug/") || f === "cli.ts" || f === "index.ts");
  assert.deepEqual(banned, [], `the worker's imports: ${loaded.join(", ")}`);
});

test("no executor module imports runners.ts", () => {
  const dir = join(src, "executors");
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
    const runners = importsOf(join(dir, name)).filter((f) => relative(src, f) === "runners.ts");
    assert.deepEqual(runners, [], name);
  }
});
