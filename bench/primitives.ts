/**
 * Benchmarks of tsaio's primitives against the JS libraries people use today and against a
 * hand-written floor, in one process, strictly interleaved (every side once per round, the
 * baselines first; warm-up rounds, then BENCH_RUNS counted rounds; a full GC before every sample).
 * Medians per side, and the speed-up of tsaio over each baseline (baseline time ÷ tsaio time).
 *
 * 1. lock.uncontended — 1,000,000 acquire/release on a free lock: async-mutex `Mutex`, a hand-written
 *    lock, tsaio `Lock` (inside `run()`, in the main task). Goal: ≥ 5× async-mutex.
 * 2. lock.contended — 100 tasks (async functions for the baselines) taking turns on one lock until
 *    100,000 acquisitions. Goal: ≥ 4× async-mutex.
 * 3. semaphore — 100,000 async jobs bounded to 10 at a time: `p-limit(10)`, a hand-written limiter,
 *    `Semaphore(10).run`. Two shapes: `burst` (all 100,000 submitted at once, one Promise.all: the
 *    pending jobs' memory and the GC dominate) and `stream` (the same jobs submitted 1,000 at a time).
 *    Goal: ≥ 3× p-limit.
 * 4. queue — one producer and one consumer moving 1,000,000 items through a bounded queue of 100:
 *    Effect's `Queue.bounded(100)` (fibers), CPython 3.13's `asyncio.Queue(100)` (a python3
 *    subprocess per round, timed inside Python), a hand-written promise queue, tsaio `Queue(100)`
 *    (two tasks). Goals: ≥ 5,000,000 items/s on Node 24, ≥ 3× Effect, ≥ 3× CPython.
 * 5. waiters — 10,000 and 100,000 tasks waiting on one Semaphore, cancelled in reverse order (the
 *    worst order for a deque with O(n) removal), then the semaphore reused: ns per waiter must not
 *    grow with the count (O(1) enqueue and removal).
 *
 * Node 20 caveat (as in bench/core.ts): AsyncLocalStorage, which tsaio enters once per task, turns
 * on V8 promise hooks for the rest of the process on Node 20; they slow every promise, the
 * baselines' included. The baselines are therefore also measured alone before any tsaio code runs
 * ("clean"), and the table shows tsaio against both. On Node 24 both agree.
 *
 * Run: `node --expose-gc --import tsx bench/primitives.ts`. Env: BENCH_QUICK=1 (counts ÷ 10),
 * BENCH_RUNS=n (counted rounds, default 5), BENCH_ONLY=lock,semaphore,queue,waiters,
 * BENCH_PYTHON=/path/to/python3.13 (default: pyenv's 3.13, else python3.13, else skipped).
 * Results: a table on stdout, progress on stderr, JSON in bench/results/primitives-<node version>.json.
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Mutex } from "async-mutex";
import { Effect, Fiber, Queue as EffectQueue } from "effect";
import pLimit from "p-limit";
import { createTask, gather, Lock, Queue, run, Semaphore, type Task } from "../src/index.js";
import { fmt, interleave, median, now, table, type Sample } from "./lib.js";

const QUICK = process.env.BENCH_QUICK === "1";
const SCALE = QUICK ? 10 : 1;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5) | 0);
const WARMUP = 2;
const ONLY = new Set((process.env.BENCH_ONLY ?? "lock,semaphore,queue,waiters").split(",").map((s) => s.trim()));

const N_LOCK = 1_000_000 / SCALE;
const N_CONTENDED = 100_000 / SCALE;
const CONTENDERS = 100;
const N_JOBS = 100_000 / SCALE;
const BATCH = 1_000;
const N_ITEMS = 1_000_000 / SCALE;
const QUEUE_SIZE = 100;

// ------------------------------------------------------------------------------ hand-written floors

const RESOLVED = Promise.resolve();

/** The least a FIFO async lock can do: a flag and a queue of resolvers (hand-off on release). */
class HandLock {
  private locked = false;
  private q: ((() => void) | undefined)[] = [];
  private head = 0;
  acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return RESOLVED;
    }
    return new Promise<void>((r) => this.q.push(r));
  }
  release(): void {
    if (this.head < this.q.length) {
      const r = this.q[this.head] as () => void;
      this.q[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.q.length) {
        this.q = this.q.slice(this.head);
        this.head = 0;
      }
      r(); // hand the lock over: it stays locked
    } else this.locked = false;
  }
}

/** A hand-written concurrency limiter (what p-limit does, minus the options). */
function handLimit(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  let q: ((() => void) | undefined)[] = [];
  let head = 0;
  const next = (): void => {
    active--;
    if (head < q.length) {
      const f = q[head] as () => void;
      q[head++] = undefined;
      if (head > 1024 && head * 2 > q.length) {
        q = q.slice(head);
        head = 0;
      }
      f();
    }
  };
  return <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((res, rej) => {
      const go = (): void => {
        active++;
        fn().then(res, rej).finally(next);
      };
      if (active < n) go();
      else q.push(go);
    });
}

/** A hand-written bounded async queue: arrays with head indices, resolvers as waiters. */
class HandQueue<T> {
  private items: (T | undefined)[] = [];
  private ih = 0;
  private getters: ((v: T) => void)[] = [];
  private putters: (() => void)[] = [];
  constructor(private readonly max: number) {}
  private size(): number {
    return this.items.length - this.ih;
  }
  put(v: T): Promise<void> {
    const g = this.getters.shift();
    if (g !== undefined) {
      g(v);
      return RESOLVED;
    }
    if (this.size() < this.max) {
      this.items.push(v);
      return RESOLVED;
    }
    return new Promise<void>((r) => this.putters.push(r)).then(() => this.put(v));
  }
  get(): Promise<T> {
    if (this.size() > 0) {
      const v = this.items[this.ih] as T;
      this.items[this.ih++] = undefined;
      if (this.ih > 1024 && this.ih * 2 > this.items.length) {
        this.items = this.items.slice(this.ih);
        this.ih = 0;
      }
      const p = this.putters.shift();
      if (p !== undefined) p();
      return Promise.resolve(v);
    }
    return new Promise<T>((r) => this.getters.push(r));
  }
}

// ------------------------------------------------------------------------------------ 1. locks

const perOp = (ms: number, n: number): number => (ms * 1e6) / n; // ns per operation

async function lockMutex(): Promise<Sample> {
  const m = new Mutex();
  const t0 = now();
  for (let i = 0; i < N_LOCK; i++) {
    const release = await m.acquire();
    release();
  }
  return { ns: perOp(now() - t0, N_LOCK) };
}

async function lockHand(): Promise<Sample> {
  const l = new HandLock();
  const t0 = now();
  for (let i = 0; i < N_LOCK; i++) {
    await l.acquire();
    l.release();
  }
  return { ns: perOp(now() - t0, N_LOCK) };
}

async function lockTsaio(): Promise<Sample> {
  return run(async () => {
    const l = new Lock();
    const t0 = now();
    for (let i = 0; i < N_LOCK; i++) {
      await l.acquire();
      l.release();
    }
    return { ns: perOp(now() - t0, N_LOCK) };
  });
}

async function contendedMutex(): Promise<Sample> {
  const m = new Mutex();
  let count = 0;
  const worker = async (): Promise<void> => {
    while (count < N_CONTENDED) {
      const release = await m.acquire();
      count++;
      release();
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: CONTENDERS }, worker));
  return { ns: perOp(now() - t0, count) };
}

async function contendedHand(): Promise<Sample> {
  const l = new HandLock();
  let count = 0;
  const worker = async (): Promise<void> => {
    while (count < N_CONTENDED) {
      await l.acquire();
      count++;
      l.release();
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: CONTENDERS }, worker));
  return { ns: perOp(now() - t0, count) };
}

async function contendedTsaio(): Promise<Sample> {
  return run(async () => {
    const l = new Lock();
    let count = 0;
    const worker = async (): Promise<void> => {
      while (count < N_CONTENDED) {
        await l.acquire();
        count++;
        l.release();
      }
    };
    const t0 = now();
    const ts: Task<void>[] = [];
    for (let i = 0; i < CONTENDERS; i++) ts.push(createTask(worker));
    await gather(ts);
    return { ns: perOp(now() - t0, count) };
  });
}

// -------------------------------------------------------------------------------- 2. semaphore

async function job(i: number): Promise<number> {
  return i;
}

type Limit = (fn: () => Promise<number>) => Promise<number>;

async function jobsThrough(limit: Limit, burst: boolean): Promise<Sample> {
  const t0 = now();
  let sum = 0;
  if (burst) {
    const rs = await Promise.all(Array.from({ length: N_JOBS }, (_, i) => limit(() => job(i))));
    for (const r of rs) sum += r;
  } else {
    for (let b = 0; b < N_JOBS; b += BATCH) {
      const rs = await Promise.all(Array.from({ length: BATCH }, (_, i) => limit(() => job(b + i))));
      for (const r of rs) sum += r;
    }
  }
  const ms = now() - t0;
  if (sum !== (N_JOBS * (N_JOBS - 1)) / 2) throw new Error(`semaphore: wrong sum ${sum}`);
  return { ns: perOp(ms, N_JOBS) };
}

const semSides = (burst: boolean): Record<string, () => Promise<Sample>> => ({
  "p-limit(10)": () => jobsThrough(pLimit(10), burst),
  "hand-written": () => jobsThrough(handLimit(10), burst),
  tsaio: () =>
    run(() => {
      const sem = new Semaphore(10);
      return jobsThrough((fn) => sem.run(fn), burst);
    }),
});

// ------------------------------------------------------------------------------------ 3. queue

async function queueEffect(): Promise<Sample> {
  const n = N_ITEMS;
  const program = Effect.gen(function* () {
    const q = yield* EffectQueue.bounded<number>(QUEUE_SIZE);
    const producer = yield* Effect.forkChild(
      Effect.gen(function* () {
        for (let i = 0; i < n; i++) yield* EffectQueue.offer(q, i);
      }),
    );
    let sum = 0;
    for (let i = 0; i < n; i++) sum += yield* EffectQueue.take(q);
    yield* Fiber.join(producer);
    return sum;
  });
  const t0 = now();
  const sum = await Effect.runPromise(program);
  const ms = now() - t0;
  if (sum !== (n * (n - 1)) / 2) throw new Error(`queue effect: wrong sum ${sum}`);
  return { ns: perOp(ms, n) };
}

async function queueHand(): Promise<Sample> {
  const n = N_ITEMS;
  const q = new HandQueue<number>(QUEUE_SIZE);
  const t0 = now();
  const producer = (async () => {
    for (let i = 0; i < n; i++) await q.put(i);
  })();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await q.get();
  await producer;
  const ms = now() - t0;
  if (sum !== (n * (n - 1)) / 2) throw new Error(`queue hand: wrong sum ${sum}`);
  return { ns: perOp(ms, n) };
}

async function queueTsaio(): Promise<Sample> {
  const n = N_ITEMS;
  return run(async () => {
    const q = new Queue<number>(QUEUE_SIZE);
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
    if (sum !== (n * (n - 1)) / 2) throw new Error(`queue tsaio: wrong sum ${sum}`);
    return { ns: perOp(ms, n) };
  });
}

const PY_QUEUE = `
import asyncio, sys, time
N = int(sys.argv[1])
async def main():
    q = asyncio.Queue(${QUEUE_SIZE})
    async def producer():
        for i in range(N):
            await q.put(i)
    t0 = time.perf_counter()
    p = asyncio.create_task(producer())
    s = 0
    for _ in range(N):
        s += await q.get()
    await p
    assert s == N * (N - 1) // 2
    return (time.perf_counter() - t0) * 1e9 / N
print(asyncio.run(main()))
`;

function findPython(): string | null {
  const candidates: string[] = [];
  if (process.env.BENCH_PYTHON) candidates.push(process.env.BENCH_PYTHON);
  try {
    const prefix = execFileSync("pyenv", ["prefix", "3.13.0"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (prefix) candidates.push(join(prefix, "bin", "python3"));
  } catch {
    /* no pyenv */
  }
  candidates.push("python3.13", "python3");
  for (const exe of candidates) {
    const r = spawnSync(exe, ["-c", "import sys; print(sys.version_info >= (3, 13))"], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim() === "True") return exe;
  }
  return null;
}

function queuePython(exe: string): () => Promise<Sample> {
  return async () => {
    const r = spawnSync(exe, ["-c", PY_QUEUE, String(N_ITEMS)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`python queue benchmark failed: ${r.stderr}`);
    return { ns: Number(r.stdout.trim()) };
  };
}

// ---------------------------------------------------------------------------------- 4. waiters

async function waitersTsaio(n: number): Promise<Sample> {
  return run(async () => {
    const sem = new Semaphore(0);
    const t0 = now();
    const ts: Task<true>[] = new Array<Task<true>>(n);
    for (let i = 0; i < n; i++) ts[i] = createTask(() => sem.acquire());
    await gather([createTask(() => undefined)]); // every waiter is queued
    const queued = now();
    for (let i = n - 1; i >= 0; i--) ts[i].cancel();
    await gather(ts, { returnExceptions: true });
    sem.release();
    await sem.acquire(); // still consistent
    const t1 = now();
    return { ns: perOp(t1 - t0, n), cancelNs: perOp(t1 - queued, n) };
  });
}

// -------------------------------------------------------------------------------------- driver

interface Row {
  id: string;
  title: string;
  sides: Record<string, number>; // median ns per op
  clean?: Record<string, number>; // baselines measured before any tsaio code ran
  samples: Record<string, Sample[]>;
  goals: string[];
}

const rows: Row[] = [];

function med(samples: Sample[], key = "ns"): number {
  return median(samples.map((s) => s[key]));
}

async function bench(id: string, title: string, sides: Record<string, () => Promise<Sample>>, goals: string[], clean?: Record<string, Sample[]>): Promise<void> {
  const samples = await interleave(id, sides, RUNS, WARMUP);
  const row: Row = { id, title, sides: {}, samples, goals };
  for (const [k, v] of Object.entries(samples)) row.sides[k] = med(v);
  if (clean !== undefined) {
    row.clean = {};
    for (const [k, v] of Object.entries(clean)) row.clean[k] = med(v);
  }
  rows.push(row);
}

/** Baselines alone, before tsaio's AsyncLocalStorage exists (see the Node 20 caveat). */
async function cleanBaselines(sides: Record<string, () => Promise<Sample>>): Promise<Record<string, Sample[]>> {
  const base = Object.fromEntries(Object.entries(sides).filter(([k]) => k !== "tsaio"));
  return interleave("clean", base, RUNS, WARMUP);
}

const t0 = now();
const python = ONLY.has("queue") ? findPython() : null;

const lockSides = { "async-mutex": lockMutex, "hand-written": lockHand, tsaio: lockTsaio };
const contendedSides = { "async-mutex": contendedMutex, "hand-written": contendedHand, tsaio: contendedTsaio };
const queueSides: Record<string, () => Promise<Sample>> = { "effect Queue.bounded": queueEffect, "hand-written": queueHand, tsaio: queueTsaio };
if (python !== null) queueSides["CPython asyncio.Queue"] = queuePython(python);

// Clean baselines first: nothing of tsaio has run yet in this process.
const clean: Record<string, Record<string, Sample[]>> = {};
if (ONLY.has("lock")) {
  clean.lock = await cleanBaselines(lockSides);
  clean.contended = await cleanBaselines(contendedSides);
}
if (ONLY.has("semaphore")) {
  clean.burst = await cleanBaselines(semSides(true));
  clean.stream = await cleanBaselines(semSides(false));
}
if (ONLY.has("queue")) clean.queue = await cleanBaselines(queueSides);

if (ONLY.has("lock")) {
  await bench("lock.uncontended", `${N_LOCK.toLocaleString("en")} uncontended acquire/release`, lockSides, ["async-mutex ≥ 5×"], clean.lock);
  await bench("lock.contended", `${CONTENDERS} tasks contending, ${N_CONTENDED.toLocaleString("en")} acquisitions`, contendedSides, ["async-mutex ≥ 4×"], clean.contended);
}
if (ONLY.has("semaphore")) {
  await bench("semaphore.burst", `Semaphore(10): ${N_JOBS.toLocaleString("en")} jobs submitted at once`, semSides(true), ["p-limit(10) ≥ 3×"], clean.burst);
  await bench("semaphore.stream", `Semaphore(10): ${N_JOBS.toLocaleString("en")} jobs, ${BATCH} at a time`, semSides(false), ["p-limit(10) ≥ 3×"], clean.stream);
}
if (ONLY.has("queue")) {
  await bench("queue", `Queue(${QUEUE_SIZE}), 1 producer / 1 consumer, ${N_ITEMS.toLocaleString("en")} items`, queueSides, ["effect Queue.bounded ≥ 3×", "CPython asyncio.Queue ≥ 3×", "≥ 5,000,000 items/s"], clean.queue);
}
if (ONLY.has("waiters")) {
  const small = N_JOBS / 10;
  await bench(
    "waiters",
    `tasks waiting on one Semaphore, cancelled in reverse order: ${small.toLocaleString("en")} vs ${N_JOBS.toLocaleString("en")}`,
    { [`${small.toLocaleString("en")} waiters`]: () => waitersTsaio(small), [`${N_JOBS.toLocaleString("en")} waiters`]: () => waitersTsaio(N_JOBS) },
    ["ns/waiter flat (linear total)"],
  );
}

// ------------------------------------------------------------------------------------ report

const out: string[] = [];
out.push(
  `tsaio primitives benchmark — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}; ` +
    `${RUNS} counted runs after ${WARMUP} warm-up, interleaved${QUICK ? ", BENCH_QUICK=1 (counts ÷ 10)" : ""}; medians`,
);
for (const row of rows) {
  out.push("", `${row.id}: ${row.title}`);
  const header = ["side", "ns/op (median)", "ops/s", "tsaio speed-up"];
  if (row.clean !== undefined) header.push("clean ns/op", "speed-up vs clean");
  const lines: string[][] = [header];
  const ts = row.sides.tsaio;
  for (const [side, ns] of Object.entries(row.sides)) {
    const line = [side, fmt(ns), Math.round(1e9 / ns).toLocaleString("en"), side === "tsaio" || ts === undefined ? "" : `${fmt(ns / ts)}×`];
    if (row.clean !== undefined) {
      const c = row.clean[side];
      line.push(c === undefined ? "" : fmt(c), c === undefined || ts === undefined ? "" : `${fmt(c / ts)}×`);
    }
    lines.push(line);
  }
  out.push(table(lines));
  if (row.id === "waiters") {
    const [a, b] = Object.values(row.sides);
    out.push(`ns/waiter ratio (large ÷ small): ${fmt(b / a)} (1 = linear)`);
  }
  out.push(`goal: ${row.goals.join("; ")}`);
}
out.push("", `total ${((now() - t0) / 1000).toFixed(1)} s${python === null && ONLY.has("queue") ? "; CPython 3.13 not found: its side was skipped" : ""}`);
console.log(out.join("\n"));

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, "results"), { recursive: true });
const file = join(here, "results", `primitives-${process.version}${QUICK ? "-quick" : ""}.json`);
writeFileSync(
  file,
  JSON.stringify({ node: process.version, v8: process.versions.v8, cpu: cpus()[0]?.model, cpuCount: cpus().length, date: new Date().toISOString(), quick: QUICK, runs: RUNS, warmup: WARMUP, python, rows }, null, 2) + "\n",
);
console.error(`results written to ${file}`);
