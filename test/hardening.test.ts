/**
 * Issue 17, "the newcomer's first hour": argument errors that name the function and the argument,
 * a NaN priority refused, and the repository's own hygiene (no devDependency that excludes Node 20,
 * a start script that does not rebuild the library, a passing run without alarming noise).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chunk, createTask, ensureFuture, PriorityQueue, run, shield, sleep } from "../src/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));

test("chunk(2, null) names the function and the argument", () => {
  assert.throws(() => chunk(2, null as unknown as { ms?: number }), { name: "TypeError", message: "chunk: `options` must be an object, got null" });
  assert.throws(() => chunk(2, 5 as unknown as { ms?: number }), { name: "TypeError", message: /^chunk: `options` must be an object, got number 5$/ });
  assert.doesNotThrow(() => chunk(2));
  assert.doesNotThrow(() => chunk(2, { ms: 10 }));
});

test("shield(x) and ensureFuture(x) of a non-awaitable name the function and the argument", async () => {
  await run(async () => {
    assert.throws(() => shield(42 as never), { name: "TypeError", message: /^shield: `aw` must be an awaitable .*got number 42$/ });
    assert.throws(() => shield(null as never), { name: "TypeError", message: /^shield: `aw` .*got null$/ });
    assert.throws(() => ensureFuture({ x: 1 } as never), { name: "TypeError", message: /^ensureFuture: `aw` must be an awaitable .*got an object$/ });
    // The good inputs still work.
    assert.equal(await shield(createTask(() => sleep(1, "ok"))), "ok");
    assert.equal(await ensureFuture(Promise.resolve(3)), 3);
  });
});

test("a NaN priority is refused by PriorityQueue (default order), the queue unchanged", async () => {
  const n = new PriorityQueue<number>();
  assert.throws(() => n.putNowait(NaN), { name: "RangeError", message: /^PriorityQueue: `item` must not be or hold NaN .*got NaN$/ });
  assert.equal(n.qsize(), 0, "refused even as the first item (no comparison happens then)");
  await assert.rejects(run(() => n.put(NaN)), RangeError);
  // On today's code a NaN went in and the order broke silently (NaN compares "equal" to everything).
  for (const x of [5, 3, 4, 1, 2]) n.putNowait(x);
  assert.throws(() => n.putNowait(NaN), RangeError);
  assert.deepEqual(Array.from({ length: 5 }, () => n.getNowait()), [1, 2, 3, 4, 5]);

  const q = new PriorityQueue<[number, string | number]>();
  q.putNowait([2, "b"]);
  assert.throws(() => q.putNowait([NaN, "a"]), { name: "RangeError", message: /got \[ NaN, 'a' \]$/ });
  assert.throws(() => q.putNowait([1, NaN]), RangeError, "a NaN anywhere in the tuple");
  assert.equal(q.qsize(), 1);
  q.putNowait([1, "a"]);
  assert.deepEqual([q.getNowait(), q.getNowait()], [[1, "a"], [2, "b"]]);
  // With a compare function of the caller's, NaN is the caller's business (the compare sees it).
  const custom = new PriorityQueue<number>(0, (a, b) => (Number.isNaN(a) ? -1 : Number.isNaN(b) ? 1 : a - b));
  custom.putNowait(1);
  custom.putNowait(NaN);
  assert.ok(Number.isNaN(custom.getNowait()));
});

// ------------------------------------------------------------------ engines: nothing excludes Node 20

type Version = [number, number, number];

function parseVersion(v: string): { v: Version; wild: number } {
  // "20", "20.x", "20.19", "20.19.0", "*": the number of parts given before a wildcard.
  const parts = v.replace(/^[v=]+/, "").split(".");
  const out: Version = [0, 0, 0];
  let wild = 3;
  for (let i = 0; i < 3; i++) {
    const p = parts[i];
    if (p === undefined || p === "x" || p === "X" || p === "*" || p === "") {
      wild = Math.min(wild, i);
      break;
    }
    out[i] = Number(p.split(/[-+]/)[0]);
  }
  return { v: out, wild };
}

function cmp(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** Whether `version` satisfies one comparator of an npm range (`>=18`, `^20.9.0`, `20.x`, `18`…). */
function satisfiesComparator(version: Version, comp: string): boolean {
  const m = /^(\^|~|>=|<=|>|<|=)?(.*)$/.exec(comp) as RegExpExecArray;
  const op = m[1] ?? "";
  const { v, wild } = parseVersion(m[2]);
  if (wild === 0) return op === "" || op === ">=" || op === "<=" || op === "="; // "*", ">=*"
  // The upper bound of an x-range or caret/tilde range: the next value of the last fixed part.
  const upper = (level: number): Version => (level === 0 ? [v[0] + 1, 0, 0] : level === 1 ? [v[0], v[1] + 1, 0] : [v[0], v[1], v[2] + 1]);
  switch (op) {
    case ">=":
      return cmp(version, v) >= 0;
    case ">":
      return wild < 3 ? cmp(version, upper(wild - 1)) >= 0 : cmp(version, v) > 0;
    case "<=":
      return wild < 3 ? cmp(version, upper(wild - 1)) < 0 : cmp(version, v) <= 0;
    case "<":
      return cmp(version, v) < 0;
    case "^": {
      const level = v[0] !== 0 || wild <= 1 ? 0 : v[1] !== 0 || wild <= 2 ? 1 : 2;
      return cmp(version, v) >= 0 && cmp(version, upper(level)) < 0;
    }
    case "~":
      return cmp(version, v) >= 0 && cmp(version, upper(wild <= 1 ? 0 : 1)) < 0;
    default:
      return wild < 3 ? cmp(version, v) >= 0 && cmp(version, upper(wild - 1)) < 0 : cmp(version, v) === 0;
  }
}

/** npm's `engines` range semantics, enough for what lockfiles hold: `||`, spaces (and), hyphen ranges. */
function satisfies(version: string, range: string): boolean {
  const ver = parseVersion(version).v;
  return range.split("||").some((set) => {
    const s = set.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1");
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(s);
    if (hyphen !== null) return satisfiesComparator(ver, `>=${hyphen[1]}`) && satisfiesComparator(ver, `<=${hyphen[2]}`);
    return s === "" || s.split(/\s+/).every((c) => satisfiesComparator(ver, c));
  });
}

test("the range check itself", () => {
  assert.ok(satisfies("20.19.0", ">=20"));
  assert.ok(!satisfies("20.19.0", ">=22"));
  assert.ok(satisfies("20.19.0", "^20.19.0 || ^22.13.0 || >=24"));
  assert.ok(!satisfies("20.18.3", "^20.19.0 || ^22.13.0 || >=24"));
  assert.ok(satisfies("20.19.0", "18 || 20 || >=22"));
  assert.ok(satisfies("20.19.0", ">= 10.x"));
  assert.ok(satisfies("20.19.0", "6.* || 8.* || >= 10.*"));
  assert.ok(!satisfies("20.19.0", "6.* || 8.*"));
  assert.ok(satisfies("20.19.0", "*"));
  assert.ok(satisfies("20.19.0", "^12.22.0 || ^14.17.0 || >=16.0.0"));
  assert.ok(!satisfies("20.19.0", "^18.18.0"));
  assert.ok(satisfies("20.19.0", "18 - 22"));
  assert.ok(!satisfies("20.19.0", "<20"));
});

test("no package in the lockfile has `engines` that exclude Node 20 (npm install on Node 20 prints no EBADENGINE)", () => {
  // Node 20.19 is the oldest Node 20 the toolchain takes (typescript-eslint's own dependencies ask for
  // ^20.19.0); on Node 20 the running version is checked too. vega-lite 6.5 asked for Node >= 22.
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
  const versions = ["20.19.0", ...(process.versions.node.startsWith("20.") ? [process.versions.node] : [])];
  const excluded: string[] = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    if (path === "") continue; // tsaio itself
    const range = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
    if (range === undefined) continue;
    for (const v of versions) if (!satisfies(v, range)) excluded.push(`${path.replace(/^.*node_modules\//, "")}@${pkg.version} needs node ${range} (not ${v})`);
  }
  assert.deepEqual(excluded, []);
});

// ------------------------------------------------------------------------ a passing run is quiet

test("npm test's runner captures the V8 out-of-memory report of a child a test kills on purpose", async () => {
  // test/executors/crash.test.ts runs a worker out of memory; its "FATAL ERROR … JavaScript heap out
  // of memory" report and native stack used to fill a passing `npm test`. The fixture does the same.
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, ["scripts/test.mjs", "test/fixtures/noise/oom.fixture.ts"], { cwd: root, timeout: 120_000, env: { ...process.env, TSAIO_TEST_VERBOSE: "", NODE_TEST_CONTEXT: undefined } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, out: stdout + stderr });
    });
  });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /ℹ pass 1/);
  assert.match(r.out, /after the out-of-memory child/, "the test's own output passes through");
  assert.doesNotMatch(r.out, /FATAL ERROR|Native stack trace|Last few GCs|JavaScript heap out of memory/);
  assert.match(r.out, /captured a V8 out-of-memory report of \d+ lines/);
});
