/** `tsaio worker`: its help, its usage errors (exit 2), its argument parsing, runWorker's bad input, and a caller program that exits by itself. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, test } from "node:test";
import { runWorker } from "../../src/bullmq/index.js";
import { parseWorkerArgs } from "../../src/bullmq/cli.js";
import { redisKeys, redisUrl, requireRedis } from "../support/redis.js";
import { bullPrefix, root, tsxImport } from "./helpers.js";

const cli = (args: string[]) => spawnSync(process.execPath, ["--import", tsxImport, join(root, "src/cli.ts"), ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });

test("tsaio worker --help describes it; a usage error exits 2", () => {
  const help = cli(["worker", "--help"]);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: tsaio worker <module…> --queue <name>/);
  assert.match(help.stdout, /--concurrency <n>/);
  const bad = cli(["worker", "./nowhere.ts", "--queue", "q"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /tsaio worker: runWorker: no such module file: \.\/nowhere\.ts/);
});

test("parseWorkerArgs: modules, flags, and clear errors", () => {
  const o = parseWorkerArgs(["./a.ts", "thumbs=./b.js", "--queue", "q", "--concurrency", "8", "--processes", "--workers", "2", "--grace", "500", "--progress", "0", "--name", "w"]);
  assert.ok(o !== "help");
  assert.deepEqual(o.modules, ["./a.ts", "thumbs=./b.js"]);
  assert.equal(o.queue, "q");
  assert.equal(o.concurrency, 8);
  assert.equal(o.pool, "process");
  assert.equal(o.maxWorkers, 2);
  assert.equal(o.shutdownGracePeriod, 500);
  assert.equal(o.progressEvery, 0);
  assert.equal(o.name, "w");
  assert.equal(parseWorkerArgs(["-h"]), "help");
  assert.throws(() => parseWorkerArgs(["--queue", "q"]), /at least one module/);
  assert.throws(() => parseWorkerArgs(["./a.ts"]), /--queue <name> is required/);
  assert.throws(() => parseWorkerArgs(["./a.ts", "--queue", "q", "--concurrency", "x"]), /--concurrency takes a whole number/);
  assert.throws(() => parseWorkerArgs(["./a.ts", "--queue"]), /--queue needs a value/);
  assert.throws(() => parseWorkerArgs(["./a.ts", "--queue", "q", "--turbo"]), /unknown option --turbo/);
});

test("runWorker: bad input is a TypeError/RangeError naming the argument, before anything starts", () => {
  const fixture = join(root, "test/bullmq/fixtures/jobs.ts");
  assert.throws(() => runWorker(null as never), /runWorker: `options` must be an object/);
  assert.throws(() => runWorker({ modules: [], queue: "q" }), /`modules` is empty/);
  assert.throws(() => runWorker({ modules: "x" as never, queue: "q" }), /`modules` must be an array/);
  assert.throws(() => runWorker({ modules: [fixture], queue: "" }), /`queue` must be a non-empty string/);
  assert.throws(() => runWorker({ modules: [fixture], queue: "a:b" }), RangeError);
  assert.throws(() => runWorker({ modules: [fixture], queue: "q", concurrency: 0 }), /`concurrency` must be an integer >= 1/);
  assert.throws(() => runWorker({ modules: [fixture], queue: "q", pool: "fiber" as never }), /`pool` must be "thread" or "process"/);
  assert.throws(() => runWorker({ modules: [fixture, `jobs=${fixture}`], queue: "q" }), /two modules are named "jobs"/);
  assert.throws(() => runWorker({ modules: ["no-such-package-tsaio/x"], queue: "q" }), /cannot resolve module "no-such-package-tsaio\/x"/);
  assert.throws(() => runWorker({ modules: [fixture], queue: "q", signal: "stop" as never }), /`signal` must be an AbortSignal/);
});

test("a caller in an `await using` scope exits by itself (no leaked connection, timer or listener)", async (t) => {
  if (!(await requireRedis(t))) return;
  const keys = redisKeys((fn) => after(fn));
  const r = spawnSync(process.execPath, ["--import", tsxImport, join(root, "test/bullmq/fixtures/caller-exits.ts")], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, REDIS_URL: redisUrl(), BULL_PREFIX: bullPrefix(keys.prefix) },
  });
  assert.equal(r.signal, null, `killed by the test's timeout: it did not exit by itself\n${r.stdout}${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "timed out; removed: true\nscope left\n");
});
