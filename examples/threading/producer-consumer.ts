/**
 * Producer threads put items into a bounded queue; consumer threads take them and mark each one
 * done; the main thread waits until every item is done, then shuts the queue down, which ends the
 * consumers — Python's classic (producer-consumer.py, beside this file) with tsaio:
 *
 * | Python (producer-consumer.py)          | tsaio (this file, jobs.ts)                               |
 * | -------------------------------------- | -------------------------------------------------------- |
 * | `q = queue.Queue(maxsize=10)`          | `new Queue<Item>(10)` from `tsaio/threading`             |
 * | `q.put(item)` in a producer            | `await queue.put(item)` (or `putSync` to block the thread) |
 * | `q.get()` … `q.task_done()`            | `queue.getSync()` … `queue.taskDone()`                   |
 * | `except queue.ShutDown:`               | `catch (e) { if (e instanceof QueueShutDown) … }`        |
 * | `q.join()` in the main thread          | `await queue.join()` (the event loop stays free)         |
 * | `q.shutdown()`                         | `queue.shutdown()`                                       |
 *
 * Items are structured-cloned into the queue's shared memory: each consumer gets its own copy.
 * Run with `npx tsx examples/threading/producer-consumer.ts [producers] [consumers] [items]`.
 */
import { ThreadPoolExecutor, workerModule } from "tsaio";
import { Queue } from "tsaio/threading";
import type { Item } from "./jobs.js";

const jobs = workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url));

const PRODUCERS = Number(process.argv[2] ?? 3);
const CONSUMERS = Number(process.argv[3] ?? 2);
const ITEMS = Number(process.argv[4] ?? 50); // per producer

const queue = new Queue<Item>(10);

// Every job has its own thread: the consumers block in getSync() while they wait for items.
await using pool = new ThreadPoolExecutor({ maxWorkers: PRODUCERS + CONSUMERS });
const consumers = Array.from({ length: CONSUMERS }, () => pool.submit(jobs.fns.consume, queue));
const producers = Array.from({ length: PRODUCERS }, (_, p) => pool.submit(jobs.fns.produce, queue, p, ITEMS));
const produced = (await Promise.all(producers)).reduce((a, b) => a + b, 0);
await queue.join(); // every item taken and marked done
queue.shutdown(); // the consumers' next getSync() throws QueueShutDown
const taken = await Promise.all(consumers);

const keys = taken.flat();
const expected = new Set(Array.from({ length: PRODUCERS * ITEMS }, (_, i) => `${Math.floor(i / ITEMS)}:${i % ITEMS}`));
console.log(`${PRODUCERS} producers put ${produced} items; ${CONSUMERS} consumers took ${taken.map((g) => g.length).join(" + ")}`);
if (keys.length !== new Set(keys).size || keys.length !== expected.size || !keys.every((k) => expected.has(k))) {
  throw new Error("an item was lost or consumed twice");
}
console.log(`every one of the ${produced} items consumed exactly once`);
