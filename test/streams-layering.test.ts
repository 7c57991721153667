/**
 * Where streams and subprocesses sit (ARCHITECTURE.md, layer 5): they use tasks and primitives;
 * nothing below them — the loop, futures, tasks — imports them, and they import neither the
 * barrel (`index.ts`) nor `runners.ts`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");

/** The relative modules `file` imports (static imports and re-exports, type-only ones included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["'](\.[^"']+)["']/gm)) {
    out.push(relative(src, resolve(dirname(file), m[1]!.replace(/\.js$/, ".ts"))));
  }
  return out;
}

const ours = [...readdirSync(join(src, "streams")).map((f) => `streams/${f}`), "subprocess.ts"];
const isOurs = (m: string): boolean => m.startsWith("streams/") || m === "subprocess.ts";

test("the layers below streams and subprocesses do not import them", () => {
  for (const low of ["loop.ts", "futures.ts", "tasks.ts", "context.ts", "errors.ts", "waiters.ts", "internal/timers.ts", "internal/validate.ts"]) {
    assert.deepEqual(importsOf(join(src, low)).filter(isOurs), [], `${low} imports a stream module`);
  }
});

test("streams and subprocesses import neither the barrel nor runners.ts", () => {
  for (const f of ours) {
    const bad = importsOf(join(src, f)).filter((m) => m === "index.ts" || m === "runners.ts" || m.startsWith("debug/") || m === "cli.ts");
    assert.deepEqual(bad, [], `${f} imports ${bad.join(", ")}`);
  }
});
