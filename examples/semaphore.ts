/**
 * A Semaphore bounding 4 jobs to 2 at a time. Run with `npm run build && npx tsx examples/semaphore.ts`.
 * Each job prints when it starts and ends, with the time and how many jobs hold a permit: never more
 * than 2, and a waiting job starts the moment another one finishes (FIFO).
 */
import { gather, run, Semaphore, sleep } from "tsaio";

await run(async () => {
  const sem = new Semaphore(2);
  const t0 = performance.now();
  const at = (): string => `${String(Math.round(performance.now() - t0)).padStart(4)} ms`;
  let running = 0;

  const job = (name: string, ms: number) =>
    sem.run(async () => {
      running++;
      console.log(`${at()}  ${name} starts  (running: ${running})`);
      await sleep(ms);
      running--;
      console.log(`${at()}  ${name} ends    (running: ${running})`);
      return name;
    });

  console.log("4 jobs, at most 2 at a time:");
  const done = await gather([() => job("job A", 300), () => job("job B", 100), () => job("job C", 200), () => job("job D", 100)]);
  console.log(`${at()}  all done: ${done.join(", ")}`);
});
