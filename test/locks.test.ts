import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  createTask,
  DeadlockError,
  Event,
  gather,
  getRunningLoop,
  InvalidStateError,
  Lock,
  Semaphore,
  sleep,
  type Task,
  timeout,
  TimeoutError,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const settle = (ms = 0) => sleep(ms);

// ------------------------------------------------------------------------------------------ Lock

test("Lock: FIFO-fair — a task that releases and re-acquires at once goes behind the waiters", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    const order: string[] = [];
    const greedy = async (name: string) => {
      for (let i = 0; i < 3; i++) {
        await lock.acquire();
        order.push(`${name}${i}`);
        await sleep(1);
        lock.release(); // and straight back to acquire(): must queue behind the others
      }
    };
    await gather([() => greedy("a"), () => greedy("b"), () => greedy("c")]);
    assert.deepEqual(order, ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]);
  });
});

test("Lock: released with waiters it reads unlocked, yet a newcomer queues behind them (no barging)", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    const order: string[] = [];
    await lock.acquire();
    const ts = ["A", "B"].map((n) =>
      createTask(async () => {
        await lock.acquire();
        order.push(n);
        lock.release();
      }),
    );
    await settle();
    lock.release();
    assert.equal(lock.locked(), false);
    await lock.acquire(); // a newcomer in the window
    order.push("newcomer");
    lock.release();
    await gather(ts);
    assert.deepEqual(order, ["A", "B", "newcomer"]);
  });
});

test("Lock: a waiter cancelled after being woken passes the wake-up on — no lost wake-ups", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    await lock.acquire();
    const got: string[] = [];
    const mk = (n: string) =>
      createTask(async () => {
        await lock.acquire();
        got.push(n);
        lock.release();
      });
    const b = mk("B");
    const c = mk("C");
    const d = mk("D");
    await settle();
    lock.release(); // wakes B
    b.cancel(); // before B runs
    await gather([b, c, d], { returnExceptions: true });
    assert.equal(b.cancelled(), true);
    assert.deepEqual(got, ["C", "D"]);
    assert.equal(lock.locked(), false);
    assert.equal(inspect(lock), "<Lock unlocked>");
  });
});

test("Lock: uncontended acquire does not yield and returns one shared resolved promise", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    const order: string[] = [];
    const other = createTask(() => order.push("other"));
    const p1 = lock.acquire();
    await p1;
    order.push("acquired");
    lock.release();
    const p2 = lock.acquire();
    assert.equal(p1, p2, "the fast path must not allocate a new promise");
    await p2;
    lock.release();
    await other;
    assert.deepEqual(order, ["acquired", "other"]);
  });
});

test("Lock: releasing an unlocked lock throws InvalidStateError and the lock still works", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    assert.throws(() => lock.release(), InvalidStateError);
    await lock.acquire();
    const t = createTask(() => lock.run(() => "second"));
    await settle();
    assert.equal(t.done(), false);
    lock.release();
    assert.equal(await t, "second");
    assert.equal(lock.locked(), false);
    assert.throws(() => lock.release(), /not acquired/);
  });
});

test("Lock: run() releases however fn ends; hold() works with await using and releases once", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    await assert.rejects(
      lock.run(async () => {
        await sleep(1);
        throw new RangeError("boom");
      }),
      RangeError,
    );
    assert.equal(lock.locked(), false);
    assert.equal(await lock.run(() => 7), 7);
    {
      await using held = await lock.hold();
      assert.equal(lock.locked(), true);
      assert.equal(held.released, false);
    }
    assert.equal(lock.locked(), false);
    const h = await lock.hold();
    h.release();
    h.release(); // idempotent: must not throw "not acquired"
    h[Symbol.dispose]();
    assert.equal(lock.locked(), false);
    assert.throws(() => lock.run(42 as unknown as () => void), { name: "TypeError", message: /`fn`/ });
  });
});

test("Lock: cancelling a waiting task rejects its acquire with CancelledError; the lock goes on", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    await lock.acquire();
    const a = createTask(() => lock.acquire());
    const b = createTask(() => lock.run(() => "b"));
    await settle();
    a.cancel("stop");
    await assert.rejects(a, (e: unknown) => e instanceof CancelledError && e.message === "stop");
    lock.release();
    assert.equal(await b, "b");
    assert.equal(lock.locked(), false);
  });
});

test("Lock: signal aborts a wait; an already aborted signal rejects at once without acquiring", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    await lock.acquire();
    const ac = new AbortController();
    const p = createTask(() => lock.acquire({ signal: ac.signal }));
    const q = createTask(() => lock.run(() => "next"));
    getRunningLoop().callLater(5, () => ac.abort(new Error("enough")));
    await assert.rejects(p, (e: unknown) => e instanceof CancelledError && e.message === "enough");
    assert.equal(p.cancelled(), true, "the task saw CancelledError from its await");
    lock.release();
    assert.equal(await q, "next");
    await assert.rejects(lock.acquire({ signal: AbortSignal.abort() }), CancelledError);
    assert.equal(lock.locked(), false, "an aborted signal must not acquire");
    assert.throws(() => lock.acquire({ signal: "no" as unknown as AbortSignal }), { name: "TypeError", message: /`signal`/ });
  });
});

test("Lock: a timeout around acquire leaves no trace; the next waiter gets the lock", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    await lock.acquire();
    await assert.rejects(
      timeout(10, () => lock.acquire()),
      TimeoutError,
    );
    const t = createTask(() => lock.run(() => getRunningLoop().time()));
    await sleep(5);
    lock.release();
    assert.equal(await t, 15);
    assert.equal(inspect(lock), "<Lock unlocked>");
  });
});

test("Lock: util.inspect shows the state and the waiters; a waiting task shows the lock", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    assert.equal(inspect(lock), "<Lock unlocked>");
    await lock.acquire();
    const ts = [1, 2].map(() => createTask(() => lock.run(() => 0), { name: "waiter" }));
    await settle();
    assert.equal(inspect(lock), "<Lock locked waiters=2>");
    assert.match(inspect(ts[0]), /waiting on <Lock locked waiters=2>/);
    lock.release();
    await gather(ts);
  });
});

test("Lock: a task waiting forever is reported as a deadlock naming the lock", async () => {
  await assert.rejects(
    runVirtual(async () => {
      const lock = new Lock();
      await lock.acquire();
      await lock.acquire();
    }),
    (e: unknown) => e instanceof DeadlockError && /Lock locked/.test(e.message),
  );
});

// ----------------------------------------------------------------------------------------- Event

test("Event: set() wakes every waiter, even if clear() runs before they resume", async () => {
  await runVirtual(async () => {
    const ev = new Event();
    const ts = [1, 2, 3].map((i) => createTask(async () => [i, await ev.wait()] as const));
    await settle();
    assert.equal(inspect(ev), "<Event unset waiters=3>");
    ev.set();
    ev.clear();
    assert.deepEqual(await gather(ts), [
      [1, true],
      [2, true],
      [3, true],
    ]);
    assert.equal(ev.isSet(), false);
    assert.equal(inspect(ev), "<Event unset>");
  });
});

test("Event: after clear(), wait() blocks again until the next set()", async () => {
  await runVirtual(async () => {
    const ev = new Event();
    ev.set();
    assert.equal(await ev.wait(), true);
    ev.clear();
    const t = createTask(() => ev.wait());
    await sleep(50);
    assert.equal(t.done(), false);
    ev.set();
    assert.equal(await t, true);
    assert.equal(getRunningLoop().time(), 50);
  });
});

test("Event: a cancelled or aborted waiter leaves; the others still wake", async () => {
  await runVirtual(async () => {
    const ev = new Event();
    const ac = new AbortController();
    const a = createTask(() => ev.wait());
    const b = createTask(() => ev.wait({ signal: ac.signal }));
    const c = createTask(() => ev.wait());
    await settle();
    a.cancel();
    ac.abort();
    await settle();
    assert.equal(inspect(ev), "<Event unset waiters=1>");
    ev.set();
    assert.equal(await c, true);
    assert.equal(a.cancelled(), true);
    await assert.rejects(b, CancelledError);
  });
});

// ------------------------------------------------------------------------------------- Condition

test("Condition: wait() releases the lock and holds it again when it returns", async () => {
  await runVirtual(async () => {
    const cond = new Condition();
    const seen: boolean[] = [];
    const w = createTask(() =>
      cond.run(async () => {
        await cond.wait();
        seen.push(cond.locked());
      }),
    );
    await settle();
    assert.equal(cond.locked(), false, "the waiter must have released the lock");
    await cond.run(() => cond.notify());
    await w;
    assert.deepEqual(seen, [true]);
    assert.equal(cond.locked(), false);
  });
});

test("Condition: a cancelled wait() re-acquires the lock before it throws", async () => {
  await runVirtual(async () => {
    const cond = new Condition();
    const log: string[] = [];
    const w = createTask(() =>
      cond.run(async () => {
        try {
          await cond.wait();
        } catch (e) {
          log.push(`${(e as Error).name} locked=${cond.locked()} t=${getRunningLoop().time()}`);
          throw e;
        }
      }),
    );
    await settle();
    await cond.acquire();
    w.cancel();
    await sleep(20);
    assert.equal(w.done(), false, "the cancelled waiter must wait for the lock");
    cond.release();
    await assert.rejects(w, CancelledError);
    assert.deepEqual(log, ["CancelledError locked=true t=20"]);
    assert.equal(cond.locked(), false);
  });
});

test("Condition: notify(n) wakes at most n waiters, FIFO; notifyAll the rest; both need the lock", async () => {
  await runVirtual(async () => {
    const cond = new Condition();
    const woke: number[] = [];
    const ts = [0, 1, 2, 3, 4].map((i) =>
      createTask(() =>
        cond.run(async () => {
          await cond.wait();
          woke.push(i);
        }),
      ),
    );
    await settle();
    assert.throws(() => cond.notify(), InvalidStateError);
    assert.throws(() => cond.notifyAll(), InvalidStateError);
    await cond.run(() => cond.notify(2));
    await sleep(1);
    assert.deepEqual(woke, [0, 1]);
    await cond.run(() => cond.notify(0));
    await sleep(1);
    assert.deepEqual(woke, [0, 1]);
    await cond.run(() => cond.notifyAll());
    await gather(ts);
    assert.deepEqual(woke, [0, 1, 2, 3, 4]);
    await cond.acquire();
    assert.throws(() => cond.notify(-1), { name: "RangeError", message: /`n`/ });
    assert.throws(() => cond.notify("2" as unknown as number), { name: "TypeError", message: /`n`/ });
    cond.release();
  });
});

test("Condition: a notified waiter cancelled before it runs passes the notification on", async () => {
  await runVirtual(async () => {
    const cond = new Condition();
    const woke: string[] = [];
    const mk = (n: string) =>
      createTask(() =>
        cond.run(async () => {
          await cond.wait();
          woke.push(n);
        }),
      );
    const a = mk("a");
    const b = mk("b");
    await settle();
    await cond.run(() => {
      cond.notify(1);
      a.cancel();
    });
    await gather([a, b], { returnExceptions: true });
    assert.deepEqual(woke, ["b"]);
  });
});

test("Condition: waitFor returns the predicate's value; two conditions may share a lock", async () => {
  await runVirtual(async () => {
    const lock = new Lock();
    const notEmpty = new Condition(lock);
    const notFull = new Condition(lock);
    const buf: number[] = [];
    const out: number[] = [];
    const producer = createTask(async () => {
      for (let i = 1; i <= 6; i++) {
        await notFull.run(async () => {
          await notFull.waitFor(() => buf.length < 2);
          buf.push(i);
          notEmpty.notify();
        });
      }
    });
    const consumer = createTask(async () => {
      for (let i = 0; i < 6; i++) {
        const v = await notEmpty.run(async () => {
          const head = await notEmpty.waitFor(() => buf[0]);
          buf.shift();
          notFull.notify();
          return head;
        });
        out.push(v);
        await sleep(1);
      }
    });
    await gather([producer, consumer]);
    assert.deepEqual(out, [1, 2, 3, 4, 5, 6]);
    assert.throws(() => new Condition({} as Lock), { name: "TypeError", message: /`lock`/ });
    await assert.rejects(notEmpty.wait(), InvalidStateError);
  });
});

// ------------------------------------------------------------------------------------- Semaphore

test("Semaphore: waiters are served FIFO and release never hands a permit to a cancelled waiter", async () => {
  await runVirtual(async () => {
    const sem = new Semaphore(0);
    const got: number[] = [];
    const ts = [0, 1, 2, 3].map((i) =>
      createTask(async () => {
        await sem.acquire();
        got.push(i);
      }),
    );
    await settle();
    ts[0].cancel();
    ts[1].cancel();
    sem.release();
    await settle();
    await settle();
    assert.deepEqual(got, [2]);
    assert.equal(ts[3].done(), false);
    sem.release();
    await gather(ts, { returnExceptions: true });
    assert.deepEqual(got, [2, 3]);
    assert.equal(sem.value, 0);
  });
});

test("Semaphore: a permit handed to a waiter that is then cancelled goes to the next one", async () => {
  await runVirtual(async () => {
    const sem = new Semaphore(0);
    const got: string[] = [];
    const mk = (n: string) =>
      createTask(async () => {
        await sem.acquire();
        got.push(n);
      });
    const a = mk("a");
    const b = mk("b");
    await settle();
    sem.release(); // reserved for a
    assert.equal(sem.locked(), true, "the permit is reserved: no barging");
    a.cancel();
    await gather([a, b], { returnExceptions: true });
    assert.deepEqual(got, ["b"]);
    assert.equal(sem.value, 0);
    sem.release();
    assert.equal(sem.value, 1);
  });
});

test("Semaphore: run() bounds concurrency; bad values are refused naming the argument", async () => {
  await runVirtual(async () => {
    const sem = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const r = await gather(
      Array.from({ length: 10 }, (_, i) => () =>
        sem.run(async () => {
          peak = Math.max(peak, ++running);
          await sleep(10);
          running--;
          return i;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.deepEqual(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(getRunningLoop().time(), 40);
    assert.equal(inspect(sem), "<Semaphore unlocked value=3>");
  });
  assert.throws(() => new Semaphore(-1), { name: "RangeError", message: /Semaphore: `value`/ });
  assert.throws(() => new Semaphore(1.5), { name: "RangeError", message: /`value`/ });
  assert.throws(() => new Semaphore("2" as unknown as number), { name: "TypeError", message: /`value`/ });
  assert.throws(() => new BoundedSemaphore(NaN), { name: "RangeError", message: /BoundedSemaphore: `value`/ });
});

test("BoundedSemaphore: release past the initial value throws InvalidStateError and changes nothing", async () => {
  await runVirtual(async () => {
    const sem = new BoundedSemaphore(2);
    assert.throws(() => sem.release(), InvalidStateError);
    assert.equal(sem.value, 2);
    await sem.acquire();
    sem.release();
    assert.throws(() => sem.release(), /released too many times/);
    await sem.acquire();
    await sem.acquire();
    assert.equal(sem.locked(), true);
    assert.match(inspect(sem), /^<BoundedSemaphore locked/);
  });
});

test("Semaphore: 100,000 waiters cancelled in reverse order cost linear time", async () => {
  const timeFor = async (n: number): Promise<number> =>
    runVirtual(async () => {
      const sem = new Semaphore(0);
      const ts = Array.from({ length: n }, () => createTask(() => sem.acquire()));
      await settle(); // all waiting
      const t0 = performance.now();
      for (let i = n - 1; i >= 0; i--) ts[i].cancel(); // the worst order for CPython's deque.remove()
      await gather(ts, { returnExceptions: true });
      for (let i = 0; i < 10; i++) sem.release();
      const dt = performance.now() - t0;
      assert.equal(sem.value, 10);
      assert.equal(inspect(sem), "<Semaphore unlocked value=10>");
      return dt;
    });
  await timeFor(10_000); // warm-up
  const small = await timeFor(10_000);
  const big = await timeFor(100_000);
  assert.ok(big < small * 40 + 50, `100k waiters took ${big.toFixed(1)} ms vs ${small.toFixed(1)} ms for 10k: not linear`);
});

// --------------------------------------------------------------------------------------- Barrier

test("Barrier: parties are released together with arrival indices, and it is reusable", async () => {
  await runVirtual(async () => {
    const barrier = new Barrier(3);
    const log: string[] = [];
    const party = async (name: string, delays: number[]) => {
      for (const d of delays) {
        await sleep(d);
        log.push(`${name}:${await barrier.wait()}@${getRunningLoop().time()}`);
      }
    };
    await gather([() => party("a", [30, 5]), () => party("b", [10, 20]), () => party("c", [20, 1])]);
    assert.deepEqual(log, ["a:2@30", "b:0@30", "c:1@30", "b:2@50", "c:0@50", "a:1@50"]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.parties, 3);
    assert.equal(inspect(barrier), "<Barrier filling waiters=0/3>");
  });
  assert.throws(() => new Barrier(0), { name: "RangeError", message: /`parties`/ });
  assert.throws(() => new Barrier(2.5), { name: "RangeError", message: /`parties`/ });
  assert.throws(() => new Barrier("3" as unknown as number), { name: "TypeError", message: /`parties`/ });
});

test("Barrier: abort() breaks it for every current and later waiter", async () => {
  await runVirtual(async () => {
    const barrier = new Barrier(3);
    const ts = [0, 1].map(() => createTask(() => barrier.wait()));
    await settle();
    assert.equal(barrier.nWaiting, 2);
    await barrier.abort();
    for (const t of ts) await assert.rejects(t, BrokenBarrierError);
    assert.equal(barrier.broken, true);
    await assert.rejects(barrier.wait(), BrokenBarrierError);
    assert.equal(inspect(barrier), "<Barrier broken>");
  });
});

test("Barrier: reset() breaks the current round only; the barrier is usable again", async () => {
  await runVirtual(async () => {
    const barrier = new Barrier(2);
    const a = createTask(() => barrier.wait());
    await settle();
    await barrier.reset();
    await assert.rejects(a, BrokenBarrierError);
    assert.equal(barrier.broken, false);
    assert.deepEqual((await gather([() => barrier.wait(), () => barrier.wait()])).sort(), [0, 1]);
  });
});

test("Barrier: a cancelled waiter just leaves (nWaiting drops), as in CPython 3.13", async () => {
  await runVirtual(async () => {
    const barrier = new Barrier(3);
    const a = createTask(() => barrier.wait());
    const b = createTask(() => barrier.wait());
    await settle();
    assert.equal(barrier.nWaiting, 2);
    a.cancel();
    await assert.rejects(a, CancelledError);
    assert.equal(barrier.nWaiting, 1);
    assert.equal(barrier.broken, false);
    const c = createTask(() => barrier.wait());
    const d = createTask(() => barrier.wait());
    const r = await gather([b, c, d]);
    assert.equal(r.length, 3);
    assert.equal(barrier.nWaiting, 0);
  });
});

test("Barrier: a signal cancels the wait like a task cancellation", async () => {
  await runVirtual(async () => {
    const barrier = new Barrier(2);
    const ac = new AbortController();
    const t: Task<number> = createTask(() => barrier.wait({ signal: ac.signal }));
    await sleep(5);
    ac.abort();
    await assert.rejects(t, CancelledError);
    assert.equal(barrier.nWaiting, 0);
    assert.deepEqual((await gather([() => barrier.wait(), () => barrier.wait()])).sort(), [0, 1]);
  });
});
