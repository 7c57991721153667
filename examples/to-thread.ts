/**
 * A blocking call moved off the event loop with `toThread`, while a ticker task keeps ticking.
 * Run with `npm run build && npx tsx examples/to-thread.ts`.
 */
import { createTask, getRunningLoop, run, sleep, ThreadPoolExecutor, timeout, TimeoutError, toThread, workerModule } from "tsaio";
import { deriveKey } from "./workers/blocking.js";

const blocking = workerModule<typeof import("./workers/blocking.js")>(new URL("./workers/blocking.js", import.meta.url));
const ITERATIONS = 600_000;

const t0 = performance.now();
const stamp = (): string => `${((performance.now() - t0) / 1000).toFixed(2)}s`;

await run(async () => {
  // Optional: the default executor (made on first use otherwise), here with a short grace period for
  // jobs that do not stop when cancelled. run() shuts it down at exit.
  getRunningLoop().setDefaultExecutor(new ThreadPoolExecutor({ maxWorkers: 4, cancelGracePeriod: 500 }));

  const ticker = createTask(async () => {
    for (let i = 1; ; i++) {
      await sleep(100);
      console.log(`  [${stamp()}] tick ${i}`);
    }
  }, { name: "ticker" });
  await sleep(250);

  console.log(`[${stamp()}] 1. deriveKey on the loop itself: the ticker stops while it runs`);
  deriveKey("hunter2", ITERATIONS);
  console.log(`[${stamp()}]    done (no tick was printed during the call)`);
  await sleep(250);

  console.log(`[${stamp()}] 2. the same call with toThread: the ticker keeps ticking`);
  const key = await toThread(blocking.fns.deriveKey, "hunter2", ITERATIONS);
  console.log(`[${stamp()}]    done: ${key.slice(0, 16)}…`);

  console.log(`[${stamp()}] 3. a self-contained function works too (sent by source)`);
  const sum = await toThread((n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += i % 7;
    return s;
  }, 50_000_000);
  console.log(`[${stamp()}]    done: ${sum}`);

  console.log(`[${stamp()}] 4. timeout() cancels the job in its worker; this busy loop never looks at its signal,`);
  console.log(`              so its worker is terminated after the grace period (500 ms) and replaced`);
  try {
    await timeout(300, () => toThread(blocking.fns.churn, 1e12));
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log(`[${stamp()}]    TimeoutError, and the loop never stalled`);
  }

  ticker.cancel();
});
console.log(`[${stamp()}] run() returned: it shut the default executor down (after the stuck job was terminated)`);
