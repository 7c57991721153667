/**
 * A hidden blocking call, found by debug mode.
 *
 *   npm run build && npx tsx examples/debug-blocking.ts
 *
 * One of three workers calls a synchronous "hash" that spins for 250 ms. Nothing looks wrong in the
 * code that awaits it, yet every other task freezes meanwhile. Debug mode names the culprit:
 *   tsaio: Executing Task "worker-2" took 250.3 ms (slowCallbackDuration is 100 ms): something blocked the thread
 *     …resumed at: at worker (…/debug-blocking.ts:…) …
 */
import { createHash } from "node:crypto";
import { createTask, gather, run, sleep } from "tsaio";

function expensiveChecksum(rounds: number): string {
  // Looks innocent; is a synchronous CPU hog. (Move such work to a ThreadPoolExecutor.)
  let h = "seed";
  for (let i = 0; i < rounds; i++) h = createHash("sha256").update(h).digest("hex");
  return h;
}

async function worker(n: number): Promise<void> {
  for (let step = 0; step < 3; step++) {
    await sleep(50);
    if (n === 2 && step === 1) expensiveChecksum(400_000);
  }
}

await run(
  async () => {
    await gather([1, 2, 3].map((n) => createTask(() => worker(n), { name: `worker-${n}` })));
    console.log("done: debug mode reported the blocking step above (on stderr)");
  },
  { debug: true },
);
