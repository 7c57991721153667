/** Shared bits of the executor tests. */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { type Executor, workerModule } from "../../src/index.js";
import type { Outcome } from "../fixtures/run-fixture.js";

export const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "executors");

export const jobs = workerModule<typeof import("../fixtures/executors/jobs.js")>(new URL("../fixtures/executors/jobs.js", import.meta.url));

/** Resolves after `ms` of real time (a plain timer: no tsaio machinery involved). */
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until it holds; fails after `ms`. */
export async function until(cond: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(10);
  }
}

export type { Outcome };

/** Runs a fixture script under tsx in a fresh process (killed after `limitMs`). */
export function runFixture(name: string, args: string[] = [], limitMs = 30_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["--import", "tsx", join(fixtures, name), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/**
 * A test file's pools: `pool(new ThreadPoolExecutor(…))` registers one, and the file's `after` hook
 * (installed by the first call to `poolsShutDownAfter()`) shuts them all down.
 */
export function poolsShutDownAfter(extra?: () => void): <T extends Executor>(p: T) => T {
  const pools: Executor[] = [];
  after(async () => {
    await Promise.all(pools.map((p) => p.shutdown({ cancelFutures: true })));
    extra?.();
  });
  return (p) => {
    pools.push(p);
    return p;
  };
}
