/**
 * W5 — one producer and one consumer moving 1,000,000 items through a bounded queue of 100.
 * @module
 */
import { Effect, Fiber, Queue as EffectQueue } from "effect";
import { createTask, Queue, run } from "../../src/index.js";
import { now, type Sample } from "../tools/lib.js";
import { HandQueue } from "./floors.js";
import { fasterThanCPython, type CaseDef, type Side, type SuiteContext, type Workload } from "./model.js";

const SIZE = 100;
const perItem = (ms: number, n: number): number => (ms * 1e6) / n;

function check(sum: number, n: number, who: string): void {
  if (sum !== (n * (n - 1)) / 2) throw new Error(`W5 ${who}: wrong sum ${sum}`);
}

function sides(n: number, ctx: SuiteContext): Side[] {
  const out: Side[] = [
    {
      name: "hand-written queue",
      kind: "floor",
      note: "arrays of items and resolvers, two async functions",
      run: async (): Promise<Sample> => {
        const q = new HandQueue<number>(SIZE);
        const t0 = now();
        const producer = (async () => {
          for (let i = 0; i < n; i++) await q.put(i);
        })();
        let sum = 0;
        for (let i = 0; i < n; i++) sum += await q.get();
        await producer;
        const ms = now() - t0;
        check(sum, n, "floor");
        return { ns: perItem(ms, n) };
      },
    },
    {
      name: "tsaio",
      kind: "tsaio",
      note: "Queue(100), a producer task and a consumer task",
      run: () =>
        run(async (): Promise<Sample> => {
          const q = new Queue<number>(SIZE);
          const t0 = now();
          const producer = createTask(async () => {
            for (let i = 0; i < n; i++) await q.put(i);
          });
          const consumer = createTask(async () => {
            let sum = 0;
            for (let i = 0; i < n; i++) sum += await q.get();
            return sum;
          });
          await producer;
          const sum = await consumer;
          const ms = now() - t0;
          check(sum, n, "tsaio");
          return { ns: perItem(ms, n) };
        }),
    },
    {
      name: "Effect",
      kind: "peer",
      note: "Queue.bounded(100), a producer fiber and the consumer",
      run: () =>
        Effect.runPromise(
          Effect.gen(function* () {
            const q = yield* EffectQueue.bounded<number>(SIZE);
            const t0 = now();
            const producer = yield* Effect.forkChild(
              Effect.gen(function* () {
                for (let i = 0; i < n; i++) yield* EffectQueue.offer(q, i);
              }),
            );
            let sum = 0;
            for (let i = 0; i < n; i++) sum += yield* EffectQueue.take(q);
            yield* Fiber.join(producer);
            const ms = now() - t0;
            check(sum, n, "Effect");
            return { ns: perItem(ms, n) };
          }),
        ),
    },
  ];
  const py = ctx.python;
  if (py !== null) out.push({ name: "CPython asyncio", kind: "python", warmup: false, note: "asyncio.Queue(100), two coroutines in gather", run: () => py("queue", n, SIZE) });
  return out;
}

export const w5: Workload = {
  id: "W5",
  title: "a bounded queue, 1 producer / 1 consumer",
  description:
    "A producer puts n integers into a queue bounded to 100 items while a consumer takes and sums them (the producer waits whenever the queue is full). " +
    "Time per item. Effection's queues are unbounded (no backpressure), so it is not in this workload; p-queue is a job queue, not a data queue.",
  async cases(ctx): Promise<CaseDef[]> {
    const n = 1_000_000;
    return [
      {
        id: "W5a",
        workload: "W5",
        title: `${n.toLocaleString("en")} items through a queue of ${SIZE}`,
        metric: "ns",
        unit: "ns/item",
        floor: "hand-written queue",
        sides: sides(n, ctx),
        goals: [
          { text: "≥ 5M items/s (≤ 200 ns per item)", kind: "absolute", k: 200 },
          { text: "≥ 3× faster than Effect", kind: "faster", k: 3, ref: "Effect" },
          ...fasterThanCPython(ctx, 3),
        ],
      },
    ];
  },
};
