/**
 * The worker module of the TSDoc examples of the executors (`src/executors/*.ts`): they load it as
 * `workerModule<typeof import("./jobs.js")>(new URL("./jobs.js", import.meta.url))`, as a file in
 * this folder would. Plain exported functions; test/doc-examples.test.ts runs those examples.
 */
import { createHash } from "node:crypto";

/** The number of primes below `limit` (a sieve of Eratosthenes). */
export function countPrimes(limit: number): number {
  const composite = new Uint8Array(limit);
  let count = 0;
  for (let n = 2; n < limit; n++) {
    if (composite[n] === 1) continue;
    count++;
    for (let m = n * n; m < limit; m += n) composite[m] = 1;
  }
  return count;
}

/** The SHA-256 of a string, in hex. */
export function hash(data: string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The SHA-256 of bytes, in hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Busy-waits `ms` milliseconds, synchronously: a job that never looks at its cancellation. */
export function spin(ms: number): number {
  const end = Date.now() + ms;
  let rounds = 0;
  while (Date.now() < end) rounds++;
  return rounds;
}

/** The sum of the doubles in `buffer`. */
export function sum(buffer: ArrayBuffer): number {
  let total = 0;
  for (const x of new Float64Array(buffer)) total += x;
  return total;
}

let model: string | null = null;

/** A pool `initializer`: runs once in each worker before its first job (here it only records the size). */
export function loadModel(size: string): void {
  model = size;
}

/** Stands for slow work on `scene` (with the model loaded by `loadModel`, if any). */
export function render(scene: string): string {
  return model === null ? `rendered ${scene}` : `rendered ${scene} with the ${model} model`;
}
