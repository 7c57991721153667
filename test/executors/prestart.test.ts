/** `prestart`: workers start when the pool is made (they start on demand by default). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { ProcessPoolExecutor, ThreadPoolExecutor } from "../../src/index.js";
import { jobs, until } from "./helpers.js";

test("by default no worker starts before the first job", async () => {
  const p = new ThreadPoolExecutor({ maxWorkers: 2 });
  assert.match(inspect(p), /workers=0\/2/);
  await p.shutdown();
});

test("prestart: every worker starts at once, and takes jobs", async () => {
  const p = new ThreadPoolExecutor({ maxWorkers: 2, prestart: true });
  assert.match(inspect(p), /workers=2\/2 busy=0 queued=0/);
  const ids = new Set(await Promise.all(Array.from({ length: 8 }, () => p.submit(jobs.fns.slowInc, 1, 20).then(() => p.submit(jobs.fns.threadId)))));
  assert.ok(ids.size >= 1);
  await p.shutdown();
  assert.match(inspect(p), /shutdown workers=0\/2/);
});

test("prestart: process workers", async () => {
  const p = new ProcessPoolExecutor({ maxWorkers: 1, prestart: true });
  assert.match(inspect(p), /workers=1\/1/);
  assert.equal(await p.submit(jobs.fns.inc, 1), 2);
  await p.shutdown();
});

test("prestarted workers retire after idleTimeout like any other", async () => {
  const p = new ThreadPoolExecutor({ maxWorkers: 2, prestart: true, idleTimeout: 50 });
  await p.submit(jobs.fns.inc, 1);
  await until(() => /workers=0\/2/.test(inspect(p)), 10_000, "idle workers to exit");
  await p.shutdown();
});

test("prestart must be a boolean", () => {
  assert.throws(() => new ThreadPoolExecutor({ prestart: 1 as unknown as boolean }), (e: unknown) => e instanceof TypeError && /`prestart` must be a boolean/.test(e.message));
});
