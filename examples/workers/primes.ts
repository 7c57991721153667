/**
 * A worker module for examples/cpu-pool.ts: plain exported functions. It is loaded by the pool's
 * workers (never by the main thread of the pool example), and its types flow to the caller through
 * `workerModule<typeof import("./workers/primes.js")>`.
 */

/** Counts the primes in [from, to) by trial division: deliberately CPU-bound. */
export function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
