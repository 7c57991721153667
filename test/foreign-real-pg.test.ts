/**
 * Issue 12, part 6: cancelling PostgreSQL queries (`pg`) with the recipe of examples/pg-cancel.ts,
 * against a real server (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test). A task
 * cancelled or timed out during `select pg_sleep(10)` ends on time and pg_stat_activity shows the
 * query gone within 1 s — with the task's signal (`queryWithSignal`), with `cancellable`
 * (`cancellableQuery`); with neither, the query runs to its end and the cancel / TimeoutError
 * arrives then. No server: every test is skipped with one loud line, except under CI=true, where
 * that is a failure.
 *
 * Like the example, this imports tsaio as a package ("tsaio" → dist/): `npm test` builds first;
 * run `npm run build` before running this file alone.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import pg from "pg";
import { CancelledError, createTask, currentTask, run, sleep, timeout, TimeoutError } from "tsaio";
import { cancellableQuery, queryWithSignal } from "../examples/pg-cancel.js";
import { since, watchProcess } from "./fixtures/foreign/helpers.js";

if (!existsSync(new URL("../dist/index.js", import.meta.url))) throw new Error("test/foreign-real-pg.test.ts imports tsaio from dist/: run `npm run build` first");

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const shown = url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@"); // never print a password
const inCI = process.env.CI === "true";

/** Whether a server answers `select 1` at `url` within 3 s; the error text if not. */
async function probe(): Promise<string | null> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  c.on("error", () => {});
  try {
    await c.connect();
    await c.query("select 1");
    return null;
  } catch (e) {
    return e instanceof Error ? e.message || e.name : String(e);
  } finally {
    await c.end().catch(() => {});
  }
}
const unreachable = await probe();
const missing = unreachable === null ? null : `PostgreSQL not reachable at ${shown} (${unreachable}): the pg cancellation tests need a server (set DATABASE_URL)`;
if (missing !== null && !inCI) console.warn(`SKIPPED: ${missing}`);
const skip = missing !== null ? "PostgreSQL not reachable" : false;

if (missing !== null && inCI) {
  test("PostgreSQL is reachable (CI=true: a missing server is a failure, not a skip)", () => {
    assert.fail(missing);
  });
}

const watch = watchProcess();
// Unique per run, so that concurrent runs (and other tests) never see each other's queries.
const app = `tsaio-foreign-pg-${process.pid}-${Date.now().toString(36)}`;
let pool: pg.Pool;
let monitor: pg.Client;
const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });

before(async () => {
  if (missing !== null) return;
  pool = new pg.Pool({ connectionString: url, application_name: app, max: 4 });
  monitor = new pg.Client({ connectionString: url, application_name: `${app}-monitor` });
  await monitor.connect();
});
after(async () => {
  if (missing !== null) return;
  await monitor.end();
  await pool.end();
});

/** How many pg_sleep queries of this run the server is executing now. */
async function running(): Promise<number> {
  const { rows } = await monitor.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where application_name = $1 and state = 'active' and query like '%pg_sleep%'",
    [app],
  );
  return rows[0]!.n;
}
/** Polls (tsaio sleeps) until `running()` is `n`; returns the ms it took, failing after `ms`. */
async function untilRunning(n: number, ms: number, what: string): Promise<number> {
  const t0 = performance.now();
  while ((await running()) !== n) {
    if (since(t0) > ms) assert.fail(`${what}: still ${await running()} pg_sleep queries after ${ms} ms`);
    await sleep(10);
  }
  return since(t0);
}

test("pg with the task's signal (queryWithSignal): cancel() and timeout() during pg_sleep(10) end on time; the query leaves the server", { skip }, async () => {
  await inLoop(async () => {
    const t = createTask(() => queryWithSignal(pool, "select pg_sleep(10)", [], currentTask()!.signal));
    await untilRunning(1, 5000, "the query starts");
    const t0 = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError); // the helper rejects with the signal's reason
    const ended = since(t0);
    const gone = await untilRunning(0, 1000, "after cancel()");
    assert.ok(ended < 1000, `the task ended ${ended.toFixed(0)} ms after cancel()`);
    console.log(`# pg signal/cancel: task ended ${ended.toFixed(0)} ms after cancel(), query gone ${(ended + gone).toFixed(0)} ms after it`);

    const t1 = performance.now();
    await assert.rejects(timeout(500, () => queryWithSignal(pool, "select pg_sleep(10)", [], currentTask()!.signal)), TimeoutError);
    const ms = since(t1);
    assert.ok(ms >= 480 && ms < 1500, `TimeoutError after ${ms.toFixed(0)} ms (deadline 500)`);
    await untilRunning(0, 1000, "after the timeout");
    assert.equal(currentTask()!.cancelling(), 0);
  });
  await watch.check();
});

test("pg with cancellable (cancellableQuery): TimeoutError at the deadline, cancel() at once; the query leaves the server within 1 s", { skip }, async () => {
  await inLoop(async () => {
    const t0 = performance.now();
    await assert.rejects(timeout(500, () => cancellableQuery(pool, "select pg_sleep(10)")), TimeoutError);
    const ms = since(t0);
    assert.ok(ms >= 480 && ms < 1500, `TimeoutError after ${ms.toFixed(0)} ms (deadline 500)`);
    const gone = await untilRunning(0, 1000, "after the timeout");
    console.log(`# pg cancellable/timeout(500): TimeoutError after ${ms.toFixed(0)} ms, query gone ${gone.toFixed(0)} ms later`);

    const t = createTask(() => cancellableQuery(pool, "select pg_sleep(10)"));
    await untilRunning(1, 5000, "the query starts");
    const t1 = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.ok(since(t1) < 1000, `cancelled ${since(t1).toFixed(0)} ms after cancel()`);
    await untilRunning(0, 1000, "after cancel()");
  });
  await watch.check();
});

test("pg recipe: an abort at any moment (0-20 ms after the call) stops the query, and the pool stays usable", { skip }, async () => {
  await inLoop(async () => {
    // A pg_cancel_backend that reaches an idle backend does nothing, so the helper re-sends it
    // until the query has ended. Warm connections make the early moments reachable.
    await Promise.all([1, 2, 3].map(() => pool.query("select 1")));
    let slowest = 0;
    for (const after of [-1, 0, 1, 2, 3, 5, 8, 13, 20]) {
      const ac = new AbortController();
      const p = queryWithSignal(pool, "select pg_sleep(10)", [], ac.signal);
      if (after < 0) setImmediate(() => ac.abort(new Error("early abort")));
      else setTimeout(() => ac.abort(new Error("early abort")), after);
      const t0 = performance.now();
      await assert.rejects(p, /early abort/);
      slowest = Math.max(slowest, since(t0));
      await untilRunning(0, 1000, `after an abort at ${after} ms`);
    }
    assert.ok(slowest < 2000, `the slowest query stopped ${slowest.toFixed(0)} ms after the call`);
    console.log(`# pg early aborts: the slowest query stopped ${slowest.toFixed(0)} ms after the call`);
    // The pool still works (connections sent a cancel were closed, not reused).
    const { rows } = await pool.query<{ x: number }>("select 1 as x");
    assert.equal(rows[0]!.x, 1);
  });
  await watch.check();
});

test("pg with neither: a plain pool.query runs to its end (1.5 s); TimeoutError / CancelledError arrive then", { skip }, async () => {
  await inLoop(async () => {
    const t0 = performance.now();
    let stillRunning = -1;
    const spy = createTask(async () => {
      await sleep(700);
      stillRunning = await running(); // after the 300 ms deadline
    });
    await assert.rejects(timeout(300, () => pool.query("select pg_sleep(1.5)")), TimeoutError);
    const ms = since(t0);
    await spy;
    assert.equal(stillRunning, 1, "the query went on past the deadline");
    assert.ok(ms >= 1400, `TimeoutError only when the query ended, after ${ms.toFixed(0)} ms`);

    const steps: string[] = [];
    const t = createTask(async () => {
      await pool.query("select pg_sleep(1.5)");
      steps.push("query done");
      await sleep(0); // the first tsaio call raises the pending cancel
      steps.push("after sleep(0)");
    });
    await untilRunning(1, 5000, "the query starts");
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.deepEqual(steps, ["query done"]);
  });
  await watch.check();
});
