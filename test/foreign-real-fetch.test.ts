/**
 * Issue 12, part 6: cancellation and deadlines around a real foreign API, `fetch`, against a local
 * HTTP server that never answers (`/never`) or answers after 1.5 s (`/slow`). Each case in three
 * variants: the task's `signal` passed to fetch, the fetch wrapped in `cancellable`, and neither (the
 * cancel / timeout then arrives when the response does). Real clock; timings are checked only against
 * events ("before the slow server answered"), with generous bounds.
 */
import assert from "node:assert/strict";
import { EventEmitter, getMaxListeners, once } from "node:events";
import { setTimeout as nodeDelay } from "node:timers/promises";
import { after, before, test } from "node:test";
import { CancelledError, cancellable, createTask, currentTask, run, sleep, timeout, TimeoutError } from "../src/index.js";
import { since, startServer, until, watchProcess, type Seen } from "./fixtures/foreign/helpers.js";

const SLOW_MS = 1500;
const watch = watchProcess();
let srv: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  srv = await startServer(SLOW_MS);
});
after(async () => {
  await srv.close();
});

const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });
/** Waits (tsaio sleeps) until the server has received `n` requests in all. */
const serverHas = async (n: number): Promise<Seen> => {
  const t0 = performance.now();
  while (srv.seen.length < n) {
    if (since(t0) > 5000) assert.fail(`the server never got request #${n}`);
    await sleep(5);
  }
  return srv.seen[n - 1]!;
};

test("fetch with the task's signal: cancel() and timeout() stop a request the server never answers, at once", async () => {
  await inLoop(async () => {
    // cancel() from another task
    let reached = false;
    const t = createTask(async () => {
      await fetch(`${srv.base}/never`, { signal: currentTask()!.signal });
      reached = true;
    });
    const seen = await serverHas(srv.seen.length + 1);
    const t0 = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError);
    const ms = since(t0);
    assert.equal(t.cancelled(), true);
    assert.equal(reached, false);
    assert.ok(ms < 1000, `the task ended ${ms.toFixed(0)} ms after cancel()`);
    await until(() => seen.abandoned, 2000, "the server sees the request abandoned");

    // timeout(): the fetch's AbortError from the task's own signal becomes TimeoutError
    const n = srv.seen.length;
    const t1 = performance.now();
    await assert.rejects(
      timeout(300, () => fetch(`${srv.base}/never`, { signal: currentTask()!.signal })),
      TimeoutError,
    );
    const tms = since(t1);
    assert.ok(tms >= 280 && tms < 3000, `TimeoutError after ${tms.toFixed(0)} ms (deadline 300)`);
    assert.equal(currentTask()!.cancelling(), 0, "the timeout withdrew its own request");
    await until(() => srv.seen[n]?.abandoned === true, 2000, "the server sees the timed-out request abandoned");

    // The task goes on normally afterwards: a fresh signal, a working fetch.
    const r = await fetch(`${srv.base}/ok`, { signal: currentTask()!.signal });
    assert.equal(await r.text(), "ok");
  });
  await watch.check();
});

test("fetch with cancellable: the issue's snippet raises TimeoutError at ~300 ms, before the slow server answers", async () => {
  await inLoop(async () => {
    // timeout(300, () => cancellable((s) => fetch(url, { signal: s }))) on the 1.5 s route
    const n = srv.seen.length;
    const t0 = performance.now();
    await assert.rejects(
      timeout(300, () => cancellable((s) => fetch(`${srv.base}/slow`, { signal: s }))),
      TimeoutError,
    );
    const ms = since(t0);
    const seen = srv.seen[n]!;
    assert.equal(seen.answeredAt, null, "raised before the slow server answered");
    assert.ok(ms >= 280 && ms < SLOW_MS, `TimeoutError after ${ms.toFixed(0)} ms (deadline 300)`);
    await until(() => seen.abandoned, 2000, "the aborted signal really stopped the request");

    // cancel() of a task awaiting cancellable((s) => fetch(never, { signal: s }))
    const t = createTask(() => cancellable((s) => fetch(`${srv.base}/never`, { signal: s })));
    const never = await serverHas(srv.seen.length + 1);
    const t1 = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.ok(since(t1) < 1000, `cancelled ${since(t1).toFixed(0)} ms after cancel()`);
    await until(() => never.abandoned, 2000, "the server sees the request abandoned");
  });
  await watch.check();
});

test("cancellable(promise) abandons a fetch it cannot stop; the fetch's later rejection is observed, never unhandled", async () => {
  let seen: Seen | undefined;
  await inLoop(async () => {
    // No signal reaches this fetch: cancellable can only stop waiting for it.
    const t = createTask(() => cancellable(fetch(`${srv.base}/never`)));
    seen = await serverHas(srv.seen.length + 1);
    const t0 = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.ok(since(t0) < 1000, `cancelled ${since(t0).toFixed(0)} ms after cancel()`);
    await sleep(50);
    assert.equal(seen.abandoned, false, "the fetch itself is still in flight (nothing aborted it)");
  });
  // Now make the abandoned fetch fail ("fetch failed"): the server drops every connection.
  await srv.close();
  try {
    await until(() => seen!.abandoned, 2000, "its connection is dropped");
    await watch.check(); // and its rejection was observed by cancellable
  } finally {
    srv = await startServer(SLOW_MS);
  }
});

test("fetch with neither: timeout() raises TimeoutError when the slow response arrives; cancel() at the next tsaio call", async () => {
  await inLoop(async () => {
    // The README's former headline shape: timeout(300, () => fetch(slowUrl))
    const n = srv.seen.length;
    const t0 = performance.now();
    let err: unknown;
    try {
      await timeout(300, async () => (await fetch(`${srv.base}/slow`)).text());
    } catch (e) {
      err = e;
    }
    const raisedAt = performance.now();
    assert.ok(err instanceof TimeoutError, `TimeoutError, got ${String(err)}`);
    const seen = srv.seen[n]!;
    assert.ok(seen.answeredAt !== null && raisedAt >= seen.answeredAt, "raised only after the server answered");
    assert.ok(since(t0) >= SLOW_MS - 50, `TimeoutError after ${since(t0).toFixed(0)} ms`);
    assert.equal(currentTask()!.cancelling(), 0);

    // cancel() while the task awaits a plain fetch: the fetch completes, the next tsaio call raises.
    const steps: string[] = [];
    const t = createTask(async () => {
      const body = await (await fetch(`${srv.base}/slow`)).text();
      steps.push(`fetched ${body}`);
      await sleep(0); // the first tsaio call after the foreign await raises the pending cancel
      steps.push("after sleep(0)");
    });
    const slow = await serverHas(srv.seen.length + 1);
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.deepEqual(steps, ["fetched slow"]);
    assert.ok(slow.answeredAt !== null && slow.abandoned === false, "the request ran to its end");
  });
  await watch.check();
});

test("5,000 fetches sharing one task's signal print no MaxListenersExceededWarning (a plain signal would, on Node 20)", async () => {
  // Control: on this Node a plain AbortController's signal does warn (Node 20; Node 24 sets no limit on
  // AbortSignals), so the check below is meaningful. Node's printer is detached meanwhile.
  if (getMaxListeners(new AbortController().signal) !== 0) {
    const printers = process.listeners("warning").filter((l) => l !== watch.onWarning);
    for (const l of printers) process.off("warning", l);
    const mark = watch.warnings.length;
    try {
      const plain = new AbortController();
      for (let i = 0; i < 20; i++) plain.signal.addEventListener("abort", () => {});
      await nodeDelay(10);
      assert.ok(
        watch.warnings.slice(mark).some((w) => w.name === "MaxListenersExceededWarning" && w.message.includes("AbortSignal")),
        "control: 20 listeners on a plain signal warn",
      );
    } finally {
      watch.warnings.length = mark;
      for (const l of printers) process.on("warning", l);
    }
  }

  const connsBefore = srv.connections();
  const t0 = performance.now();
  await inLoop(async () => {
    const signal = currentTask()!.signal;
    // 5,000 real fetches, 100 in flight (keep-alive reuses the sockets), all with the same signal.
    let started = 0;
    let bytes = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (started < 5000) {
          started++;
          const body = await (await fetch(`${srv.base}/ok`, { signal })).text();
          bytes += body.length;
        }
      }),
    );
    assert.equal(bytes, 2 * 5000);
    // Other signal-taking APIs on the same signal: 2,500 timers/promises and 2,500 events.once waits.
    const emitter = new EventEmitter().setMaxListeners(0); // the signal is under test, not the emitter
    const waits = [
      ...Array.from({ length: 2500 }, () => nodeDelay(60_000, undefined, { signal }).catch((e: unknown) => e)),
      ...Array.from({ length: 2500 }, () => once(emitter, "never", { signal }).catch((e: unknown) => e)),
    ];
    // The signal still works with thousands of listeners on it: a cancel ends all of them.
    const pending = createTask(() => fetch(`${srv.base}/never`, { signal: currentTask()!.signal }));
    await serverHas(srv.seen.length + 1);
    currentTask()!.cancel();
    await assert.rejects(sleep(0), CancelledError);
    currentTask()!.uncancel();
    const ended = await Promise.all(waits);
    assert.ok(ended.every((e) => e instanceof Error && e.name === "AbortError"), "every wait was aborted");
    pending.cancel();
    await assert.rejects(pending, CancelledError);
  });
  const ms = since(t0);
  assert.ok(ms < 60_000, `took ${ms.toFixed(0)} ms`); // not a speed test: a bound against a hang
  console.log(`# 5,000 fetches + 5,000 other waits on one task signal: ${ms.toFixed(0)} ms, ${srv.connections() - connsBefore} connections`);
  await watch.check();
});
