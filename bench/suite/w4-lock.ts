/**
 * W4 — a mutual-exclusion lock: 1,000,000 acquire/release pairs on a free lock (W4a), and 100
 * contenders taking turns until 100,000 acquisitions (W4b).
 * @module
 */
import { Mutex } from "async-mutex";
import { Effect, Fiber, Semaphore as EffectSemaphore } from "effect";
import { createTask, gather, Lock, run, sleep, type Task } from "../../src/index.js";
import { now, type Sample } from "../tools/lib.js";
import { HandLock } from "./floors.js";
import { fasterThanCPython, type CaseDef, type Side, type SuiteContext, type Workload } from "./model.js";

const CONTENDERS = 100;
const perOp = (ms: number, n: number): number => (ms * 1e6) / n;

/** The hand-written lock and tsaio's Lock (async-mutex's acquire returns its release: own loops). */
interface JsLock {
  acquire(): PromiseLike<unknown>;
  release(): void;
}

async function uncontended(l: JsLock, n: number): Promise<Sample> {
  const t0 = now();
  for (let i = 0; i < n; i++) {
    await l.acquire();
    l.release();
  }
  return { ns: perOp(now() - t0, n) };
}

/**
 * The bookkeeping of a contended run, the same on every side: it fails the run if two contenders
 * ever hold the lock at once, or if some contender got under half its fair share of turns (then the
 * run was not contended: one contender took turns alone).
 */
class Turns {
  held = false;
  count = 0;
  readonly per = new Array<number>(CONTENDERS).fill(0);
  constructor(readonly n: number) {}
  take(k: number): void {
    if (this.held) throw new Error("W4b: two holders at once");
    this.held = true;
    this.count++;
    this.per[k]++;
  }
  give(): void {
    this.held = false;
  }
  result(t0: number, who: string): Sample {
    const ns = perOp(now() - t0, this.count);
    const least = Math.min(...this.per);
    if (least < this.n / CONTENDERS / 2) throw new Error(`W4b ${who}: a contender had ${least} turns of ${this.count}: not contended`);
    return { ns };
  }
}

/**
 * The contended shape, the same on every side: the lock is taken first, the 100 contenders start and
 * queue up behind it (`settle` lets them reach the lock), then it is released; from there on every
 * release hands the lock to the next in line and the releaser queues again at the back. (Without the
 * head start, a contender whose acquire does not suspend, as in asyncio, would take every turn alone.)
 * `spawn` starts one contender (an async function or a tsaio task); returns what to await.
 */
async function contended(l: JsLock, n: number, spawn: (f: () => Promise<void>) => PromiseLike<void>, settle: () => PromiseLike<unknown>, who: string): Promise<Sample> {
  const t = new Turns(n);
  const worker = (k: number) => async (): Promise<void> => {
    while (t.count < n) {
      await l.acquire();
      t.take(k);
      t.give();
      l.release();
    }
  };
  const t0 = now();
  await l.acquire();
  const ws: PromiseLike<void>[] = [];
  for (let k = 0; k < CONTENDERS; k++) ws.push(spawn(worker(k)));
  await settle();
  l.release();
  await Promise.all(ws);
  return t.result(t0, who);
}

async function mutexUncontended(n: number): Promise<Sample> {
  const m = new Mutex();
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const release = await m.acquire();
    release();
  }
  return { ns: perOp(now() - t0, n) };
}

async function mutexContended(n: number): Promise<Sample> {
  const m = new Mutex();
  const t = new Turns(n);
  const worker = async (k: number): Promise<void> => {
    while (t.count < n) {
      const release = await m.acquire();
      t.take(k);
      t.give();
      release();
    }
  };
  const t0 = now();
  const first = await m.acquire();
  const ws = Array.from({ length: CONTENDERS }, (_, k) => worker(k));
  await null;
  first();
  await Promise.all(ws);
  return t.result(t0, "async-mutex");
}

function effectUncontended(n: number): Promise<Sample> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const sem = yield* EffectSemaphore.make(1);
      const t0 = now();
      for (let i = 0; i < n; i++) {
        yield* sem.take(1);
        yield* sem.release(1);
      }
      return { ns: perOp(now() - t0, n) };
    }),
  );
}

function effectContended(n: number): Promise<Sample> {
  return Effect.runPromise(
    Effect.gen(function* () {
      const sem = yield* EffectSemaphore.make(1);
      const t = new Turns(n);
      const worker = (k: number): Effect.Effect<void> => {
        const turn = Effect.sync(() => {
          t.take(k);
          t.give();
        });
        return Effect.whileLoop({ while: () => t.count < n, body: () => sem.withPermit(turn), step: () => undefined });
      };
      const t0 = now();
      yield* sem.take(1);
      const fs = new Array<Fiber.Fiber<void>>(CONTENDERS);
      for (let k = 0; k < CONTENDERS; k++) fs[k] = yield* Effect.forkChild(worker(k));
      yield* Effect.yieldNow;
      yield* sem.release(1);
      yield* Fiber.joinAll(fs);
      return t.result(t0, "Effect");
    }),
  );
}

function sides(contendedCase: boolean, n: number, ctx: SuiteContext): Side[] {
  const plain = (f: () => Promise<void>): Promise<void> => f();
  const out: Side[] = contendedCase
    ? [
        { name: "hand-written lock", kind: "floor", note: "100 async functions", run: () => contended(new HandLock(), n, plain, () => Promise.resolve(), "floor") },
        {
          name: "tsaio",
          kind: "tsaio",
          note: "Lock, 100 tasks",
          run: () =>
            run(async () => {
              const ts: Task<void>[] = [];
              const spawn = (f: () => Promise<void>): Task<void> => {
                const t = createTask(f);
                ts.push(t);
                return t;
              };
              const r = await contended(new Lock(), n, spawn, () => sleep(0), "tsaio");
              await gather(ts);
              return r;
            }),
        },
        { name: "async-mutex", kind: "peer", note: "Mutex, 100 async functions", run: () => mutexContended(n) },
        { name: "Effect", kind: "peer", note: "Semaphore.make(1) and withPermit, 100 forked fibers", run: () => effectContended(n) },
      ]
    : [
        { name: "hand-written lock", kind: "floor", run: () => uncontended(new HandLock(), n) },
        { name: "tsaio", kind: "tsaio", note: "Lock, in run()'s main task", run: () => run(() => uncontended(new Lock(), n)) },
        { name: "async-mutex", kind: "peer", note: "Mutex: acquire() returns the release function", run: () => mutexUncontended(n) },
        { name: "Effect", kind: "peer", note: "Semaphore.make(1): take(1), release(1)", run: () => effectUncontended(n) },
      ];
  const py = ctx.python;
  if (py !== null)
    out.push(
      contendedCase
        ? { name: "CPython asyncio", kind: "python", warmup: false, note: "asyncio.Lock, 100 tasks", run: () => py("contended", n, CONTENDERS) }
        : { name: "CPython asyncio", kind: "python", warmup: false, note: "asyncio.Lock", run: () => py("lock", n) },
    );
  return out;
}

const HANDOFF =
  "with asyncio's fairness every contended acquisition is a task switch through the event loop (the releaser queues behind the other 99), " +
  "which costs tsaio 0.3–0.5 µs in a quiet process and more in the suite's interleaved rounds (each round starts after forced GCs); " +
  "the floor and async-mutex hand over with a microtask and have no tasks to switch. (Before the head start, one contender took most turns alone, which is how an earlier bench showed 19×.)";

export const w4: Workload = {
  id: "W4",
  title: "a lock, uncontended and contended",
  description:
    "W4a: one task acquires and releases a free lock n times (the fast path every lock should have). " +
    "W4b: 100 tasks take turns on one lock until n acquisitions in all (FIFO hand-off on every release). " +
    "Time per acquisition. Effection has no lock; Effect's is a one-permit Semaphore.",
  async cases(ctx): Promise<CaseDef[]> {
    const n1 = 1_000_000;
    const n2 = 100_000;
    return [
      {
        id: "W4a",
        workload: "W4",
        title: `uncontended lock, ${n1.toLocaleString("en")} acquire/release`,
        metric: "ns",
        unit: "ns/acquire",
        floor: "hand-written lock",
        sides: sides(false, n1, ctx),
        goals: [
          { text: "≥ 5× faster than async-mutex", kind: "faster", k: 5, ref: "async-mutex" },
          ...fasterThanCPython(ctx, 1.5),
        ],
      },
      {
        id: "W4b",
        workload: "W4",
        title: `${CONTENDERS} contenders, ${n2.toLocaleString("en")} acquisitions`,
        metric: "ns",
        unit: "ns/acquire",
        floor: "hand-written lock",
        sides: sides(true, n2, ctx),
        goals: [
          { text: "≥ 4× faster than async-mutex", kind: "faster", k: 4, ref: "async-mutex", ifMissed: HANDOFF },
          ...fasterThanCPython(ctx, 10, HANDOFF),
        ],
      },
    ];
  },
};
