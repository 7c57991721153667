/**
 * Issue 17, "the newcomer's first hour": argument errors that name the function and the argument,
 * a NaN priority refused, and the repository's own hygiene (no devDependency that excludes Node 20,
 * a start script that does not rebuild the library, a passing run without alarming noise).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { chunk, createTask, ensureFuture, PriorityQueue, run, shield, sleep } from "../src/index.js";

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
