import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, CapacityLimiter, createTask, currentTask, gather, getRunningLoop, InvalidStateError, RateLimiter, RWLock, sleep, timeout, TimeoutError } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const settle = () => sleep(0);
const now = () => getRunningLoop().time();

// ---------------------------------------------------------------------------------------- RWLock

test("RWLock: readers share, a writer is alone", async () => {
  await runVirtual(async () => {
    const rw = new RWLock();
    let readers = 0;
    let peakReaders = 0;
    let writers = 0;
    const read = () =>
      rw.read.run(async () => {
        assert.equal(writers, 0);
        peakReaders = Math.max(peakReaders, ++readers);
        await sleep(10);
        readers--;
      });
    const write = () =>
      rw.write.run(async () => {
        assert.equal(readers, 0);
        assert.equal(++writers, 1);
        await sleep(10);
        writers--;
      });
    await gather([read, read, read, write, read, write, read, read]);
    assert.equal(peakReaders, 3);
    assert.equal(inspect(rw), "<RWLock unlocked>");
  });
});

test("RWLock: writer-fair — a reader arriving while a writer waits queues behind it; readers behind it enter together", async () => {
  await runVirtual(async () => {
    const rw = new RWLock();
    const log: string[] = [];
    const reader = (n: string, ms = 10) => rw.read.run(async () => {
      log.push(`${n}+${now()}`);
      await sleep(ms);
    });
    const writer = (n: string) => rw.write.run(async () => {
      log.push(`${n}+${now()}`);
      await sleep(10);
    });
    const r1 = createTask(() => reader("r1", 100)); // a long reader
    await settle();
    const w = createTask(() => writer("w"));
    await settle();
    assert.equal(rw.read.locked(), true, "a waiting writer blocks new readers");
    const r2 = createTask(() => reader("r2"));
    const r3 = createTask(() => reader("r3"));
    await gather([r1, w, r2, r3]);
    assert.deepEqual(log, ["r1+0", "w+100", "r2+110", "r3+110"]);
  });
});

test("RWLock: a cancelled waiting writer lets the readers behind it in; a granted-then-cancelled one passes it on", async () => {
  await runVirtual(async () => {
    const rw = new RWLock();
    await rw.read.acquire();
    const w = createTask(() => rw.write.acquire());
    await settle();
    const r = createTask(() => rw.read.run(() => now()));
    await sleep(5);
    w.cancel();
    assert.equal(await r, 5);
    await assert.rejects(w, CancelledError);
    rw.read.release();
    // Granted then cancelled before it ran: the grant goes to the next waiter.
    await rw.write.acquire();
    const w2 = createTask(() => rw.write.acquire());
    const r2 = createTask(() => rw.read.run(() => "r2"));
    await settle();
    rw.write.release(); // granted to w2
    assert.equal(rw.writing, true);
    w2.cancel();
    assert.equal(await r2, "r2");
    await assert.rejects(w2, CancelledError);
    assert.equal(rw.writing, false);
    assert.equal(rw.readers, 0);
  });
});

test("RWLock: releasing a side that is not held throws InvalidStateError; hold() works", async () => {
  await runVirtual(async () => {
    const rw = new RWLock();
    assert.throws(() => rw.read.release(), InvalidStateError);
    assert.throws(() => rw.write.release(), InvalidStateError);
    {
      await using _h = await rw.write.hold();
      assert.equal(rw.writing, true);
      assert.equal(inspect(rw.write), "<RWLock.write of <RWLock writing>>");
    }
    assert.equal(rw.writing, false);
    await rw.read.acquire();
    await rw.read.acquire();
    assert.equal(inspect(rw), "<RWLock reading readers=2>");
    rw.read.release();
    rw.read.release();
    assert.throws(() => rw.read.release(), /no reader/);
  });
});

// ------------------------------------------------------------------------------ CapacityLimiter

test("CapacityLimiter: bounds concurrency, knows its borrowers, refuses double borrow and foreign release", async () => {
  await runVirtual(async () => {
    const limiter = new CapacityLimiter(2);
    let running = 0;
    let peak = 0;
    const job = () =>
      createTask(async () => {
        await limiter.acquire();
        try {
          peak = Math.max(peak, ++running);
          assert.equal(limiter.statistics().borrowers.includes(currentTask() as object), true);
          await sleep(10);
          running--;
        } finally {
          limiter.release();
        }
      });
    const ts = [job(), job(), job(), job(), job()];
    await settle();
    assert.equal(limiter.statistics().tasksWaiting, 3);
    await gather(ts);
    assert.equal(peak, 2);
    assert.equal(now(), 30);
    const t = createTask(async () => {
      await limiter.acquire();
      await assert.rejects(limiter.acquire(), InvalidStateError); // same borrower twice
      assert.equal(limiter.tryAcquire({ borrower: {} }), true);
      return "ok";
    });
    assert.equal(await t, "ok");
    assert.throws(() => limiter.release(), InvalidStateError, "main never borrowed");
    assert.equal(limiter.borrowedTokens, 2);
    assert.equal(limiter.tryAcquire(), false, "both tokens are borrowed");
  });
});

test("CapacityLimiter: raising totalTokens wakes waiters at once; lowering it makes newcomers wait", async () => {
  await runVirtual(async () => {
    const limiter = new CapacityLimiter(1);
    const starts: number[] = [];
    const job = () => limiter.run(async () => {
      starts.push(now());
      await sleep(10);
    });
    const all = gather([job, job, job, job]);
    await sleep(5);
    limiter.totalTokens = 3;
    await all;
    assert.deepEqual(starts, [0, 5, 5, 10]);
    limiter.totalTokens = 1;
    const t0 = now();
    const a = createTask(() => limiter.run(() => sleep(10)));
    const b = createTask(() => limiter.run(() => now()));
    assert.equal(await b, t0 + 10);
    await a;
    assert.throws(() => (limiter.totalTokens = 0), { name: "RangeError", message: /`value`/ });
    limiter.totalTokens = Infinity;
    assert.equal(limiter.availableTokens, Infinity);
    assert.equal(inspect(limiter), "<CapacityLimiter borrowed=0/Infinity>");
  });
  assert.throws(() => new CapacityLimiter(0), { name: "RangeError", message: /`totalTokens`/ });
  assert.throws(() => new CapacityLimiter(1.5), RangeError);
  assert.throws(() => new CapacityLimiter("1" as unknown as number), TypeError);
});

test("CapacityLimiter: a cancelled waiter takes nothing; a granted-then-cancelled one gives the token back", async () => {
  await runVirtual(async () => {
    const limiter = new CapacityLimiter(1);
    const holder = {};
    await limiter.acquire({ borrower: holder });
    const a = createTask(() => limiter.acquire());
    const b = createTask(() => limiter.run(() => "b"));
    await settle();
    limiter.release(holder); // granted to a
    a.cancel();
    assert.equal(await b, "b");
    await assert.rejects(a, CancelledError);
    assert.equal(limiter.borrowedTokens, 0);
    assert.deepEqual(limiter.statistics(), { borrowedTokens: 0, totalTokens: 1, borrowers: [], tasksWaiting: 0 });
  });
  // Outside a task there is no default borrower.
  const l = new CapacityLimiter(1);
  await assert.rejects(l.acquire(), InvalidStateError);
  assert.equal(await l.run(async () => l.borrowedTokens), 1);
});

// ---------------------------------------------------------------------------------- RateLimiter

test("RateLimiter: at most limit per interval on average, bursts up to the cap, exact on the virtual clock", async () => {
  await runVirtual(async () => {
    const limiter = new RateLimiter(2, 1_000); // burst 2
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      await limiter.acquire();
      times.push(now());
    }
    assert.deepEqual(times, [0, 0, 500, 1000, 1500, 2000]);
    await sleep(10_000); // quiet: the bucket refills, to the cap only
    const burst: number[] = [];
    for (let i = 0; i < 4; i++) {
      await limiter.acquire();
      burst.push(now() - 12_000);
    }
    assert.deepEqual(burst, [0, 0, 500, 1000]);
  });
});

test("RateLimiter: waiters are served FIFO; burst option; tryAcquire", async () => {
  await runVirtual(async () => {
    const limiter = new RateLimiter(10, 1_000, { burst: 3 });
    assert.equal(limiter.availableTokens, 3);
    const order: string[] = [];
    const ts = ["a", "b", "c", "d", "e"].map((n) => createTask(() => limiter.run(() => order.push(`${n}@${now()}`))));
    await gather(ts);
    assert.deepEqual(order, ["a@0", "b@0", "c@0", "d@100", "e@200"]);
    assert.equal(limiter.tryAcquire(), false);
    await sleep(100);
    assert.equal(limiter.tryAcquire(), true);
    assert.match(inspect(limiter), /^<RateLimiter 10\/1000ms burst=3>$/);
  });
  assert.throws(() => new RateLimiter(0, 1000), { name: "RangeError", message: /`limit`/ });
  assert.throws(() => new RateLimiter(1, 0), { name: "RangeError", message: /`interval`/ });
  assert.throws(() => new RateLimiter(1, "1s" as unknown as number), { name: "TypeError", message: /`interval`/ });
  assert.throws(() => new RateLimiter(1, 1000, { burst: 0 }), { name: "RangeError", message: /`burst`/ });
});

test("RateLimiter: a cancelled waiter consumes nothing; its timer does not keep the loop busy", async () => {
  await runVirtual(async () => {
    const limiter = new RateLimiter(1, 1_000, { burst: 1 });
    await limiter.acquire(); // bucket empty until t=1000
    await assert.rejects(
      timeout(100, () => limiter.acquire()),
      TimeoutError,
    );
    assert.equal(now(), 100);
    const t0 = now();
    await sleep(0);
    assert.equal(now(), t0, "no leftover timer to jump to");
    await limiter.acquire();
    assert.equal(now(), 1_000, "the cancelled waiter took no token");
    // Granted then cancelled before running: the token goes back and the next waiter gets it.
    const a = createTask(() => limiter.acquire());
    const b = createTask(() => limiter.run(() => now()));
    await settle(); // both wait; the limiter's timer is set for t=2000
    getRunningLoop().callAt(2_000, () => a.cancel()); // runs right after the grant to a, before a runs
    assert.equal(await b, 2_000);
    await assert.rejects(a, CancelledError);
  });
});
