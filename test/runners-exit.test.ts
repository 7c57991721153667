// The end of a program, in child processes: leftover tasks that cancellation cannot stop at the end
// of run(), and, without run(), what the default loop reports when the process exits.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runFixture } from "./fixtures/run-fixture.js";

const NOTHING_LEFT = "timers=0 beforeExit=0";

test("run() gives up on a leftover stuck on a foreign promise once nothing can settle it, reports it, and returns main's value", async () => {
  // shutdownTimeout is Infinity here: only the empty event loop can end the wait.
  const r = await runFixture("leftover-stuck.ts", ["foreign"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["sleeper cancelled", "main done", NOTHING_LEFT]);
  assert.match(r.stderr, /Task "stuck-on-foreign" was cancelled at shutdown but did not finish: nothing can settle what it waits on any more/);
  assert.match(r.stderr, /Abandoned while waiting on a foreign promise/);
  assert.match(r.stderr, /pass the task's signal .* or wrap it in cancellable\(\)/);
  assert.doesNotMatch(r.stderr, /Task-\d|sleeper/); // the leftover that did finish is not reported
});

test("run() gives up on a stuck leftover after shutdownTimeout while something else keeps the process alive", async () => {
  const r = await runFixture("leftover-stuck.ts", ["alive"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["sleeper cancelled", "main done", NOTHING_LEFT]);
  assert.match(r.stderr, /Task "stuck-on-foreign" was cancelled at shutdown but did not finish: it was still pending after shutdownTimeout \(200 ms\)/);
  assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
});

test("a long shutdownTimeout does not delay the exit when the leftovers end, and leaves no timer or listener armed", async () => {
  const r = await runFixture("leftover-stuck.ts", ["quick"]); // shutdownTimeout: 60 s (the child is killed at 30 s)
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["sleeper cancelled", "main done", NOTHING_LEFT]);
  assert.equal(r.stderr, "");
});

test("without run(): a top-level await on a task that can never be woken prints the DeadlockError report and exits with 13", async () => {
  const r = await runFixture("default-loop-exit.ts", ["deadlock"]);
  assert.equal(r.code, 13, r.stderr);
  assert.equal(r.stdout.trim(), "waiting");
  assert.match(r.stderr, /DeadlockError: deadlock: the program's top-level await never settled/);
  assert.match(r.stderr, /Waiting tasks \(1\):\n {2}- "stuck-worker" waits on <Future pending/);
  assert.doesNotMatch(r.stderr, /done-soon/);
});

test("without run(): a program that ends with a background task still waiting is no deadlock: exit 0, silent unless in debug mode", async () => {
  const r = await runFixture("default-loop-exit.ts", ["background"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "end of program");
  assert.equal(r.stderr, "");
  const d = await runFixture("default-loop-exit.ts", ["background"], { env: { TSAIO_DEBUG: "1" } });
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stderr, /Task "background" was still pending when the process exited \(waiting on <Future pending/);
  assert.match(d.stderr, /createdAt: .*default-loop-exit\.ts/);
  assert.doesNotMatch(d.stderr, /deadlock/i);
});

test("without run(): a task error nobody retrieved is reported at exit as run() reports it", async () => {
  const r = await runFixture("default-loop-exit.ts", ["unretrieved"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "end of program");
  assert.match(r.stderr, /tsaio: Task exception was never retrieved\n/);
  assert.match(r.stderr, /taskName: worker-7/);
  assert.match(r.stderr, /Error: nobody looked/);
  assert.equal(r.stderr.match(/never retrieved/g)?.length, 1); // once, not again at "exit"
});

test("without run(): a program that leaves nothing behind exits 0 with nothing on stderr", async () => {
  const r = await runFixture("default-loop-exit.ts", ["clean"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "end of program");
  assert.equal(r.stderr, "");
});
