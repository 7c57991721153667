// The layering of shared/design/ARCHITECTURE.md, checked: a module imports only modules of its own
// layer or below. Every `import`/`export … from`, `import type`, `import("…")` and `typeof import("…")`
// of every src/**/*.ts counts (a type-only import is still a dependency of the design, if not of the
// running code); the few exceptions are listed below, each with its reason. Within a layer imports
// are allowed, but the core (loop, context, futures, tasks) must have no import cycle.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import ts from "typescript";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

/** The layer of each module, by path under src/ (first match wins). ARCHITECTURE.md's "Layers". */
const LAYERS: [RegExp, number][] = [
  [/^errors\.ts$/, 1],
  [/^internal\//, 1],
  // The ambient task/loop state the loop runs its handles through is internal/ambient.ts (layer 1);
  // context.ts re-exports it typed for the modules above the loop.
  [/^loop\.ts$/, 2],
  [/^(context|futures)\.ts$/, 3],
  [/^tasks\.ts$/, 4],
  [/^(combinators|timeouts|taskgroups|locks|queues|limiters|retry|waiters|channel|iteration|stages|subprocess)\.ts$/, 5],
  [/^streams\//, 5],
  [/^runners\.ts$/, 6],
  // The worker side of the executors (worker.ts, eager.ts, worker-*.ts) included: same wing.
  [/^(executors|threading|multiprocessing|redis|bullmq)\//, 7],
  [/^(debug\/.*|instrument\.ts|cli\.ts)$/, 8],
  // Entry points: they re-export everything.
  [/^(index|testing)\.ts$/, 9],
];

const CORE = new Set(["loop.ts", "context.ts", "futures.ts", "tasks.ts"]);

interface Edge {
  from: string;
  to: string;
  kind: "value" | "type" | "dynamic";
}

/**
 * Upward imports allowed for good, each with its reason. Keyed `from -> to`.
 */
const ALLOWED: Record<string, string> = {
  // Public signatures name these classes: `loop.createFuture(): Future<T>`, `loop.createTask(): Task<T>`,
  // `ExceptionContext.future/task`. Type-only, so erased: nothing is loaded and no cycle exists at run
  // time; inside, the loop knows a task as `SteppingTask` and makes both through registered factories.
  "loop.ts -> futures.ts": "type-only: public signatures",
  "loop.ts -> tasks.ts": "type-only: public signatures",
  // TSAIO_INTROSPECT=1 starts the introspection server at run(); loaded on demand only, so the runners
  // (and the workers) never load it otherwise.
  "runners.ts -> debug/introspect.ts": "dynamic, on demand",
};

/**
 * KNOWN, BEING FIXED (issue 13, item 2): upward imports another change is removing. Remove each entry
 * when its import is gone (the test reports entries that no longer match anything).
 */
const BEING_FIXED: Record<string, string> = {
};

/** The module specifiers `source` imports, with their kind. */
export function importsOf(fileName: string, source: string): { spec: string; kind: Edge["kind"] }[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { spec: string; kind: Edge["kind"] }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const named = c?.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly = c !== undefined && (c.isTypeOnly || (c.name === undefined && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
      out.push({ spec: node.moduleSpecifier.text, kind: typeOnly ? "type" : "value" });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ spec: node.moduleSpecifier.text, kind: node.isTypeOnly ? "type" : "value" });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = node.arguments[0];
      if (a !== undefined && ts.isStringLiteralLike(a)) out.push({ spec: a.text, kind: "dynamic" });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ spec: node.argument.literal.text, kind: "type" });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The layer of `file` (a path under src/), or undefined when the table has no row for it. */
export function layerOf(file: string): number | undefined {
  for (const [re, n] of LAYERS) if (re.test(file)) return n;
  return undefined;
}

/**
 * Checks `files` (path under src/ → source): the edges between them, and every problem found: an
 * upward import not allowed, a file with no layer, a cycle among the core files. `allowed` edges
 * (`from -> to`) are skipped (and left out of the cycle check); the ones used are returned.
 */
export function checkLayering(files: Map<string, string>, allowed: Set<string>): { problems: string[]; used: Set<string>; edges: Edge[] } {
  const problems: string[] = [];
  const used = new Set<string>();
  const edges: Edge[] = [];
  for (const [from, source] of files) {
    if (layerOf(from) === undefined) problems.push(`${from}: no layer (add it to LAYERS in test/layering.test.ts, following ARCHITECTURE.md)`);
    for (const { spec, kind } of importsOf(from, source)) {
      if (!spec.startsWith(".")) continue; // node: builtins and packages
      const to = posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, ".ts");
      if (to.startsWith("..")) continue; // outside src/ (a worker's entry URL, say)
      edges.push({ from, to, kind });
    }
  }
  const core: Edge[] = [];
  for (const e of edges) {
    const key = `${e.from} -> ${e.to}`;
    if (allowed.has(key)) {
      used.add(key);
      continue;
    }
    const lf = layerOf(e.from);
    const lt = layerOf(e.to);
    if (lf !== undefined && lt !== undefined && lt > lf) {
      problems.push(`${e.from} (layer ${lf}) imports ${e.to} (layer ${lt})${e.kind === "value" ? "" : ` [${e.kind}]`}: lower layers never import upper ones`);
    }
    if (CORE.has(e.from) && CORE.has(e.to) && e.from !== e.to) core.push(e);
  }
  // A cycle among the core files (depth-first search over their edges).
  const next = new Map<string, string[]>();
  for (const e of core) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  const path: string[] = [];
  const dfs = (n: string): void => {
    state.set(n, 1);
    path.push(n);
    for (const m of next.get(n) ?? []) {
      if (state.get(m) === 1) problems.push(`import cycle in the core: ${[...path.slice(path.indexOf(m)), m].join(" -> ")}`);
      else if (state.get(m) === undefined) dfs(m);
    }
    path.pop();
    state.set(n, 2);
  };
  for (const n of [...next.keys()].sort()) if (state.get(n) === undefined) dfs(n);
  return { problems, used, edges };
}

function sources(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".ts")) out.set(relative(dir, p).split("\\").join("/"), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

test("src/ follows the layers of ARCHITECTURE.md (lower layers never import upper ones; no cycle in the core)", (t) => {
  const allowed = new Set([...Object.keys(ALLOWED), ...Object.keys(BEING_FIXED)]);
  const { problems, used, edges } = checkLayering(sources(SRC), allowed);
  assert.ok(edges.length > 100, `only ${edges.length} imports found: is the parser broken?`);
  assert.deepEqual(problems, []);
  for (const key of Object.keys(ALLOWED)) assert.ok(used.has(key), `ALLOWED entry ${key} matches no import any more: remove it`);
  for (const key of Object.keys(BEING_FIXED)) if (!used.has(key)) t.diagnostic(`BEING_FIXED entry ${key} matches no import any more: remove it`);
});

test("the layering check finds an upward import (value, type and dynamic), a file with no layer, and a core cycle", () => {
  const files = new Map([
    ["internal/ring.ts", 'import { Future } from "../futures.js";'],
    ["errors.ts", 'export type { Loop } from "./loop.js";'],
    ["loop.ts", 'import type { Task } from "./tasks.js";\nexport const x = 1;'],
    ["futures.ts", 'import { x } from "./loop.js";\nconst m = () => import("./runners.js");\ntype T = typeof import("./debug/tree.js");'],
    ["tasks.ts", 'import { Future } from "./futures.js";'],
    ["mystery.ts", 'import { sleep } from "./tasks.js"; // a string "./x.js" in a comment is not an import'],
    ["combinators.ts", 'import { Future } from "./futures.js";\nimport { Task } from "./tasks.js";\nimport { readFile } from "node:fs";'],
  ]);
  const { problems } = checkLayering(files, new Set());
  assert.deepEqual(problems.sort(), [
    "errors.ts (layer 1) imports loop.ts (layer 2) [type]: lower layers never import upper ones",
    "futures.ts (layer 3) imports debug/tree.ts (layer 8) [type]: lower layers never import upper ones",
    "futures.ts (layer 3) imports runners.ts (layer 6) [dynamic]: lower layers never import upper ones",
    "import cycle in the core: futures.ts -> loop.ts -> tasks.ts -> futures.ts",
    "internal/ring.ts (layer 1) imports futures.ts (layer 3): lower layers never import upper ones",
    "loop.ts (layer 2) imports tasks.ts (layer 4) [type]: lower layers never import upper ones",
    "mystery.ts: no layer (add it to LAYERS in test/layering.test.ts, following ARCHITECTURE.md)",
  ]);
  // An allowed edge is neither a violation nor part of a cycle.
  const { problems: rest, used } = checkLayering(files, new Set(["loop.ts -> tasks.ts"]));
  assert.ok(used.has("loop.ts -> tasks.ts"));
  assert.ok(!rest.some((p) => p.startsWith("loop.ts") || p.includes("cycle")), rest.join("\n"));
});
