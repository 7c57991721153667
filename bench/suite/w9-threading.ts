/**
 * W9 — tsaio/threading (issue 14) on warm worker threads of one ThreadPoolExecutor:
 * W9a one producer thread → one consumer thread, `{ id: i, name: "item-" + i }` through a `Queue`,
 * against a `MessagePort` and CPython 3.13's `queue.Queue` between two threads; W9b 4 workers ×
 * 100,000 increments of one `Value` under its `Lock`, against CPython's `multiprocessing.Value` +
 * `get_lock()` across 4 processes; W9c the uncontended `acquireSync()`/`release()` pair against a
 * bare `Atomics.compareExchange` + `Atomics.store`.
 *
 * The measuring functions are exported for bench/threading.ts (the standalone run with its table
 * and results file). CPython runs bench/threading_cpython.py, which finds a 3.13 through pyenv as
 * shared/conformance/vloop.py does.
 * @module
 */
import { execFile, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MessageChannel } from "node:worker_threads";
import { ThreadPoolExecutor, transfer, workerModule } from "../../src/index.js";
import { Barrier, Lock, Queue, SharedArray, Value } from "../../src/threading/index.js";
import type { Sample } from "../tools/lib.js";
import type { CaseDef, GoalDef, Workload } from "./model.js";

const here = dirname(fileURLToPath(import.meta.url));
const PY_SCRIPT = join(here, "..", "threading_cpython.py");
const jobs = workerModule<typeof import("../../test/threading/fixtures/queue-bench.js")>(new URL("../../test/threading/fixtures/queue-bench.js", import.meta.url));

/** The Queue's bound on both sides (tsaio and CPython): the producer waits when it is this far ahead. */
export const QUEUE_MAXSIZE = 10_000;
export const WORKERS = 4;

/** A pool of {@link WORKERS} prestarted threads with the bench jobs loaded and run once (JIT warm). */
export async function startPool(): Promise<ThreadPoolExecutor> {
  const pool = new ThreadPoolExecutor({ maxWorkers: WORKERS, prestart: true });
  const lock = new Lock();
  await Promise.all(Array.from({ length: WORKERS }, () => pool.submit(jobs.fns.pairs, "lock", lock, 1000, 1)));
  return pool;
}

function checkItems(who: string, [n, inOrder]: [number, boolean, number], want: number): void {
  if (n !== want || !inOrder) throw new Error(`W9a ${who}: ${n} of ${want} items${inOrder ? "" : ", out of order"}`);
}

/** One run of `n` items through a Queue, thread to thread (blocking put/get): ns per item, from the start barrier to the consumer's last get. */
export async function queueRun(pool: ThreadPoolExecutor, n: number): Promise<Sample> {
  const q = new Queue<{ id: number; name: string } | null>(QUEUE_MAXSIZE, { bufferSize: 4 << 20 });
  const start = new Barrier(2);
  const [got] = await Promise.all([pool.submit(jobs.fns.consume, q, start), pool.submit(jobs.fns.produce, q, n, start)]);
  checkItems("Queue", got, n);
  return { ns: (got[2] * 1e6) / n };
}

/** The same through a MessagePort (postMessage in one worker, "message" events in the other). */
export async function portRun(pool: ThreadPoolExecutor, n: number): Promise<Sample> {
  const { port1, port2 } = new MessageChannel();
  const start = new Barrier(2);
  const [got] = await Promise.all([pool.submit(jobs.fns.consumePort, transfer(port2, [port2]), start), pool.submit(jobs.fns.producePort, transfer(port1, [port1]), n, start)]);
  checkItems("MessagePort", got, n);
  return { ns: (got[2] * 1e6) / n };
}

/** 4 workers × `n` increments of one Value under its Lock (acquireSync/release): ms from the start barrier to the last worker's end. */
export async function counterRun(pool: ThreadPoolExecutor, n: number): Promise<Sample> {
  const v = new Value("i32", 0);
  const start = new Barrier(WORKERS);
  const ms = await Promise.all(Array.from({ length: WORKERS }, () => pool.submit(jobs.fns.increment, v, n, start)));
  if (v.value !== WORKERS * n) throw new Error(`W9b: lost updates, ${v.value} != ${WORKERS * n}`);
  return { ms: Math.max(...ms) };
}

/** The counter's floor: the same increments as one `Atomics.add` each, no lock. */
export async function atomicAddRun(pool: ThreadPoolExecutor, n: number): Promise<Sample> {
  const a = new SharedArray("i32", 1, { lock: false });
  const start = new Barrier(WORKERS);
  const ms = await Promise.all(Array.from({ length: WORKERS }, () => pool.submit(jobs.fns.atomicAdds, a, n, start)));
  if (a.array[0] !== WORKERS * n) throw new Error(`W9b floor: ${a.array[0]} != ${WORKERS * n}`);
  return { ms: Math.max(...ms) };
}

/** ns per uncontended pair in one worker: `lock` (acquireSync + release) or `bare` (compareExchange + store); best of 5 rounds of `n`. */
export async function pairsRun(pool: ThreadPoolExecutor, kind: "lock" | "bare", n: number): Promise<Sample> {
  return { ns: await pool.submit(jobs.fns.pairs, kind, new Lock(), n, 5) };
}

/** How to run CPython 3.13 here (python3 re-executes the script with pyenv's 3.13), or null (with why) if it cannot. */
export function findPython(): { exe: string; version: string } | { exe: null; why: string } {
  const exe = process.env.BENCH_PYTHON ?? "python3";
  const r = spawnSync(exe, [PY_SCRIPT, "queue", "10"], { encoding: "utf8" });
  if (r.status !== 0) return { exe: null, why: (r.stderr || r.error?.message || "no output").trim() };
  return { exe, version: (JSON.parse(r.stdout) as { python: string }).python };
}

/** One CPython run of bench/threading_cpython.py: its `ms`. */
export function pythonRun(exe: string, kase: "queue" | "counter", ...args: number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(exe, [PY_SCRIPT, kase, ...args.map(String)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`threading_cpython.py ${kase} failed: ${stderr || err.message}`));
      else resolve((JSON.parse(stdout) as { ms: number }).ms);
    });
  });
}

let pool: ThreadPoolExecutor | null = null;

export const w9: Workload = {
  id: "W9",
  title: "tsaio/threading across worker threads",
  description:
    `All on ${WORKERS} warm worker threads of one ThreadPoolExecutor, every thread released at once by a Barrier and timed in the workers. ` +
    `W9a moves n items { id: i, name: "item-" + i } from one producer thread to one consumer thread: through a threading Queue(${QUEUE_MAXSIZE}) with putSync/getSync, ` +
    `through a MessagePort (postMessage, "message" events), and in CPython 3.13 through queue.Queue(maxsize=${QUEUE_MAXSIZE}) between two threads; ns per item. ` +
    `W9b: ${WORKERS} workers × 100,000 increments of one Value under its Lock (acquireSync/release), the total checked; CPython: multiprocessing.Value + get_lock() across ${WORKERS} processes; ` +
    "the floor is one Atomics.add per increment without a lock. W9c: an uncontended acquireSync()/release() pair in a worker against a bare Atomics.compareExchange + Atomics.store, best of 5 rounds of 1,000,000.",
  async cases(ctx): Promise<CaseDef[]> {
    const p = (pool = await startPool());
    const py = findPython();
    const items = ctx.quick ? 200_000 : 1_000_000;
    const incs = 100_000;
    const pySides = (kase: "queue" | "counter", name: string, note: string, ...args: number[]): CaseDef["sides"] =>
      py.exe === null
        ? []
        : [
            {
              name,
              kind: "python",
              note,
              warmup: false,
              run: async (): Promise<Sample> => {
                const ms = await pythonRun(py.exe, kase, ...args);
                return kase === "queue" ? { ns: (ms * 1e6) / items } : { ms };
              },
            },
          ];
    const pyGoal = (k: number, ref: string): GoalDef[] => (py.exe === null ? [] : [{ text: `≥ ${k}× faster than ${ref}`, kind: "faster", k, ref }]);
    const notes = py.exe === null ? [`CPython 3.13 not found: ${py.why}`] : [];
    return [
      {
        id: "W9a",
        workload: "W9",
        title: `${items.toLocaleString("en")} items, one producer thread → one consumer thread`,
        metric: "ns",
        unit: "ns/item",
        floor: "MessagePort",
        runs: 5,
        warmup: 1,
        notes,
        sides: [
          { name: "MessagePort", kind: "floor", note: "postMessage in one worker, 'message' events in the other", run: () => portRun(p, items) },
          { name: "tsaio", kind: "tsaio", note: `threading Queue(${QUEUE_MAXSIZE}), putSync/getSync`, run: () => queueRun(p, items) },
          ...pySides("queue", "CPython queue.Queue", `queue.Queue(maxsize=${QUEUE_MAXSIZE}), two threads`, items),
        ],
        goals: [{ text: "≥ 3× a MessagePort's throughput", kind: "faster", k: 3, ref: "MessagePort" }, ...pyGoal(1.5, "CPython queue.Queue")],
      },
      {
        id: "W9b",
        workload: "W9",
        title: `${WORKERS} workers × ${incs.toLocaleString("en")} locked increments of one Value`,
        metric: "ms",
        unit: "ms",
        floor: "Atomics.add",
        runs: 5,
        warmup: 1,
        notes,
        sides: [
          { name: "Atomics.add", kind: "floor", note: "one Atomics.add per increment, no lock", run: () => atomicAddRun(p, incs) },
          { name: "tsaio", kind: "tsaio", note: "Value('i32') + getLock(): acquireSync/release", run: () => counterRun(p, incs) },
          ...pySides("counter", "CPython multiprocessing.Value", `multiprocessing.Value('i') + get_lock(), ${WORKERS} processes`, incs, WORKERS),
        ],
        goals: pyGoal(3, "CPython multiprocessing.Value"),
      },
      {
        id: "W9c",
        workload: "W9",
        title: "uncontended acquireSync() + release() in a worker",
        metric: "ns",
        unit: "ns/pair",
        floor: "compareExchange + store",
        runs: 5,
        warmup: 1,
        sides: [
          { name: "compareExchange + store", kind: "floor", note: "Atomics.compareExchange(w, 0, 0, 1); Atomics.store(w, 0, 0)", run: () => pairsRun(p, "bare", 1_000_000) },
          { name: "tsaio", kind: "tsaio", note: "lock.acquireSync(); lock.release()", run: () => pairsRun(p, "lock", 1_000_000) },
        ],
        goals: [{ text: "≤ 2× a bare compareExchange + store", kind: "within", k: 2, ref: "compareExchange + store" }],
      },
    ];
  },
  async teardown(): Promise<void> {
    await pool?.shutdown();
    pool = null;
  },
};
