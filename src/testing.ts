/**
 * Test helpers: run code on a virtual clock, where time jumps to the next timer whenever nothing is
 * ready, so an hour of timers takes milliseconds and every timing is exact.
 * @module
 */
import { run, type RunOptions } from "./runners.js";
import { getRunningLoop } from "./runners.js";

/**
 * Runs `main` with `run()` on a virtual clock. Deadlocks reject at once with `DeadlockError`.
 * @example
 * ```ts
 * import { runVirtual } from "tsaio/testing";
 * import { sleep, getRunningLoop } from "tsaio";
 * const t = await runVirtual(async () => { await sleep(3_600_000); return getRunningLoop().time(); });
 * console.log(t); // 3600000
 * ```
 */
export function runVirtual<T>(main: () => T | PromiseLike<T>, options: Omit<RunOptions, "clock"> = {}): Promise<T> {
  return run(main, { handleSigint: false, ...options, clock: "virtual" });
}

/** A recorder of `t=<ms> <parts>` lines, the format of the conformance traces. */
export interface Tracer {
  /** Records one line: the loop time (rounded ms) and the parts, space-separated. */
  trace(...parts: (string | number | bigint | boolean)[]): void;
  /** The lines recorded so far. */
  readonly lines: string[];
}

/**
 * A tracer that stamps each line with the running loop's time, as the conformance oracle does.
 * @example
 * ```ts
 * import { runVirtual, createTracer } from "tsaio/testing";
 * import { sleep } from "tsaio";
 * const tr = createTracer();
 * await runVirtual(async () => { await sleep(10); tr.trace("woke"); });
 * console.log(tr.lines); // [ 't=10 woke' ]
 * ```
 */
export function createTracer(): Tracer {
  const lines: string[] = [];
  return {
    lines,
    trace(...parts) {
      lines.push(`t=${Math.round(getRunningLoop().time())} ${parts.map(String).join(" ")}`.trimEnd());
    },
  };
}
