/**
 * A producer/consumer pipeline with a bounded Queue: the producer is fast, the consumer slow, and
 * `await queue.put()` makes the producer wait whenever the queue holds 3 items — backpressure.
 * Run with `npm run build && npx tsx examples/pipeline.ts`.
 */
import { createTask, Queue, run, sleep } from "tsaio";

await run(async () => {
  const queue = new Queue<number>(3);
  const t0 = performance.now();
  const at = (): string => `${String(Math.round(performance.now() - t0)).padStart(4)} ms`;

  const producer = createTask(async () => {
    for (let i = 1; i <= 8; i++) {
      const wasFull = queue.full();
      await queue.put(i); // waits while the queue is full
      console.log(`${at()}  produced ${i}  (queue: ${queue.qsize()}/${queue.maxsize}${wasFull ? ", had to wait for room" : ""})`);
      await sleep(20); // producing takes 20 ms
    }
    queue.shutdown(); // no more items: the consumer's loop ends once the queue is drained
  });

  const consumer = createTask(async () => {
    let total = 0;
    for await (const item of queue) {
      await sleep(100); // consuming takes 100 ms: 5× slower than producing
      total += item;
      console.log(`${at()}      consumed ${item}  (queue: ${queue.qsize()}/${queue.maxsize})`);
      queue.taskDone();
    }
    return total;
  });

  await producer;
  const total = await consumer;
  console.log(`${at()}  all consumed, sum of items: ${total}`);
});
