/**
 * 10,000 items through `map`, at most 20 at a time; item 1234 fails.
 *
 *   npm run build && npx tsx examples/map-failure.ts
 *
 * The failure cancels the 19 items in flight (their cleanup runs), nothing new starts, and the error
 * comes back — p-map's `stopOnError` would reject but leave the others running.
 */
import { map, run, sleep } from "tsaio";

let started = 0;
let cancelled = 0;
let finished = 0;

await run(async () => {
  const t0 = performance.now();
  let failedAt = 0;
  try {
    await map(
      Array.from({ length: 10_000 }, (_, i) => i),
      async (i) => {
        started++;
        try {
          await sleep(5 + (i % 7) * 3); // a "request"
          if (i === 1234) {
            failedAt = performance.now();
            throw new Error(`item ${i} failed`);
          }
          finished++;
          return i * 2;
        } catch (e) {
          if ((e as Error).name === "CancelledError") cancelled++;
          throw e;
        }
      },
      { concurrency: 20 },
    );
  } catch (e) {
    const shutdownMs = performance.now() - failedAt;
    console.log(`map threw: ${(e as Error).message}`);
    console.log(`started ${started} of 10000, finished ${finished}, cancelled in flight ${cancelled}`);
    console.log(`shutdown (cancel + await the ${cancelled} in flight) took ${shutdownMs.toFixed(2)} ms; total ${(performance.now() - t0).toFixed(0)} ms`);
  }
});
