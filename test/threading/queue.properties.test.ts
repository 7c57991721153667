/**
 * Random schedules against a shared Queue, on two worker threads reused across schedules: main-thread
 * tasks put and get with random timeouts, cancels and aborted signals; the workers put or get
 * blocking, with random timeouts; sometimes the queue is shut down mid-way. A drainer polls with
 * getNowait until every producer is done, then the queue is shut down and drained.
 *
 * Invariants: no wait hangs; every item whose put returned is got exactly once and nothing else is
 * got (0 lost, 0 duplicated); each consumer gets each producer's items in put order; `join()`
 * resolves once every got item is marked done, and one more `taskDone()` throws; no waiter stays
 * counted or queued in the shared words afterwards.
 * FUZZ_RUNS sets the number of schedules (default 1,000; `npm run fuzz` runs 100,000).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import fc from "fast-check";
import { CancelledError, createTask, InvalidStateError, run, sleep, ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { Queue, QueueEmpty, QueueFull, QueueShutDown } from "../../src/threading/index.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const jobs = workerModule<typeof import("./fixtures/queue-jobs.js")>(new URL("./fixtures/queue-jobs.js", import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 2, prestart: true });
after(() => pool.shutdown());

type Stop = { kind: "none" } | { kind: "cancel" | "abort"; ticks: number };
interface Actor {
  role: "put" | "get";
  n: number;
  timeout: number | null;
  stop: Stop;
}
interface WorkerActor {
  role: "put" | "get";
  n: number;
  timeout: number | null;
}
interface Schedule {
  maxsize: number;
  bufferSize: number;
  actors: Actor[];
  workers: WorkerActor[];
  shutdownAfter: number | null;
}

const stopArb: fc.Arbitrary<Stop> = fc.oneof(
  { arbitrary: fc.constant({ kind: "none" as const }), weight: 3 },
  fc.record({ kind: fc.constantFrom("cancel" as const, "abort" as const), ticks: fc.integer({ min: 0, max: 6 }) }),
);
const actorArb: fc.Arbitrary<Actor> = fc.record({
  role: fc.constantFrom("put" as const, "get" as const),
  n: fc.integer({ min: 1, max: 6 }),
  timeout: fc.option(fc.integer({ min: 0, max: 1 }), { freq: 2 }),
  stop: stopArb,
});
const workerArb: fc.Arbitrary<WorkerActor> = fc.record({
  role: fc.constantFrom("put" as const, "get" as const),
  n: fc.integer({ min: 1, max: 10 }),
  // Blocking gets without a timeout end at the final shutdown; blocking puts, once drained.
  timeout: fc.option(fc.integer({ min: 0, max: 1 }), { freq: 2 }),
});
const scheduleArb: fc.Arbitrary<Schedule> = fc.record({
  maxsize: fc.integer({ min: 0, max: 4 }),
  bufferSize: fc.constantFrom(32, 64, 4096),
  actors: fc.array(actorArb, { minLength: 1, maxLength: 5 }),
  workers: fc.array(workerArb, { maxLength: 2 }),
  shutdownAfter: fc.option(fc.integer({ min: 0, max: 10 }), { freq: 4 }),
});

test(`random put/get/cancel/timeout/shutdown schedules across threads lose nothing (${RUNS} schedules)`, async () => {
  await run(async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (s) => {
        try {
          await schedule(s);
        } catch (e) {
          if (process.env.QPROP_DEBUG === "1") console.error(e);
          throw e;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await sleep(0);
}

async function schedule(s: Schedule): Promise<void> {
  const q = new Queue<number>(s.maxsize, { bufferSize: s.bufferSize });
  const putOk = new Set<number>();
  const got: number[] = [];
  const byConsumer: number[][] = [];
  const consumerOf = (): number[] => {
    const mine: number[] = [];
    byConsumer.push(mine);
    return mine;
  };
  const tasks = s.actors.map((a, ai) => {
    const ac = new AbortController();
    const mine = a.role === "get" ? consumerOf() : [];
    const t = createTask(async () => {
      for (let i = 0; i < a.n; i++) {
        try {
          if (a.role === "put") {
            const id = ai * 1000 + i;
            await q.put(id, { timeout: a.timeout, signal: ac.signal });
            putOk.add(id);
          } else {
            const item = await q.get({ timeout: a.timeout, signal: ac.signal });
            got.push(item);
            mine.push(item);
          }
        } catch (e) {
          if (e instanceof QueueFull || e instanceof QueueEmpty) continue;
          if (e instanceof QueueShutDown) return;
          throw e;
        }
      }
    });
    if (a.stop.kind !== "none") {
      const { kind, ticks: k } = a.stop;
      void ticks(k).then(() => (kind === "cancel" ? t.cancel() : ac.abort()));
    }
    return t;
  });
  const workerJobs = s.workers.map((w, k) => {
    const items = w.role === "put" ? Array.from({ length: w.n }, (_, i) => 100_000 * (k + 1) + i) : [];
    return { w, items, job: pool.submit(jobs.fns.syncActor, q, w.role, items, w.n, w.timeout) };
  });
  if (s.shutdownAfter !== null) void ticks(s.shutdownAfter).then(() => q.shutdown());

  const settled = (p: Promise<unknown>): Promise<unknown> => p.then(
    () => undefined,
    (e: unknown) => {
      if (!(e instanceof CancelledError)) throw e;
    },
  );
  // Drain (polling, no timers) while the producers run, so that blocked puts can finish.
  const producers = Promise.all([...tasks.filter((_, i) => s.actors[i].role === "put").map(settled), ...workerJobs.filter((j) => j.w.role === "put").map((j) => j.job)]);
  let producing = true;
  void producers.finally(() => (producing = false)).catch(() => undefined);
  const drained = consumerOf();
  const drainOnce = (): void => {
    for (;;) {
      try {
        const item = q.getNowait();
        got.push(item);
        drained.push(item);
      } catch (e) {
        if (e instanceof QueueEmpty || e instanceof QueueShutDown) return;
        throw e;
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<"hang">((r) => (timer = setTimeout(() => r("hang"), 10_000)));
  const drainer = (async () => {
    while (producing) {
      drainOnce();
      await sleep(0);
    }
  })();
  assert.notEqual(await Promise.race([producers, hang]), "hang", "a put never settled");
  await drainer;
  drainOnce();
  // Getters still waiting can get nothing more: shutting down wakes them with QueueShutDown.
  q.shutdown();
  const rest = await Promise.race([Promise.all([...tasks.map(settled), ...workerJobs.map((j) => j.job)]), hang]);
  clearTimeout(timer);
  assert.notEqual(rest, "hang", "a wait never settled after shutdown()");
  drainOnce();
  for (const { w, items, job } of workerJobs) {
    const out = await job;
    if (w.role === "put") {
      assert.deepEqual(out, items.filter((i) => out.includes(i)), "the worker's puts returned out of order");
      for (const id of out) putOk.add(id);
    }
    else {
      got.push(...out);
      byConsumer.push(out);
    }
  }
  // Every item whose put returned was got exactly once; nothing else was got.
  const counts = new Map<number, number>();
  for (const g of got) counts.set(g, (counts.get(g) ?? 0) + 1);
  for (const id of putOk) assert.equal(counts.get(id), 1, `item ${id} got ${counts.get(id) ?? 0} times`);
  assert.equal(got.length, putOk.size, `got ${got.length} items, ${putOk.size} puts returned`);
  // Each consumer gets each producer's items in put order (producer: id / 1000).
  for (const mine of byConsumer) {
    const byProducer = new Map<number, number[]>();
    for (const g of mine) {
      const p = Math.floor(g / 1000);
      byProducer.set(p, [...(byProducer.get(p) ?? []), g]);
    }
    for (const ids of byProducer.values()) assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  }
  assert.equal(q.qsize(), 0);
  // taskDone/join account for exactly the items put.
  for (let i = 0; i < got.length; i++) q.taskDone();
  await q.join({ timeout: 1000 });
  assert.throws(() => q.taskDone(), InvalidStateError);
  // No waiter left counted (GWAIT/PWAIT) or queued (tickets), once cancelled waits ran their
  // clean-up (a cancelled future's done callbacks run on a later loop turn).
  const parts = (q as unknown as { _p: { c: Int32Array } })._p;
  for (let i = 0; i < 20 && (parts.c[10] !== 0 || parts.c[11] !== 0); i++) await sleep(0);
  assert.deepEqual([parts.c[10], parts.c[11]], [0, 0], "a waiter is still counted");
  assert.doesNotMatch(inspectQueue(q), /getters=|putters=/);
}

function inspectQueue(q: Queue<number>): string {
  return (q as unknown as Record<symbol, () => string>)[Symbol.for("nodejs.util.inspect.custom")]();
}
