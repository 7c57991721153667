import assert from "node:assert/strict";
import { inspect } from "node:util";
import { test } from "node:test";
import { CancelledError, Future, getRunningLoop, InvalidStateError, isFuture, sleep, createTask } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

test("a future moves from pending to finished exactly once", async () => {
  await runVirtual(async () => {
    const f = new Future<number>();
    assert.equal(f.done(), false);
    assert.throws(() => f.result(), InvalidStateError);
    assert.throws(() => f.exception(), InvalidStateError);
    f.setResult(1);
    assert.equal(f.done(), true);
    assert.equal(f.result(), 1);
    assert.equal(f.exception(), null);
    assert.throws(() => f.setResult(2), { name: "InvalidStateError", message: /already finished/ });
    assert.throws(() => f.setException(new Error()), InvalidStateError);
    assert.equal(f.cancel(), false);
  });
});

test("a failed future rethrows its error; a cancelled one throws CancelledError with the message", async () => {
  await runVirtual(async () => {
    const f = new Future<number>();
    const err = new Error("bad");
    f.setException(err);
    assert.throws(() => f.result(), (e) => e === err);
    assert.equal(f.exception(), err);
    await assert.rejects(f, (e) => e === err);
    const c = new Future<number>();
    assert.equal(c.cancel("why"), true);
    assert.equal(c.cancelled(), true);
    assert.throws(() => c.result(), { name: "CancelledError", message: "why" });
    await assert.rejects(c, CancelledError);
  });
});

test("done callbacks run in registration order, scheduled (never inline), also on a done future", async () => {
  const order: string[] = [];
  await runVirtual(async () => {
    const f = new Future<number>();
    f.addDoneCallback(() => order.push("cb1"));
    f.setResult(1);
    order.push("after setResult");
    f.addDoneCallback((fut) => order.push(`cb2:${fut.result()}`));
    order.push("after add");
    await sleep(0);
  });
  assert.deepEqual(order, ["after setResult", "after add", "cb1", "cb2:1"]);
});

test("removeDoneCallback removes every registration and returns the count", async () => {
  await runVirtual(async () => {
    const f = new Future<void>();
    const cb = (): void => assert.fail("removed callback ran");
    f.addDoneCallback(cb);
    f.addDoneCallback(() => {});
    f.addDoneCallback(cb);
    assert.equal(f.removeDoneCallback(cb), 2);
    assert.equal(f.removeDoneCallback(cb), 0);
    f.setResult();
    await sleep(0);
  });
});

test("an error in a done callback goes to the exception handler", async () => {
  const seen: unknown[] = [];
  await runVirtual(async () => {
    getRunningLoop().setExceptionHandler((_l, ctx) => seen.push(ctx.exception));
    const f = new Future<void>();
    const boom = new Error("cb");
    f.addDoneCallback(() => {
      throw boom;
    });
    f.setResult();
    await sleep(0);
    assert.deepEqual(seen, [boom]);
  });
});

test("then/catch/finally behave like a promise's", async () => {
  await runVirtual(async () => {
    const f = new Future<number>();
    const chained = f.then((v) => v * 2).then((v) => v + 1);
    getRunningLoop().callLater(1, () => f.setResult(20));
    assert.equal(await chained, 41);
    const g = new Future<number>();
    g.setException(new Error("x"));
    assert.equal(await g.catch((e: unknown) => (e as Error).message), "x");
    let fin = false;
    const h = new Future<number>();
    h.setResult(3);
    assert.equal(await h.finally(() => (fin = true)), 3);
    assert.equal(fin, true);
  });
});

test("awaiting a done future does not give up a loop iteration", async () => {
  const order: string[] = [];
  await runVirtual(async () => {
    const done = new Future<number>();
    done.setResult(1);
    getRunningLoop().callSoon(() => order.push("callback"));
    await done;
    order.push("after await");
    await sleep(0);
  });
  assert.deepEqual(order, ["after await", "callback"]);
});

test("a failed future nobody looked at is reported at shutdown as never retrieved", async () => {
  const seen: string[] = [];
  await runVirtual(async () => {
    getRunningLoop().setExceptionHandler((_l, ctx) => seen.push(`${ctx.message}|${String(ctx.taskName)}`));
    void createTask(
      async () => {
        throw new Error("lost");
      },
      { name: "forgotten" },
    );
    const f = new Future<void>();
    f.setException(new Error("also lost"));
    const seenOne = new Future<void>();
    seenOne.setException(new Error("seen"));
    seenOne.exception();
    await sleep(1);
  });
  assert.deepEqual(seen.sort(), ["Future exception was never retrieved|undefined", "Task exception was never retrieved|forgotten"]);
});

test("futures print their state", async () => {
  await runVirtual(async () => {
    const f = new Future<number>();
    assert.equal(inspect(f), "<Future pending>");
    f.addDoneCallback(() => {});
    assert.equal(inspect(f), "<Future pending waiters=1>");
    f.setResult(42);
    assert.equal(inspect(f), "<Future finished result=42>");
    const g = new Future<number>();
    g.setException(new TypeError("t"));
    g.exception();
    assert.equal(inspect(g), '<Future finished exception=TypeError("t")>');
    const c = new Future<number>();
    c.cancel();
    assert.equal(inspect(c), "<Future cancelled>");
    assert.equal(isFuture(c), true);
    assert.equal(isFuture(Promise.resolve()), false);
  });
});
