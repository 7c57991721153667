/**
 * Runs a tsaio conformance scenario on the virtual clock and returns its trace in the oracle's
 * format (`t=<ms> <parts>`, then `DEADLOCK` or `UNCAUGHT <ErrorName>` as vloop.py prints them).
 */
import { DeadlockError, getRunningLoop } from "../../src/index.js";
import { runVirtual } from "../../src/testing.js";

export type Trace = (...parts: (string | number | boolean)[]) => void;
export type Scenario = (trace: Trace) => Promise<unknown>;

export async function traceScenario(main: Scenario): Promise<string[]> {
  const lines: string[] = [];
  const trace: Trace = (...parts) => {
    lines.push(`t=${Math.round(getRunningLoop().time())} ${parts.map((p) => (typeof p === "boolean" ? (p ? "True" : "False") : String(p))).join(" ")}`);
  };
  const silent = () => {}; // leftover errors are part of what the scenario checks, not noise
  try {
    await runVirtual(async () => {
      getRunningLoop().setExceptionHandler(silent);
      return main(trace);
    });
  } catch (e) {
    if (e instanceof DeadlockError) lines.push("DEADLOCK");
    else lines.push(`UNCAUGHT ${e instanceof Error ? e.name : typeof e}`);
  }
  return lines;
}
