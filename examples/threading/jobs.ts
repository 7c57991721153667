/**
 * The jobs of the threading examples (counter.ts, producer-consumer.ts). They run in the worker
 * threads of a ThreadPoolExecutor, so they live in a module of their own: a worker imports this
 * module, never the program's main module (which starts the pool). The tsaio/threading objects
 * they take arrive as the same objects the main thread made, sharing its memory.
 */
import { threadId } from "node:worker_threads";
import { type Lock, type Queue, QueueShutDown, type Value } from "tsaio/threading";

/** Adds 1 to `counter`, `times` times, each under `lock` (Python: `with lock: counter += 1`). */
export function increment(counter: Value<"i32">, lock: Lock, times: number): number {
  for (let i = 0; i < times; i++) {
    lock.acquireSync(); // blocks this worker thread, as Python's lock.acquire() does
    try {
      counter.value += 1;
    } finally {
      lock.release();
    }
  }
  return threadId;
}

/** One item of the producer/consumer example. */
export interface Item {
  producer: number;
  seq: number;
}

/** Puts `count` items into `queue`, waiting while it is full (awaiting: this worker's event loop stays free). */
export async function produce(queue: Queue<Item>, producer: number, count: number): Promise<number> {
  for (let seq = 0; seq < count; seq++) await queue.put({ producer, seq });
  return count;
}

/**
 * Takes items until the queue is shut down and empty, marking each one done; returns the items it
 * took, as "producer:seq" keys (Python: `q.get()` … `q.task_done()`, ended by `queue.ShutDown`).
 */
export function consume(queue: Queue<Item>): string[] {
  const got: string[] = [];
  for (;;) {
    let item: Item;
    try {
      item = queue.getSync(); // blocks this worker thread until an item comes
    } catch (e) {
      if (e instanceof QueueShutDown) return got;
      throw e;
    }
    got.push(`${item.producer}:${item.seq}`);
    queue.taskDone();
  }
}
