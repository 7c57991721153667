import assert from "node:assert/strict";
import { inspect } from "node:util";
import { test } from "node:test";
import { getRunningLoop, Loop, run, sleep, createTask, Future } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

test("callSoon callbacks run FIFO; one scheduled from a callback runs in the next iteration", async () => {
  const order: string[] = [];
  await runVirtual(async () => {
    const loop = getRunningLoop();
    loop.callSoon(() => {
      order.push("a");
      loop.callSoon(() => order.push("a-child"));
    });
    loop.callSoon(() => order.push("b"));
    for (let i = 0; i < 5; i++) loop.callSoon((n: number) => order.push(`n${n}`), i);
    await sleep(0);
    await sleep(0);
  });
  assert.deepEqual(order, ["a", "b", "n0", "n1", "n2", "n3", "n4", "a-child"]);
});

test("callLater(0) runs after callbacks already ready (due timers join the queue behind them)", async () => {
  const order: string[] = [];
  await runVirtual(async () => {
    const loop = getRunningLoop();
    loop.callLater(0, () => order.push("later0"));
    loop.callSoon(() => order.push("soon"));
    await sleep(1);
  });
  assert.deepEqual(order, ["soon", "later0"]);
});

test("timers fire in deadline order, equal deadlines in scheduling order, on the virtual clock", async () => {
  const order: string[] = [];
  const end = await runVirtual(async () => {
    const loop = getRunningLoop();
    loop.callLater(30, () => order.push("30"));
    loop.callLater(10, () => order.push("10a"));
    loop.callAt(loop.time() + 10, () => order.push("10b"));
    loop.callLater(20, () => order.push("20"));
    await sleep(40);
    return loop.time();
  });
  assert.deepEqual(order, ["10a", "10b", "20", "30"]);
  assert.equal(end, 40);
});

test("cancelled handles and timers never run", async () => {
  const order: string[] = [];
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const h = loop.callSoon(() => order.push("soon"));
    const t = loop.callLater(5, () => order.push("later"));
    h.cancel();
    t.cancel();
    assert.equal(h.cancelled(), true);
    assert.equal(t.cancelled(), true);
    await sleep(10);
  });
  assert.deepEqual(order, []);
});

test("an error in a callback goes to the exception handler and later callbacks still run", async () => {
  const seen: string[] = [];
  await runVirtual(async () => {
    const loop = getRunningLoop();
    loop.setExceptionHandler((_l, ctx) => seen.push(`${ctx.message}|${(ctx.exception as Error).message}`));
    loop.callSoon(function boom() {
      throw new Error("x");
    });
    loop.callSoon(() => seen.push("after"));
    await sleep(0);
  });
  assert.equal(seen.length, 2);
  assert.match(seen[0]!, /^Exception in callback boom\(\)\|x$/);
  assert.equal(seen[1], "after");
});

test("an hour of timers on the virtual clock takes well under a second", async () => {
  const t0 = performance.now();
  let fired = 0;
  const vt = await runVirtual(async () => {
    const loop = getRunningLoop();
    for (let i = 1; i <= 3600; i++) loop.callLater(i * 1000, () => fired++);
    await sleep(3_600_000);
    return loop.time();
  });
  assert.equal(fired, 3600);
  assert.equal(vt, 3_600_000);
  assert.ok(performance.now() - t0 < 1000, "virtual hour too slow");
});

test("the real clock waits for real time", async () => {
  const t0 = performance.now();
  await run(() => sleep(30));
  assert.ok(performance.now() - t0 >= 29);
});

test("bad arguments name the argument", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    assert.throws(() => loop.callLater(-1, () => {}), { name: "RangeError", message: /callLater: `ms`/ });
    assert.throws(() => loop.callLater(Number.NaN, () => {}), { name: "RangeError", message: /`ms`/ });
    assert.throws(() => loop.callAt(Number.NaN, () => {}), { name: "RangeError", message: /callAt: `when`/ });
    // @ts-expect-error: not a function
    assert.throws(() => loop.callSoon(42), { name: "TypeError", message: /callSoon: `callback`/ });
    assert.throws(() => new Loop({ clock: "fast" as "real" }), TypeError);
  });
});

test("loop and handles print their state", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const h = loop.callLater(5, () => {});
    assert.match(inspect(loop), /^<Loop running clock=virtual time=0 ready=\d+ timers=1 tasks=1>$/);
    assert.match(inspect(h), /^<TimerHandle when=5 /);
    h.cancel();
  });
});

test("the default loop works without run(), bound to Node's event loop", async () => {
  const t = createTask(async () => {
    await sleep(5);
    return 7;
  });
  assert.equal(await t, 7);
  const f = new Future<string>();
  getRunningLoop().callLater(1, () => f.setResult("x"));
  assert.equal(await f, "x");
});

test("a closed loop refuses new work", () => {
  const loop = new Loop({ clock: "virtual" });
  loop.close();
  assert.equal(loop.isClosed(), true);
  assert.throws(() => loop.callSoon(() => {}), { name: "InvalidStateError" });
});

test("the timer queue keeps (deadline, order) order across delay runs and absolute timers, and drops cancelled ones", async () => {
  const { TimerQueue } = await import("../src/internal/heap.js");
  type Item = { _when: number; _seq: number; _cancelled: boolean };
  const byDeadline = (a: Item, b: Item): number => a._when - b._when || a._seq - b._seq;
  let x = 12345;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (const compact of [false, true]) {
    const q = new TimerQueue<Item>();
    const items: Item[] = [];
    let now = 0;
    for (let i = 0; i < 3000; i++) {
      // The clock moves forward; timers are armed with one of a few delays, or at an absolute time.
      if (rnd() < 0.3) now += Math.floor(rnd() * 5);
      const delay = rnd() < 0.7 ? Math.floor(rnd() * 6) * 10 : null;
      const it = { _when: delay === null ? Math.floor(rnd() * 200) : now + delay, _seq: i, _cancelled: rnd() < 0.5 };
      items.push(it);
      q.push(it, delay);
    }
    assert.equal(q.size, items.length);
    if (compact) q.compact();
    const out: Item[] = [];
    for (let it = q.pop(); it !== undefined; it = q.pop()) out.push(it);
    assert.equal(q.size, 0);
    const expected = (compact ? items.filter((i) => !i._cancelled) : items).sort(byDeadline);
    assert.deepEqual(out, expected);
  }
});
