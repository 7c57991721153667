/**
 * Random kills: worker jobs of one pool loop on a shared Lock, RLock or Semaphore (sync and async
 * acquires, holding a while), main-thread tasks too, and at a random round one or more workers die —
 * before acquiring, while holding, or while an async acquire waits. After each schedule:
 * - every wait settled: 0 hangs (the main thread's waits have no timeout);
 * - never more holders than permits at once (a dying holder leaves `holders` before it dies);
 * - nothing leaked: the lock is free / all permits back, the ticket queue empty.
 * Each kill costs a worker start-up, so few schedules run by default; `npm run fuzz` runs
 * FUZZ_RUNS / 1000 of them.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import fc from "fast-check";
import { BrokenExecutorError, createTask, run, sleep, ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { Lock, RLock, Semaphore, SharedArray } from "../../src/threading/index.js";
import { queueLength } from "../../src/threading/shared.js";

const RUNS = process.env.FUZZ_RUNS === undefined ? 4 : Math.max(4, Math.ceil(Number(process.env.FUZZ_RUNS) / 1000));
const crash = workerModule<typeof import("./fixtures/crash.js")>(new URL("./fixtures/crash.js", import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 3 });
after(() => pool.shutdown());

const jobArb = fc
  .record({
    ops: fc.integer({ min: 1, max: 6 }),
    sync: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
    holdMs: fc.integer({ min: 0, max: 3 }),
    die: fc.boolean(),
    dieAt: fc.nat(),
    phase: fc.constantFrom("before" as const, "holding" as const, "waiting" as const),
  })
  .map((j) => ({ ...j, dieAt: j.die ? j.dieAt % j.ops : -1 }));

const scheduleArb = fc
  .record({
    kind: fc.constantFrom("lock" as const, "rlock" as const, "sem" as const),
    k: fc.integer({ min: 1, max: 3 }),
    main: fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
    jobs: fc.array(jobArb, { minLength: 1, maxLength: 3 }),
  })
  // At least one worker dies.
  .map((s) => (s.jobs.some((j) => j.dieAt >= 0) ? s : { ...s, jobs: [{ ...s.jobs[0]!, dieAt: 0 }, ...s.jobs.slice(1)] }));

type Schedule = typeof scheduleArb extends fc.Arbitrary<infer S> ? S : never;

async function runSchedule(s: Schedule): Promise<void> {
  const k = s.kind === "sem" ? s.k : 1;
  const prim = s.kind === "lock" ? new Lock() : s.kind === "rlock" ? new RLock() : new Semaphore(k);
  const holders = new SharedArray("i32", 1, { lock: false });
  let violations = 0;
  await run(async () => {
    const futs = s.jobs.map((j) => pool.submit(crash.fns.liveOrDie, prim, holders, k, j.ops, j.sync, j.holdMs, j.dieAt, j.phase));
    const tasks = s.main.map((holds) =>
      createTask(async () => {
        for (const ms of holds) {
          assert.equal(await prim.acquire(), true);
          if (Atomics.add(holders.array, 0, 1) + 1 > k) violations++;
          await sleep(ms);
          Atomics.sub(holders.array, 0, 1);
          prim.release();
        }
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<"hang">((r) => (timer = setTimeout(() => r("hang"), 60_000)));
    const all = Promise.allSettled([...futs, ...tasks]);
    const outcome = await Promise.race([all, hang]);
    clearTimeout(timer);
    assert.notEqual(outcome, "hang", `a wait never settled: ${JSON.stringify(s)}`);
    const results = outcome as PromiseSettledResult<unknown>[];
    s.jobs.forEach((j, i) => {
      const r = results[i]!;
      if (j.dieAt >= 0) assert.ok(r.status === "rejected" && r.reason instanceof BrokenExecutorError, `job ${i} should have died: ${String((r as PromiseRejectedResult).reason ?? "")}`);
      else if (r.status === "fulfilled") violations += r.value as number;
      else throw r.reason;
    });
    for (const r of results.slice(s.jobs.length)) if (r.status === "rejected") throw r.reason;
  });
  assert.equal(violations, 0, "more holders than permits");
  if (prim instanceof Semaphore) assert.equal(prim.value, k, "permits leaked");
  else assert.equal(prim.locked(), false, "the lock is still held");
  assert.equal(queueLength(prim._w), 0, "tickets left in the queue");
}

test(`random kills of workers using a Lock, RLock or Semaphore: 0 hangs, nothing leaked (${RUNS} schedules)`, async () => {
  await fc.assert(
    fc.asyncProperty(scheduleArb, async (s) => runSchedule(s)),
    { numRuns: RUNS },
  );
});
