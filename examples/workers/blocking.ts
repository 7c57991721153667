/** A worker module for examples/to-thread.ts: a blocking call, as found in many real APIs. */
import { pbkdf2Sync } from "node:crypto";

/** Derives a key with PBKDF2, synchronously: blocks whatever thread runs it. */
export function deriveKey(password: string, iterations: number): string {
  return pbkdf2Sync(password, "tsaio-salt", iterations, 32, "sha256").toString("hex");
}

/** A pure-JS busy computation that never looks at its signal (so cancelling it must terminate its worker). */
export function churn(rounds: number): number {
  let h = 2166136261;
  for (let i = 0; i < rounds; i++) h = Math.imul(h ^ (i & 0xff), 16777619) >>> 0;
  return h;
}
