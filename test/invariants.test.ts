// Issue 13, item 3: the Loop's run-state flags and the Task's cancel fields have written invariants
// (comments beside the fields in loop.ts and tasks.ts), asserted in debug mode only.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, createTask, gather, Lock, Loop, Queue, run, sleep, taskGroup, timeout } from "../src/index.js";

test("a broken invariant throws in debug mode, naming it", async () => {
  await run(
    async () => {
      const t = createTask(() => sleep(1000), { name: "victim" });
      await sleep(0);
      // The task is suspended on its sleep: consistent.
      t._checkInvariants();
      // A rule-(c) request with no request pending cannot exist: forge one.
      t._cancelAtCall = true;
      assert.throws(() => t._checkInvariants(), /Task invariant broken: _cancelAtCall ⇒ _mustCancel && _started \(task "victim"/);
      t._cancelAtCall = false;
      // A waiter without a count.
      const n = t._nWaiting;
      t._nWaiting = 0;
      assert.throws(() => t._checkInvariants(), /Task invariant broken: _futWaiter !== null iff _nWaiting > 0/);
      t._nWaiting = n;
      t.cancel();
      await assert.rejects(t, CancelledError);
    },
    { debug: true },
  );
  // The loop's own: a Node timer recorded without its deadline.
  const loop = new Loop({ debug: true });
  loop._checkInvariants();
  (loop as unknown as { _nodeTimerWhen: number })._nodeTimerWhen = 5;
  assert.throws(() => loop._checkInvariants(), /Loop invariant broken: _nodeTimer is armed iff _nodeTimerWhen is finite/);
  (loop as unknown as { _nodeTimerWhen: number })._nodeTimerWhen = Infinity;
  loop.close();
});

test("a busy debug-mode run (cancels, timeouts, groups, gather, locks, queues, sleep(0)) breaks no invariant", async () => {
  const errors: unknown[] = [];
  const result = await run(
    async () => {
      createTask(() => 0)._loop.setExceptionHandler((_l, ctx) => errors.push(ctx.message));
      const lock = new Lock();
      const q = new Queue<number>(4);
      let sum = 0;
      await taskGroup(async (tg) => {
        for (let p = 0; p < 20; p++) {
          void tg.createTask(async () => {
            for (let i = 0; i < 20; i++) {
              await q.put(i);
              await sleep(0);
            }
          });
        }
        for (let c = 0; c < 4; c++) {
          void tg.createTask(async () => {
            for (let i = 0; i < 100; i++) {
              const v = await q.get();
              await lock.run(async () => {
                sum += v;
                await sleep(0);
              });
            }
          });
        }
        // Cancellation in every shape: timeouts that fire, a task cancelled while suspended on several
        // futures (Promise.all), one cancelled before it starts, one cancelled while on a foreign promise.
        void tg.createTask(async () => {
          for (let i = 0; i < 10; i++) {
            try {
              await timeout(1, () => sleep(50));
            } catch {
              // expected: TimeoutError
            }
          }
        });
        const multi = createTask(() => Promise.all([sleep(100), sleep(200)]));
        const early = createTask(() => sleep(1));
        early.cancel();
        const foreign = createTask(() => new Promise((r) => setTimeout(r, 20)).then(() => sleep(0)));
        await sleep(2);
        multi.cancel();
        foreign.cancel();
        const outcomes = await gather([multi, early, foreign], { returnExceptions: true });
        assert.ok(outcomes.every((o) => o instanceof CancelledError));
      });
      return sum;
    },
    { debug: true },
  );
  assert.equal(result, 20 * (19 * 20) / 2);
  assert.deepEqual(errors.filter((m) => typeof m === "string" && /invariant/.test(m)), []);
});
