/**
 * Threads of a pool add to one shared counter, each addition under a `Lock`, so that no update is
 * lost — Python's classic (counter.py, beside this file) with tsaio:
 *
 * | Python (counter.py)                         | tsaio (this file, jobs.ts)                             |
 * | ------------------------------------------- | ------------------------------------------------------ |
 * | `counter = 0` (a global the threads share)  | `new Value("i32", 0)` (shared memory, passed to jobs)  |
 * | `lock = threading.Lock()`                   | `new Lock()` from `tsaio/threading`                    |
 * | `with lock: counter += 1`                   | `lock.acquireSync(); counter.value += 1; lock.release()` |
 * | `ThreadPoolExecutor(max_workers=4)`         | `new ThreadPoolExecutor({ maxWorkers: 4 })`            |
 * | `pool.submit(increment, TIMES)`             | `pool.submit(jobs.fns.increment, counter, lock, TIMES)` |
 *
 * JavaScript threads share no variables: the counter and the lock are objects on shared memory,
 * given to each job as arguments, and the job function lives in a module of its own (jobs.ts).
 * Run with `npx tsx examples/threading/counter.ts [threads] [times]`.
 */
import { ThreadPoolExecutor, workerModule } from "tsaio";
import { Lock, Value } from "tsaio/threading";

const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));

const THREADS = Number(process.argv[2] ?? 4);
const TIMES = Number(process.argv[3] ?? 100_000);

const counter = new Value("i32", 0);
const lock = new Lock();

await using pool = new ThreadPoolExecutor({ maxWorkers: THREADS });
const futures = Array.from({ length: THREADS }, () => pool.submit(jobs.fns.increment, counter, lock, TIMES));
const threadIds = new Set(await Promise.all(futures));

console.log(`${THREADS} jobs x ${TIMES} increments under one Lock, in ${threadIds.size} threads: counter = ${counter.value}`);
if (counter.value !== THREADS * TIMES) throw new Error(`lost updates: expected ${THREADS * TIMES}`);
