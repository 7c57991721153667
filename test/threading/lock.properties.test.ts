/**
 * Random schedules against a shared Lock, RLock or Semaphore: main-thread tasks acquire with random
 * timeouts, signals and task cancels, hold for a while and release, while a worker thread of one
 * reused pool (warm: started once for the whole file) acquires and releases with
 * `acquireSync(timeout)`. Schedules run {@link BATCH} at a time, each on its own primitive, so the
 * waits of one overlap the others' (1,000 schedules take a few seconds). After each schedule:
 * - never more holders than permits at once, in any thread;
 * - every wait settled (no hang), and nothing leaked: all permits back, the ticket queue empty;
 * - FIFO (one permit): the main thread's waiters that neither timed out nor were cancelled got the
 *   primitive in the order they queued (their ticket numbers).
 * A release may also cancel another task of the schedule a few microtasks / loop turns later, so
 * that some cancels land between a waiter's grant and its task's resumption (the grant must then
 * pass on: issue 14's lost hand-over).
 * FUZZ_RUNS sets the number of schedules (default 1,000; `npm run fuzz` runs 100,000).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { CancelledError, createTask, sleep, type Task, ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { Lock, RLock, Semaphore, SharedArray } from "../../src/threading/index.js";
import { NEXT, queueLength } from "../../src/threading/shared.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const BATCH = 4;
const jobs = workerModule<typeof import("./fixtures/jobs.js")>(new URL("./fixtures/jobs.js", import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 2, prestart: true });
after(() => pool.shutdown());
// Warm: both workers started and the fixture loaded before the first schedule (a worker's start-up
// on a loaded machine can take seconds, which the hang check below must not count).
before(async () => {
  const [a, b] = await Promise.all([pool.submit(jobs.fns.tryFor, new Lock(), 0), pool.submit(jobs.fns.tryFor, new Lock(), 0)]);
  assert.deepEqual([a, b], [true, true]);
});

interface Op {
  timeout: number | null;
  /** Abort the wait after this many ms: by signal, or by cancelling the task. */
  cancelAfter: number | null;
  cancelBy: "signal" | "task";
  hold: number;
  /** After releasing, cancel task `victim` (mod the task count) after `macro` setImmediates and `micro` microtasks. */
  kill: { victim: number; macro: number; micro: number } | null;
}

const opArb = fc.record({
  timeout: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 3 }),
  cancelAfter: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 3 }),
  cancelBy: fc.constantFrom("signal" as const, "task" as const),
  hold: fc.integer({ min: 0, max: 2 }),
  kill: fc.option(fc.record({ victim: fc.nat(4), macro: fc.integer({ min: 0, max: 2 }), micro: fc.integer({ min: 0, max: 12 }) }), { freq: 4 }),
});

const scheduleArb = fc.record({
  kind: fc.constantFrom("lock" as const, "rlock" as const, "sem" as const),
  k: fc.integer({ min: 1, max: 3 }),
  tasks: fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 5 }),
  worker: fc.option(fc.record({ n: fc.integer({ min: 1, max: 12 }), timeout: fc.option(fc.integer({ min: 0, max: 2 })), holdUs: fc.integer({ min: 0, max: 60 }) }), { freq: 2 }),
});

export type Schedule = { kind: "lock" | "rlock" | "sem"; k: number; tasks: Op[][]; worker: { n: number; timeout: number | null; holdUs: number } | null };

export async function runSchedule(s: Schedule): Promise<void> {
  const k = s.kind === "sem" ? s.k : 1;
  const prim = s.kind === "lock" ? new Lock() : s.kind === "rlock" ? new RLock() : new Semaphore(k);
  const holders = new SharedArray("i32", 1, { lock: false });
  let violations = 0;
  const grants: number[] = []; // queue positions of plain waiters, in the order they got it
  const plainQueued: number[] = [];
  let tasks: Task<void>[] = [];
  const kills: Promise<void>[] = [];
  const killLater = async (kill: NonNullable<Op["kill"]>): Promise<void> => {
    for (let i = 0; i < kill.macro; i++) await new Promise<void>((r) => setImmediate(r));
    for (let i = 0; i < kill.micro; i++) await null;
    tasks[kill.victim % tasks.length].cancel();
  };

  const body = async (ops: Op[]): Promise<void> => {
    for (const op of ops) {
      const ac = op.cancelAfter !== null && op.cancelBy === "signal" ? new AbortController() : null;
      const before = Atomics.load(prim._w, NEXT);
      const p = prim.acquire({ timeout: op.timeout, ...(ac === null ? {} : { signal: ac.signal }) });
      // A wait that could not complete at once took a ticket (synchronously): its place in the queue.
      const after = Atomics.load(prim._w, NEXT);
      const pos = after !== before ? after - 1 : -1;
      const plain = pos >= 0 && op.timeout === null && op.cancelAfter === null;
      if (plain) plainQueued.push(pos);
      let timer: NodeJS.Timeout | null = null;
      if (ac !== null) timer = setTimeout(() => ac.abort(), op.cancelAfter as number);
      let ok: boolean;
      try {
        ok = await p;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        continue;
      } finally {
        if (timer !== null) clearTimeout(timer);
      }
      if (!ok) continue;
      if (plain) grants.push(pos);
      if (Atomics.add(holders.array, 0, 1) + 1 > k) violations++;
      try {
        await sleep(op.hold);
      } finally {
        Atomics.sub(holders.array, 0, 1);
        prim.release();
        if (op.kill !== null) kills.push(killLater(op.kill));
      }
    }
  };

  tasks = s.tasks.map((ops) => {
    const t = createTask(() => body(ops));
    const c = ops.find((o) => o.cancelAfter !== null && o.cancelBy === "task");
    if (c !== undefined) setTimeout(() => t.cancel(), c.cancelAfter as number);
    return t;
  });
  const w = s.worker === null ? null : pool.submit(jobs.fns.syncRounds, prim, holders, k, s.worker.n, s.worker.timeout, s.worker.holdUs);
  const settled = Promise.allSettled([...tasks, ...(w === null ? [] : [w])]);
  const hang = new Promise<"hang">((r) => setTimeout(() => r("hang"), 30_000).unref());
  const outcome = await Promise.race([settled, hang]);
  assert.notEqual(outcome, "hang", "a wait never settled");
  for (const r of outcome as PromiseSettledResult<unknown>[]) {
    if (r.status === "rejected" && !(r.reason instanceof CancelledError)) throw r.reason;
  }
  await Promise.all(kills);
  if (w !== null) {
    const [wv] = await w;
    violations += wv;
  }
  assert.equal(violations, 0, "more holders than permits");
  // Nothing leaked: every permit back, the queue empty.
  if (prim instanceof Semaphore) assert.equal(prim.value, k, "permits leaked");
  else assert.equal(prim.locked(), false, "the lock is still held");
  assert.equal(queueLength(prim._w), 0, "tickets left in the queue");
  // FIFO among plain main-thread waiters (those cancelled as a whole task are excluded from grants).
  // Checked with one permit only: with more, two waiters granted back to back may resume in either
  // order (each wakes from its own Atomics.waitAsync), though they were granted in ticket order.
  if (k === 1) {
    const expected = plainQueued.filter((p) => grants.includes(p)).sort((a, b) => a - b);
    assert.deepEqual(grants, expected, "plain waiters were not served in ticket order");
  }
}

test(`random acquire/release/cancel/timeout schedules across threads hold the invariants (${RUNS} schedules)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(scheduleArb, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map((s) => runSchedule(s as Schedule)));
    }),
    { numRuns: Math.ceil(RUNS / BATCH) },
  );
});
