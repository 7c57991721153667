/**
 * Property-based tests of the primitives: random tasks doing random acquire/release, put/get,
 * wait/notify on the virtual clock, with random cancellations and timeouts. Invariants: permits are
 * conserved, mutual exclusion holds, no item is lost or delivered twice, and every task ends (a
 * task waiting forever while a permit or item is available would make `runVirtual` fail with
 * DeadlockError). FUZZ_RUNS sets the number of schedules per primitive (default 1,000;
 * `npm run fuzz` runs 100,000).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import {
  BoundedSemaphore,
  CancelledError,
  CapacityLimiter,
  Condition,
  createTask,
  gather,
  getRunningLoop,
  Lock,
  Queue,
  QueueShutDown,
  RateLimiter,
  RWLock,
  Semaphore,
  sleep,
  type Task,
  timeout,
  TimeoutError,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

/** One random step of a task: wait `gap`, then try to hold the primitive for `hold`, maybe under a timeout. */
const step = fc.record({
  gap: fc.integer({ min: 0, max: 4 }),
  hold: fc.integer({ min: 0, max: 6 }),
  limit: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
});
const program = fc.array(step, { minLength: 1, maxLength: 4 });
const programs = fc.array(program, { minLength: 1, maxLength: 6 });
// Cancels land on odd milliseconds; everything else on whole ones: ties are still possible and welcome.
const cancels = fc.array(fc.record({ at: fc.integer({ min: 0, max: 40 }), who: fc.nat() }), { maxLength: 4 });

/** Only these may end a random task: its own cancellation or a timeout it asked for. */
function expected(e: unknown): boolean {
  return e instanceof CancelledError || e instanceof TimeoutError;
}

async function runPrograms(
  progs: { gap: number; hold: number; limit: number | undefined }[][],
  cuts: { at: number; who: number }[],
  hold: (ms: number) => Promise<unknown>,
): Promise<Task<void>[]> {
  const loop = getRunningLoop();
  const tasks = progs.map((prog) =>
    createTask(async () => {
      for (const s of prog) {
        await sleep(s.gap);
        try {
          if (s.limit === undefined) await hold(s.hold);
          else await timeout(s.limit, () => hold(s.hold));
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
        }
      }
    }),
  );
  for (const c of cuts) loop.callLater(c.at, () => tasks[c.who % tasks.length].cancel());
  const results = await gather(tasks, { returnExceptions: true });
  for (const r of results) if (r !== undefined) assert.ok(expected(r), `unexpected error ${inspect(r)}`);
  await sleep(50); // let late cancel timers fire on finished tasks
  return tasks;
}

test("Lock under random schedules: mutual exclusion, every task ends, the lock ends free with no waiters", async () => {
  await fc.assert(
    fc.asyncProperty(programs, cancels, async (progs, cuts) => {
      await runVirtual(async () => {
        const lock = new Lock();
        let inside = 0;
        void await runPrograms(progs, cuts, (ms) =>
          lock.run(async () => {
            assert.equal(++inside, 1, "two holders at once");
            try {
              await sleep(ms);
            } finally {
              inside--;
            }
          }),
        );
        assert.equal(inside, 0);
        assert.equal(inspect(lock), "<Lock unlocked>");
      });
    }),
    { numRuns: RUNS },
  );
});

test("Semaphore under random schedules: at most k holders, permits conserved, every task ends", async () => {
  await fc.assert(
    fc.asyncProperty(programs, cancels, fc.integer({ min: 1, max: 3 }), fc.boolean(), async (progs, cuts, k, bounded) => {
      await runVirtual(async () => {
        const sem = bounded ? new BoundedSemaphore(k) : new Semaphore(k);
        let inside = 0;
        void await runPrograms(progs, cuts, (ms) =>
          sem.run(async () => {
            assert.ok(++inside <= k, `${inside} holders of a Semaphore(${k})`);
            try {
              await sleep(ms);
            } finally {
              inside--;
            }
          }),
        );
        assert.equal(inside, 0);
        assert.equal(sem.value, k, "a permit was lost or duplicated");
        assert.equal(sem.locked(), false);
        assert.doesNotMatch(inspect(sem), /waiters/);
      });
    }),
    { numRuns: RUNS },
  );
});

test("RWLock under random schedules: never a writer with anyone else, every task ends, the lock ends free", async () => {
  await fc.assert(
    fc.asyncProperty(programs, fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), cancels, async (progs, kinds, cuts) => {
      await runVirtual(async () => {
        const rw = new RWLock();
        let readers = 0;
        let writers = 0;
        let i = 0;
        void await runPrograms(progs, cuts, (ms) => {
          const write = kinds[i++ % kinds.length];
          return write
            ? rw.write.run(async () => {
                assert.ok(++writers === 1 && readers === 0, "a writer with company");
                try {
                  await sleep(ms);
                } finally {
                  writers--;
                }
              })
            : rw.read.run(async () => {
                readers++;
                assert.equal(writers, 0, "a reader with a writer");
                try {
                  await sleep(ms);
                } finally {
                  readers--;
                }
              });
        });
        assert.equal(readers + writers, 0);
        assert.equal(inspect(rw), "<RWLock unlocked>");
      });
    }),
    { numRuns: RUNS },
  );
});

test("CapacityLimiter under random schedules and total changes: bounded, every task ends, all tokens returned", async () => {
  await fc.assert(
    fc.asyncProperty(
      programs,
      cancels,
      fc.array(fc.record({ at: fc.integer({ min: 0, max: 30 }), total: fc.integer({ min: 1, max: 4 }) }), { maxLength: 3 }),
      async (progs, cuts, changes) => {
        await runVirtual(async () => {
          const limiter = new CapacityLimiter(2);
          const maxTotal = Math.max(2, ...changes.map((c) => c.total));
          for (const c of changes) getRunningLoop().callLater(c.at, () => (limiter.totalTokens = c.total));
          let inside = 0;
          void await runPrograms(progs, cuts, (ms) =>
            limiter.run(async () => {
              assert.ok(++inside <= maxTotal);
              assert.ok(limiter.borrowedTokens >= inside, "a holder without a token");
              try {
                await sleep(ms);
              } finally {
                inside--;
              }
            }),
          );
          assert.equal(limiter.borrowedTokens, 0);
          assert.equal(limiter.statistics().tasksWaiting, 0);
        });
      },
    ),
    { numRuns: RUNS },
  );
});

test("Queue under random producers, consumers, cancellations and timeouts: no item lost or delivered twice", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3 }), limit: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }) }), { minLength: 1, maxLength: 5 }), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.array(fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3 }), limit: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }) }), { minLength: 1, maxLength: 5 }), {
        minLength: 1,
        maxLength: 3,
      }),
      cancels,
      fc.boolean(),
      async (maxsize, producers, consumers, cuts, nowait) => {
        await runVirtual(async () => {
          const loop = getRunningLoop();
          const q = new Queue<number>(maxsize);
          const put = new Set<number>();
          const got: number[] = [];
          let next = 0;
          const check = () => assert.ok(maxsize === 0 || q.qsize() <= maxsize, "over maxsize");
          const ps = producers.map((prog) =>
            createTask(async () => {
              for (const s of prog) {
                await sleep(s.gap);
                const item = next++;
                try {
                  if (nowait && s.limit === undefined) {
                    try {
                      q.putNowait(item);
                    } catch {
                      continue;
                    }
                  } else if (s.limit === undefined) await q.put(item);
                  else await timeout(s.limit, () => q.put(item));
                  put.add(item);
                } catch (e) {
                  if (e instanceof QueueShutDown) return; // every consumer is gone
                  if (!(e instanceof TimeoutError)) throw e;
                }
                check();
              }
            }),
          );
          const cs = consumers.map((prog) =>
            createTask(async () => {
              for (const s of prog) {
                await sleep(s.gap);
                try {
                  const v = s.limit === undefined ? await q.get() : await timeout(s.limit, () => q.get());
                  got.push(v);
                } catch (e) {
                  if (!(e instanceof TimeoutError || e instanceof QueueShutDown)) throw e;
                }
                check();
              }
            }),
          );
          const all = [...ps, ...cs];
          for (const c of cuts) loop.callLater(c.at, () => all[c.who % all.length].cancel());
          // Consumers may wait for items that never come, producers for room that never frees: shut
          // the queue down once either side is done, which must wake the other side.
          const stop = (side: Task<void>[]) =>
            createTask(async () => {
              await gather(side, { returnExceptions: true });
              q.shutdown();
            });
          const stoppers = [stop(ps), stop(cs)];
          const rs = await gather(all, { returnExceptions: true });
          await gather(stoppers);
          for (const r of rs) if (r !== undefined) assert.ok(expected(r), `unexpected ${inspect(r)}`);
          const rest: number[] = [];
          while (!q.empty()) rest.push(q.getNowait());
          assert.equal(new Set(got).size, got.length, "an item was delivered twice");
          assert.deepEqual([...got, ...rest].sort((a, b) => a - b), [...put].sort((a, b) => a - b), "an item was lost");
          // FIFO: items come out in the order they went in.
          const order = [...got, ...rest];
          assert.ok(
            order.every((v, i) => i === 0 || v > order[i - 1]) || producers.length > 1,
            `single producer: items out of order ${order}`,
          );
        });
      },
    ),
    { numRuns: RUNS },
  );
});

test("Condition under random cancellations: no lost notification, each item taken once, lock ends free", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
      cancels,
      fc.boolean(),
      async (nConsumers, gaps, cuts, cancelWhileHoldingLock) => {
        await runVirtual(async () => {
          const loop = getRunningLoop();
          const cond = new Condition();
          const items: number[] = [];
          const taken: number[] = [];
          const consumers = Array.from({ length: nConsumers }, () =>
            createTask(() =>
              cond.run(async () => {
                await cond.waitFor(() => items.length > 0);
                assert.equal(cond.locked(), true);
                taken.push(items.shift() as number);
              }),
            ),
          );
          const producer = createTask(async () => {
            for (let i = 0; i < nConsumers; i++) {
              await sleep(gaps[i % gaps.length]);
              await cond.run(() => {
                items.push(i);
                cond.notify(1);
              });
            }
          });
          for (const c of cuts) {
            loop.callLater(c.at, () => {
              const t = consumers[c.who % consumers.length];
              if (cancelWhileHoldingLock && !cond.locked()) {
                // Cancel while another task holds the lock: the waiter must wait for it to re-acquire.
                void cond.acquire().then(() => {
                  t.cancel();
                  loop.callLater(1, () => cond.release());
                });
              } else t.cancel();
            });
          }
          await producer;
          const rs = await gather(consumers, { returnExceptions: true });
          for (const r of rs) if (r !== undefined) assert.ok(r instanceof CancelledError, `unexpected ${inspect(r)}`);
          const finished = consumers.filter((t) => !t.cancelled()).length;
          assert.equal(taken.length, finished, "every consumer that was not cancelled got an item");
          assert.equal(new Set(taken).size, taken.length);
          assert.equal(taken.length + items.length, nConsumers);
          await sleep(60);
          assert.equal(cond.locked(), false);
        });
      },
    ),
    { numRuns: RUNS },
  );
});

test("RateLimiter under random arrivals and cancellations: grants obey the token bucket", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 8 }),
      cancels,
      async (limit, burst, arrivals, cuts) => {
        await runVirtual(async () => {
          const loop = getRunningLoop();
          const interval = 10;
          const limiter = new RateLimiter(limit, interval, { burst });
          const grants: number[] = [];
          const ts = arrivals.map((at) =>
            createTask(async () => {
              await sleep(at);
              await limiter.acquire();
              grants.push(loop.time());
            }),
          );
          for (const c of cuts) loop.callLater(c.at, () => ts[c.who % ts.length].cancel());
          await gather(ts, { returnExceptions: true });
          const t = interval / limit;
          for (let i = 0; i < grants.length; i++) {
            for (let j = i + 1; j < grants.length; j++) {
              assert.ok(j - i <= burst - 1 + (grants[j] - grants[i]) / t + 1e-9, `grants ${grants} break the bucket (T=${t}, burst=${burst})`);
            }
          }
          assert.equal(grants.length, ts.filter((x) => !x.cancelled()).length);
        });
      },
    ),
    { numRuns: RUNS },
  );
});
