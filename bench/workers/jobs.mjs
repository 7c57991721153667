// The benchmark workloads, shared by every pool (plain JS: no loader needed in any worker).

/** The trivial job. */
export function inc(x) {
  return x + 1;
}

/** A CPU-bound job with a fixed amount of work: count the primes below `n` by trial division. */
export function cpu(n) {
  let count = 0;
  for (let i = 2; i < n; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
