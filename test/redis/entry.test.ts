/** The `tsaio/redis` entry point: wired in package.json, not loaded by `import "tsaio"`; processes sharing a lock exclude each other and exit by themselves. */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { redisTest } from "../support/redis.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("package.json exports ./redis (types and code from dist/redis/index); ioredis is an optional peer dependency", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    exports: Record<string, { types: string; default: string }>;
    peerDependenciesMeta: Record<string, { optional: boolean }>;
    dependencies?: Record<string, string>;
  };
  assert.deepEqual(pkg.exports["./redis"], { types: "./dist/redis/index.d.ts", default: "./dist/redis/index.js" });
  assert.equal(pkg.peerDependenciesMeta.ioredis.optional, true);
  assert.equal(pkg.dependencies?.ioredis, undefined);
});

test('import "tsaio" loads no ioredis module; importing tsaio/redis does', () => {
  // ioredis is CommonJS: whatever loads it, its files land in the CommonJS module cache. One child, both steps.
  const script = [
    `import { createRequire } from "node:module";`,
    `const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("/node_modules/ioredis/")) ? "loaded" : "none";`,
    `await import("./src/index.ts");`,
    `const after = loaded();`,
    `await import("./src/redis/index.ts");`,
    `console.log(after, loaded());`,
  ].join("\n");
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, encoding: "utf8" }).trim();
  assert.equal(out, "none loaded");
});

test("two processes share a RedisLock: critical sections never interleave, tokens increase, and each process exits by itself", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const fixture = fileURLToPath(new URL("./fixtures/holder.ts", import.meta.url));
  const runOne = () =>
    new Promise<void>((resolve, reject) => {
      execFile(process.execPath, ["--import", "tsx", fixture, r.url, r.prefix, "procs", "4"], { cwd: root, timeout: 20_000 }, (err, _out, stderr) => {
        if (err !== null) reject(new Error(`holder failed or did not exit by itself: ${err.message}\n${stderr}`));
        else resolve();
      });
    });
  await Promise.all([runOne(), runOne()]);
  const log = await r.client().lrange(r.key("log"), 0, -1);
  assert.equal(log.length, 16);
  let last = 0;
  for (let i = 0; i < log.length; i += 2) {
    const [enter, pid, token] = log[i].split(" ");
    assert.equal(enter, "enter");
    assert.equal(log[i + 1], `exit ${pid} ${token}`, `section ${i / 2} is not interleaved: ${log.slice(i, i + 2).join(" | ")}`);
    assert.ok(Number(token) > last);
    last = Number(token);
  }
});
