/** tsaio/threading in one thread: each primitive's semantics, cancellation, timeouts, bad input. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, createTask, gather, InvalidStateError, run, sleep, timeout, TimeoutError } from "../../src/index.js";
import { Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, Lock, RawArray, RLock, Semaphore, SharedArray, Value } from "../../src/threading/index.js";

test("Lock: FIFO among async waiters, timeout, release errors, inspect", async () => {
  await run(async () => {
    const lock = new Lock();
    const order: number[] = [];
    await lock.acquire();
    const ts = [1, 2, 3].map((i) =>
      createTask(async () => {
        await lock.acquire();
        order.push(i);
        await sleep(1);
        lock.release();
      }),
    );
    await sleep(5);
    assert.equal(inspect(lock), "<threading.Lock locked holder=thread-0 waiters=3>");
    lock.release();
    await gather(ts);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(inspect(lock), "<threading.Lock unlocked>");
    assert.throws(() => lock.release(), InvalidStateError);
    assert.equal(lock.tryAcquire(), true);
    const t0 = performance.now();
    assert.equal(await lock.acquire({ timeout: 20 }), false);
    assert.ok(performance.now() - t0 >= 15);
    lock.release();
    assert.equal(lock.locked(), false);
  });
});

test("Lock: a cancelled or aborted wait leaves the queue; the lock goes to the next waiter", async () => {
  await run(async () => {
    const lock = new Lock();
    await lock.acquire();
    const a = createTask(() => lock.acquire());
    const ac = new AbortController();
    const b = createTask(() => lock.acquire({ signal: ac.signal }));
    const c = createTask(() => lock.acquire());
    await sleep(2);
    a.cancel();
    ac.abort();
    await assert.rejects(a, CancelledError);
    await assert.rejects(b, CancelledError);
    lock.release();
    assert.equal(await c, true);
    assert.equal(lock.locked(), true);
    lock.release();
    // Already aborted: rejects at once.
    await assert.rejects(lock.acquire({ signal: AbortSignal.abort() }), CancelledError);
    // Under timeout(): the wait is a cancellation point.
    await lock.acquire();
    await assert.rejects(timeout(10, () => lock.acquire()), TimeoutError);
    lock.release();
    assert.equal(await lock.acquire(), true);
    lock.release();
  });
});

test("Lock: a cancel racing a hand-off passes the lock on (not leaked)", async () => {
  await run(async () => {
    const lock = new Lock();
    for (let i = 0; i < 50; i++) {
      await lock.acquire();
      const a = createTask(() => lock.acquire());
      const b = createTask(() => lock.acquire());
      await sleep(0);
      lock.release(); // hands to a…
      a.cancel(); // …which is cancelled before it runs: b must get it
      await assert.rejects(a, CancelledError).catch(() => undefined);
      if (!a.cancelled()) lock.release(); // a won the race: it holds the lock
      assert.equal(await b, true);
      lock.release();
      assert.equal(lock.locked(), false);
    }
  });
});

test("sync waits are refused on the main thread, with what to do instead", () => {
  const lock = new Lock();
  assert.throws(() => lock.acquireSync(), /not allowed on the main thread.*await lock\.acquire\(\)/);
  assert.throws(() => new RLock().acquireSync(), /main thread/);
  assert.throws(() => new Semaphore().acquireSync(), /main thread/);
  assert.throws(() => new Event().waitSync(), /main thread/);
  assert.throws(() => new Barrier(2).waitSync(), /main thread/);
  assert.equal(lock.locked(), false);
});

test("bad arguments: TypeError/RangeError naming the argument", async () => {
  const lock = new Lock();
  assert.throws(() => lock.acquire({ timeout: -1 }), { name: "RangeError", message: /`timeout` must be >= 0/ });
  assert.throws(() => lock.acquire({ timeout: "1" as unknown as number }), TypeError);
  assert.throws(() => lock.acquire({ signal: {} as AbortSignal }), /`signal` must be an AbortSignal/);
  assert.throws(() => new Semaphore(-1), RangeError);
  assert.throws(() => new Barrier(0), /`parties`/);
  assert.throws(() => new Value("i33" as "i32"), /`type` must be one of/);
  assert.throws(() => Lock.from({} as never), /`handle` must be the `handle` of a Lock/);
  assert.throws(() => Lock.from(new Event().handle), TypeError);
  assert.throws(() => new Condition({} as Lock), /`lock`/);
});

test("RLock: re-entrant for its owner task; others wait; non-owner release throws", async () => {
  await run(async () => {
    const r = new RLock();
    await r.acquire();
    assert.equal(await r.acquire({ timeout: 0 }), true);
    assert.match(inspect(r), /locked owner=thread-0 count=2/);
    const other = createTask(async () => {
      assert.throws(() => r.release(), InvalidStateError);
      const ok = await r.acquire();
      const again = r.tryAcquire();
      r.release();
      r.release();
      return ok && again;
    });
    await sleep(5);
    assert.equal(other.done(), false);
    r.release();
    await sleep(5);
    assert.equal(other.done(), false); // still one level held
    r.release();
    assert.equal(await other, true);
    assert.equal(r.locked(), false);
    assert.throws(() => r.release(), InvalidStateError);
  });
});

test("Semaphore and BoundedSemaphore", async () => {
  await run(async () => {
    const s = new Semaphore(2);
    assert.equal(await s.acquire(), true);
    assert.equal(await s.acquire(), true);
    assert.equal(s.locked(), true);
    const order: number[] = [];
    const ts = [1, 2].map((i) => createTask(async () => (await s.acquire(), order.push(i))));
    await sleep(2);
    assert.match(inspect(s), /value=0 waiters=2/);
    s.release(2);
    await gather(ts);
    assert.deepEqual(order, [1, 2]);
    assert.equal(await s.acquire({ timeout: 5 }), false);
    s.release(2);
    assert.equal(s.value, 2);
    const b = new BoundedSemaphore(2);
    await b.acquire();
    b.release();
    assert.throws(() => b.release(), InvalidStateError);
    assert.equal(b.value, 2);
    const held = await b.hold();
    held.release();
    held.release(); // once only
    assert.equal(b.value, 2);
    assert.equal(Semaphore.from(b.handle) instanceof BoundedSemaphore, true);
  });
});

test("Event: set wakes every waiter; clear; timeout", async () => {
  await run(async () => {
    const e = new Event();
    const ts = [1, 2, 3].map(() => createTask(() => e.wait()));
    await sleep(2);
    e.set();
    e.clear(); // waiters already released by set() still return true
    assert.deepEqual(await gather(ts), [true, true, true]);
    assert.equal(await e.wait({ timeout: 5 }), false);
    e.set();
    assert.equal(await e.wait(), true);
    assert.equal(inspect(e), "<threading.Event set>");
  });
});

test("Condition: notify(n) wakes n in FIFO order, wait holds the lock again; waitFor; cancel holds the lock", async () => {
  await run(async () => {
    const c = new Condition();
    const woke: number[] = [];
    const ts = [1, 2, 3].map((i) =>
      createTask(async () => {
        await c.acquire();
        try {
          await c.wait();
          woke.push(i);
          assert.equal(c.locked(), true);
        } finally {
          c.release();
        }
      }),
    );
    await sleep(5);
    assert.match(inspect(c), /waiters=3/);
    await c.run(() => c.notify(2));
    await sleep(5);
    assert.deepEqual(woke, [1, 2]);
    await c.run(() => c.notifyAll());
    await gather(ts);
    assert.deepEqual(woke, [1, 2, 3]);
    assert.throws(() => c.notify(), InvalidStateError);
    await assert.rejects(async () => c.wait(), InvalidStateError);
    // waitFor with a timeout returns the predicate's last value.
    await c.acquire();
    assert.equal(await c.waitFor(() => 0, { timeout: 10 }), 0);
    // Cancelled while waiting: the lock is held again when CancelledError arrives.
    const t = createTask(async () => {
      await c.acquire();
      try {
        await c.wait();
      } catch (e) {
        return [e instanceof CancelledError, c.locked()];
      } finally {
        c.release();
      }
      return null;
    });
    c.release();
    await sleep(5);
    t.cancel();
    // t's result is swallowed by the catch; it ends cancelled (the request was delivered), or with its value.
    await t.then(
      (v) => assert.deepEqual(v, [true, true]),
      (e) => assert.ok(e instanceof CancelledError),
    );
    assert.equal(c.locked(), false);
    // With an RLock held twice: wait frees it fully and restores the count.
    const rc = new Condition(new RLock());
    await rc.acquire();
    await rc.acquire();
    assert.equal(await rc.wait({ timeout: 5 }), false);
    rc.release();
    assert.equal(rc.locked(), true);
    rc.release();
    assert.equal(rc.locked(), false);
  });
});

test("Barrier: indices, abort, reset, timeout breaks it, cancel leaves it", async () => {
  await run(async () => {
    const b = new Barrier(3);
    const idx = await gather([() => b.wait(), () => b.wait(), () => b.wait()]);
    assert.deepEqual([...idx].sort(), [0, 1, 2]);
    // abort: the waiter and later callers get BrokenBarrierError.
    const w = createTask(() => b.wait());
    await sleep(2);
    assert.equal(b.nWaiting, 1);
    b.abort();
    await assert.rejects(w, BrokenBarrierError);
    await assert.rejects(async () => b.wait(), BrokenBarrierError);
    assert.equal(b.broken, true);
    b.reset();
    assert.equal(b.broken, false);
    // reset while someone waits: that one gets BrokenBarrierError, the barrier works again.
    const w2 = createTask(() => b.wait());
    await sleep(2);
    b.reset();
    await assert.rejects(w2, BrokenBarrierError);
    // timeout breaks it (threading)
    await assert.rejects(b.wait({ timeout: 5 }), BrokenBarrierError);
    assert.equal(b.broken, true);
    b.reset();
    // cancel leaves (asyncio): the count goes back down
    const w3 = createTask(() => b.wait());
    await sleep(2);
    w3.cancel();
    await assert.rejects(w3, CancelledError);
    assert.equal(b.nWaiting, 0);
    assert.equal(b.broken, false);
    assert.equal(inspect(b), "<threading.Barrier filling waiters=0/3>");
  });
});

test("Value, SharedArray, RawArray: types, locks, handles", async () => {
  const v = new Value("i32", 5);
  v.value += 1;
  assert.equal(v.value, 6);
  assert.equal(Value.from(v.handle).value, 6);
  assert.ok(v.getLock() instanceof Lock);
  const f = new Value("f64", 0.5, { lock: new RLock() });
  assert.ok(f.getLock() instanceof RLock);
  assert.ok(Value.from<"f64">(f.handle).getLock() instanceof RLock);
  const big = new Value("i64", 2n ** 40n, { lock: false });
  assert.equal(big.value, 2n ** 40n);
  assert.throws(() => big.getLock(), /lock: false/);
  assert.equal(inspect(v), "<threading.Value i32 value=6>");
  const a = new SharedArray("u16", [1, 2, 3]);
  const b = SharedArray.from<"u16">(a.handle);
  b.array[0] = 9;
  assert.deepEqual([...a.array], [9, 2, 3]);
  assert.equal(a.length, 3);
  const r = RawArray("f32", 4);
  assert.ok(r instanceof Float32Array && r.buffer instanceof SharedArrayBuffer && r.length === 4);
  assert.throws(() => RawArray("i32", -1), RangeError);
  assert.throws(() => RawArray("i32", "x" as unknown as number), TypeError);
  // handles are plain cloneable data
  const h = structuredClone(v.handle);
  assert.equal(Value.from(h).value, 6);
});

test("a pending async wait keeps the process alive; a finished one does not hold it", async () => {
  // Cross-checked in the worker tests too; here: a wait resolved from a timer outside tsaio.
  const e = new Event();
  setTimeout(() => e.set(), 30).unref(); // unref'd: only the wait can keep the process alive
  assert.equal(await e.wait(), true);
});
