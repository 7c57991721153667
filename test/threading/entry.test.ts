/** The `tsaio/threading` entry point: wired in package.json, and not loaded by `import "tsaio"`. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("package.json exports ./threading (types and code from dist/threading/index)", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { exports: Record<string, { types: string; default: string }> };
  assert.deepEqual(pkg.exports["./threading"], { types: "./dist/threading/index.d.ts", default: "./dist/threading/index.js" });
});

test('import "tsaio" loads no tsaio/threading module; importing tsaio/threading does', () => {
  const probe = (what: string): string =>
    execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `await import(${JSON.stringify(what)}); console.log(globalThis[Symbol.for("tsaio.threading.revivers")] === undefined ? "none" : "loaded");`], { cwd: root, encoding: "utf8" }).trim();
  assert.equal(probe("./src/index.ts"), "none");
  assert.equal(probe("./src/threading/index.ts"), "loaded");
});
