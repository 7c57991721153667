/**
 * A CPU-bound job on the main thread, then on a ThreadPoolExecutor: prints both times and the
 * speed-up. Run with `npm run build && npx tsx examples/cpu-pool.ts`.
 */
import { availableParallelism } from "node:os";
import { gather, run, ThreadPoolExecutor, workerModule } from "tsaio";
import { countPrimes } from "./workers/primes.js";

// A typed handle on the worker module: argument and result types come from its exports.
const primes = workerModule<typeof import("./workers/primes.js")>(new URL("./workers/primes.js", import.meta.url));

const LIMIT = 6_000_000;
const CHUNKS = 24;
const workers = Math.max(2, availableParallelism());
const ranges = Array.from({ length: CHUNKS }, (_, i) => [Math.floor((i * LIMIT) / CHUNKS), Math.floor(((i + 1) * LIMIT) / CHUNKS)] as const);

await run(async () => {
  console.log(`Counting the primes below ${LIMIT.toLocaleString()} in ${CHUNKS} chunks.\n`);

  let t0 = performance.now();
  let total = 0;
  for (const [from, to] of ranges) total += countPrimes(from, to);
  const mainMs = performance.now() - t0;
  console.log(`main thread:        ${total} primes in ${mainMs.toFixed(0)} ms (the event loop was blocked all along)`);

  await using pool = new ThreadPoolExecutor({ maxWorkers: workers });
  // Start the workers first, so that the timing below measures the work, not thread start-up.
  await gather(Array.from({ length: workers }, () => pool.submit(primes.fns.countPrimes, 0, 10)));

  t0 = performance.now();
  const counts = await gather(ranges.map(([from, to]) => pool.submit(primes.fns.countPrimes, from, to)));
  const poolMs = performance.now() - t0;
  const poolTotal = counts.reduce((a, b) => a + b, 0);
  console.log(`pool of ${workers} threads:  ${poolTotal} primes in ${poolMs.toFixed(0)} ms`);
  console.log(`\nspeed-up: ${(mainMs / poolMs).toFixed(2)}× on ${availableParallelism()} CPUs`);
  if (poolTotal !== total) throw new Error("the pool and the main thread disagree");
});
