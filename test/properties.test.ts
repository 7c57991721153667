/**
 * Property-based tests: random programs of tasks, sleeps, cancellations and timeouts on the virtual
 * clock, checked against what asyncio's rules predict. FUZZ_RUNS scales the number of schedules
 * (`npm run fuzz` sets it high).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  CancelledError,
  createTask,
  currentTask,
  ExceptionGroup,
  gather,
  getRunningLoop,
  sleep,
  type Task,
  taskGroup,
  timeout,
  TimeoutError,
} from "../src/index.js";
import { runVirtual } from "../src/testing.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

// Step durations; 0 means sleep(0) (one loop iteration, no time).
const steps = fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 5 });

test("random tasks and cancellations: a task ends cancelled exactly when a cancel reached it while pending", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(steps, { minLength: 1, maxLength: 8 }),
      fc.array(fc.record({ at: fc.integer({ min: 0, max: 60 }), who: fc.nat() }), { maxLength: 8 }),
      async (programs, cancels) => {
        await runVirtual(async () => {
          const loop = getRunningLoop();
          const accepted: boolean[] = programs.map(() => false);
          const endedAt: number[] = programs.map(() => -1);
          const tasks: Task<number>[] = programs.map((prog, i) =>
            createTask(async () => {
              try {
                let total = 0;
                for (const d of prog) {
                  await sleep(d);
                  total += d;
                }
                return total;
              } finally {
                endedAt[i] = loop.time();
              }
            }),
          );
          const firstCancel: number[] = programs.map(() => Infinity);
          for (const c of cancels) {
            const i = c.who % programs.length;
            loop.callLater(c.at, () => {
              if (tasks[i]!.cancel(`c@${c.at}`)) {
                accepted[i] = true;
                firstCancel[i] = Math.min(firstCancel[i]!, c.at);
              }
            });
          }
          await gather(tasks, { returnExceptions: true });
          tasks.forEach((t, i) => {
            const total = programs[i]!.reduce((a, b) => a + b, 0);
            assert.equal(t.done(), true);
            assert.equal(t.cancelled(), accepted[i], `task ${i}: cancelled() must match an accepted cancel`);
            if (t.cancelled()) {
              // Delivered at once: no cleanup awaits, so the task ended when it was first cancelled.
              assert.equal(endedAt[i], firstCancel[i]);
              assert.throws(() => t.result(), (e: unknown) => e instanceof CancelledError && e.message === `c@${firstCancel[i]}`);
            } else {
              assert.equal(t.result(), total);
              assert.equal(endedAt[i], total);
            }
          });
          await sleep(100); // let the remaining cancel timers fire on done tasks: cancel() returns false
          assert.ok(tasks.every((t) => t.cancel() === false));
        });
      },
    ),
    { numRuns: RUNS },
  );
});

test("random timeouts with random outside cancellations: TimeoutError only for the scope's own expiry", async () => {
  await fc.assert(
    fc.asyncProperty(
      // Even work and deadline, odd cancel time: no two events share a millisecond.
      fc.integer({ min: 0, max: 30 }).map((x) => x * 2),
      fc.integer({ min: 0, max: 30 }).map((x) => x * 2 + 1000),
      fc.option(fc.integer({ min: 0, max: 40 }).map((x) => x * 2 + 1), { nil: undefined }),
      fc.boolean(),
      async (work, deadlineRaw, cancelAt, swallow) => {
        const deadline = deadlineRaw - 1000;
        await runVirtual(async () => {
          const loop = getRunningLoop();
          const t = createTask(async () => {
            const r = await timeout(deadline, async () => {
              if (!swallow) return sleep(work, "done");
              try {
                return await sleep(work, "done");
              } catch {
                return "swallowed";
              }
            });
            return [r, currentTask()!.cancelling()] as const;
          });
          if (cancelAt !== undefined) loop.callLater(cancelAt, () => t.cancel());
          const outcome = await Promise.allSettled([t]);
          const first = Math.min(work === deadline ? Infinity : work, deadline, cancelAt ?? Infinity);
          const r = outcome[0]!;
          if (work < deadline && work <= first) {
            assert.equal(r.status, "fulfilled");
            assert.deepEqual((r as PromiseFulfilledResult<unknown>).value, ["done", 0]);
          } else if (deadline === first || (work === deadline && deadline < (cancelAt ?? Infinity))) {
            // The scope's own expiry. A body that swallows it returns; otherwise TimeoutError.
            if (swallow) {
              assert.equal(r.status, "fulfilled");
              assert.deepEqual((r as PromiseFulfilledResult<unknown>).value, ["swallowed", 0]);
            } else {
              assert.equal(r.status, "rejected");
              assert.ok((r as PromiseRejectedResult).reason instanceof TimeoutError);
            }
          } else {
            // An outside cancellation first: it is never turned into TimeoutError.
            if (swallow) {
              assert.equal(r.status, "fulfilled");
              assert.deepEqual((r as PromiseFulfilledResult<unknown>).value, ["swallowed", 1]);
            } else {
              assert.equal(r.status, "rejected");
              assert.ok((r as PromiseRejectedResult).reason instanceof CancelledError);
              assert.equal(t.cancelled(), true);
            }
          }
        });
      },
    ),
    { numRuns: RUNS },
  );
});

test("random task groups: nothing outlives the group, errors are reported, the parent is never left cancelling", async () => {
  await fc.assert(
    fc.asyncProperty(
      // Even child times, odd cancel times: the outcome of same-millisecond timers is not defined.
      fc.array(fc.record({ ms: fc.integer({ min: 0, max: 20 }).map((x) => x * 2), fails: fc.boolean() }), { minLength: 1, maxLength: 6 }),
      fc.option(fc.integer({ min: 0, max: 25 }).map((x) => x * 2 + 1), { nil: undefined }),
      async (children, cancelAt) => {
        await runVirtual(async () => {
          const loop = getRunningLoop();
          const kids: Task<void>[] = [];
          const outer = createTask(async () => {
            try {
              await taskGroup(async (tg) => {
                for (const c of children) {
                  kids.push(
                    tg.createTask(async () => {
                      await sleep(c.ms);
                      if (c.fails) throw new RangeError(`failed at ${c.ms}`);
                    }),
                  );
                }
              });
              return "ok";
            } finally {
              assert.ok(kids.every((k) => k.done()), "a child outlived its group");
            }
          });
          if (cancelAt !== undefined) loop.callLater(cancelAt, () => outer.cancel());
          const [r] = await Promise.allSettled([outer]);
          const firstFail = Math.min(...children.filter((c) => c.fails).map((c) => c.ms));
          const allDone = Math.max(...children.map((c) => c.ms));
          const cancelFirst = cancelAt !== undefined && cancelAt < Math.min(firstFail, allDone);
          if (cancelFirst) {
            assert.equal(r!.status, "rejected");
            assert.ok((r as PromiseRejectedResult).reason instanceof CancelledError);
          } else if (Number.isFinite(firstFail) && (cancelAt === undefined || cancelAt >= firstFail)) {
            assert.equal(r!.status, "rejected");
            const e = (r as PromiseRejectedResult).reason as unknown;
            if (cancelAt === firstFail) assert.ok(e instanceof ExceptionGroup || e instanceof CancelledError);
            else {
              assert.ok(e instanceof ExceptionGroup, `expected ExceptionGroup, got ${String(e)}`);
              assert.ok(e.exceptions.length >= 1 && e.exceptions.every((x) => x instanceof RangeError));
              assert.ok(e.exceptions.every((x) => (x as Error).message === `failed at ${firstFail}`));
            }
          } else if (cancelAt === undefined || cancelAt >= allDone) {
            assert.equal(r!.status, "fulfilled");
          }
          assert.ok(kids.every((k) => k.done()));
        });
      },
    ),
    { numRuns: RUNS },
  );
});
