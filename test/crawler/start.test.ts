/**
 * `npm start` as a newcomer meets it (issue 17): it starts without rebuilding the library (it took
 * 12 s to print --help), --help and bad options answer at once, and `npm start --silent -- --json`
 * prints nothing but the JSON report on stdout (npm's own banner broke `| jq`).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

function npm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };
  return new Promise((resolve) => {
    execFile("npm", args, { cwd: root, env, timeout: 120_000, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr });
    });
  });
}

test("the start script runs the crawler without building the library first", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const start = pkg.scripts.start;
  assert.doesNotMatch(start, /\bbuild\b|\btsc\b|&&/, `start runs a build: ${start}`);
  assert.match(start, /examples\/crawler\/main\.ts/);
});

test("npm start -- --help prints the options, mentioning the clean JSON form", async () => {
  const r = await npm(["start", "--silent", "--", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: npm start -- \[options\]/);
  assert.match(r.stdout, /npm start --silent -- --json/);
  assert.equal(r.stderr, "");
});

test("npm start --silent -- --json: stdout is one JSON document (progress and npm's lines stay out of it)", async () => {
  const r = await npm(["start", "--silent", "--", "--json", "--max-pages", "25", "--sample", "0", "--concurrency", "25"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Record<string, unknown>; // throws on any other line
  assert.equal(report.interrupted, false);
  assert.equal((report.settings as { maxPages: number }).maxPages, 25);
  assert.equal(report.discovered, 25);
  assert.match(r.stderr, /Crawling http:\/\/127\.0\.0\.1:\d+\//, "what people read goes to stderr");
});
