/**
 * Random schedules against a shared Queue: a worker thread puts (blocking, with random timeouts),
 * main-thread tasks put and get with random timeouts, signals and cancels, and the queue is
 * drained at the end. Invariants: no wait hangs; every item whose put returned is got exactly once
 * (0 lost, 0 duplicated), and each consumer gets one producer's items in the order they were put.
 * FUZZ_RUNS sets the number of schedules (default 100; `npm run fuzz` runs 100,000).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import fc from "fast-check";
import { CancelledError, createTask, sleep, ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { Queue, QueueEmpty, QueueFull, QueueShutDown } from "../../src/threading/index.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const jobs = workerModule<typeof import("./fixtures/jobs.js")>(new URL("./fixtures/jobs.js", import.meta.url));
const pool = new ThreadPoolExecutor({ maxWorkers: 1, prestart: true });
after(() => pool.shutdown());

const actorArb = fc.record({
  role: fc.constantFrom("put" as const, "get" as const),
  n: fc.integer({ min: 1, max: 8 }),
  timeout: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 2 }),
  cancelAfter: fc.option(fc.integer({ min: 0, max: 4 }), { freq: 3 }),
});

const scheduleArb = fc.record({
  maxsize: fc.integer({ min: 0, max: 4 }),
  bufferSize: fc.constantFrom(64, 256, 4096),
  actors: fc.array(actorArb, { minLength: 1, maxLength: 5 }),
  worker: fc.option(fc.record({ n: fc.integer({ min: 1, max: 30 }), timeout: fc.option(fc.integer({ min: 0, max: 3 })) }), { freq: 2 }),
});

test(`random put/get/cancel/timeout schedules on a Queue across threads lose nothing (${RUNS} schedules)`, async () => {
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

async function schedule(s: { maxsize: number; bufferSize: number; actors: { role: "put" | "get"; n: number; timeout: number | null; cancelAfter: number | null }[]; worker: { n: number; timeout: number | null } | null }): Promise<void> {
  {
    {
      const q = new Queue<number>(s.maxsize, { bufferSize: s.bufferSize });
      const putOk = new Set<number>();
      const got: number[] = [];
      const byConsumer: number[][] = s.actors.map(() => []);
      const drained: number[] = [];
      byConsumer.push(drained);
      let next = 1_000_000;
      const tasks = s.actors.map((a, ai) => {
        const t = createTask(async () => {
          for (let i = 0; i < a.n; i++) {
            try {
              if (a.role === "put") {
                const id = ai * 1000 + i;
                await q.put(id, { timeout: a.timeout });
                putOk.add(id);
              } else {
                const item = await q.get({ timeout: a.timeout });
                got.push(item);
                byConsumer[ai].push(item);
              }
            } catch (e) {
              if (e instanceof QueueFull || e instanceof QueueEmpty) continue;
              if (e instanceof QueueShutDown) return;
              throw e;
            }
          }
        });
        if (a.cancelAfter !== null) setTimeout(() => t.cancel(), a.cancelAfter);
        return t;
      });
      const workerItems = s.worker === null ? [] : Array.from({ length: s.worker.n }, () => next++);
      const w = s.worker === null ? null : pool.submit(jobs.fns.putAll, q, workerItems, s.worker.timeout);
      // Drain while the producers run, so that blocked puts can finish.
      let producing = true;
      const drainer = (async () => {
        while (producing || q.qsize() > 0) {
          try {
            const item = await q.get({ timeout: 5 });
            got.push(item);
            drained.push(item);
          } catch (e) {
            if (!(e instanceof QueueEmpty)) throw e;
          }
        }
      })();
      const hang = new Promise<"hang">((r) => setTimeout(() => r("hang"), 10_000).unref());
      const puts = tasks.filter((_, i) => s.actors[i].role === "put");
      const gets = tasks.filter((_, i) => s.actors[i].role === "get");
      const produced = await Promise.race([Promise.allSettled([...puts, ...(w === null ? [] : [w])]), hang]);
      assert.notEqual(produced, "hang", "a put never settled");
      for (const r of produced as PromiseSettledResult<unknown>[]) if (r.status === "rejected" && !(r.reason instanceof CancelledError)) throw r.reason;
      const workerOk = w === null ? [] : await w;
      producing = false;
      await drainer;
      // Getters still waiting can get nothing more: shutting down wakes them with QueueShutDown.
      q.shutdown();
      const consumed = await Promise.race([Promise.allSettled(gets), hang]);
      assert.notEqual(consumed, "hang", "a get never settled after shutdown()");
      for (const r of consumed as PromiseSettledResult<unknown>[]) if (r.status === "rejected" && !(r.reason instanceof CancelledError) && !(r.reason instanceof QueueShutDown)) throw r.reason;
      await sleep(0);
      for (const id of workerOk) putOk.add(id);
      // Every item whose put returned was got exactly once; nothing else was got.
      const counts = new Map<number, number>();
      for (const g of got) counts.set(g, (counts.get(g) ?? 0) + 1);
      for (const id of putOk) assert.equal(counts.get(id), 1, `item ${id} got ${counts.get(id) ?? 0} times`);
      // Each consumer gets one producer's items (the worker's) in put order. (Across consumers the
      // order they resume in is not the order they took in: each wakes on its own.)
      for (const mine of byConsumer) {
        const fromWorker = mine.filter((g) => g >= 1_000_000);
        assert.deepEqual(fromWorker, [...fromWorker].sort((a, b) => a - b));
      }
      assert.equal(q.qsize(), 0);
    }
  }
}
