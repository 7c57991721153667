import { createTask, currentTask, shield, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const inner = createTask(() => sleep(1000));
  const outer = shield(inner);
  await sleep(10);
  trace("cancel inner", inner.cancel());
  try {
    await outer;
    trace("not reached");
  } catch {
    trace("outer raised CancelledError", "outer.cancelled", outer.cancelled(), currentTask()!.cancelling());
  }
  trace("main continues");
}
