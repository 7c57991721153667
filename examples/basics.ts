/**
 * The classic asyncio demonstrations, in tsaio. Run with `npm run demo:basics` (it builds first:
 * "tsaio" here is the package, dist/). `npm start` runs the crawler (examples/crawler/).
 * Each prints what it measured, so you can see concurrency and cancellation at work.
 */
import { createTask, ExceptionGroup, gather, run, sleep, taskGroup, timeout, TimeoutError } from "tsaio";

const t0 = performance.now();
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(2)}s`;

async function sayAfter(ms: number, what: string): Promise<string> {
  await sleep(ms);
  console.log(`  [${elapsed()}] ${what}`);
  return what;
}

await run(async () => {
  console.log("1. gather: three tasks sleeping 1, 2 and 3 s run concurrently");
  let start = performance.now();
  const results = await gather([() => sayAfter(1000, "one"), () => sayAfter(2000, "two"), () => sayAfter(3000, "three")]);
  console.log(`   -> ${results.join(", ")} in ${((performance.now() - start) / 1000).toFixed(2)} s (sequentially: 6 s)\n`);

  console.log("2. createTask, then await: the task runs while main does other things");
  start = performance.now();
  const task = createTask(() => sayAfter(500, "background task finished"), { name: "background" });
  console.log(`  [${elapsed()}] main goes on while ${task.name} runs`);
  await sleep(200);
  console.log(`  [${elapsed()}] main did 200 ms of its own work`);
  console.log(`   -> ${await task} after ${((performance.now() - start) / 1000).toFixed(2)} s\n`);

  console.log("3. timeout: a call that would take 10 s is stopped after 300 ms");
  start = performance.now();
  try {
    await timeout(300, async () => {
      try {
        await sleep(10_000);
      } finally {
        console.log(`  [${elapsed()}] the slow call was cancelled; its finally block ran`);
      }
    });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log(`   -> TimeoutError after ${Math.round(performance.now() - start)} ms\n`);
  }

  console.log("4. taskGroup: one failure cancels the rest, and all errors come back together");
  start = performance.now();
  try {
    await taskGroup(async (tg) => {
      for (const n of [1, 2, 3]) {
        void tg.createTask(
          async () => {
            try {
              await sleep(5_000);
            } finally {
              console.log(`  [${elapsed()}] worker-${n} cancelled`);
            }
          },
          { name: `worker-${n}` },
        );
      }
      void tg.createTask(async () => {
        await sleep(250);
        throw new Error("the flaky worker failed");
      });
    });
  } catch (e) {
    if (!(e instanceof ExceptionGroup)) throw e;
    const why = e.exceptions.map((x) => (x as Error).message).join("; ");
    console.log(`   -> ExceptionGroup [${why}] after ${Math.round(performance.now() - start)} ms (not 5 s)`);
  }
});
console.log(`\nAll done in ${elapsed()}.`);
