import { createTask, sleep, waitFor, type Task } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const inner = createTask(() => sleep(10, "x"));
  const callerHolder: { c?: Task<string> } = {};
  const caller = async () => {
    const r = await waitFor(inner, 100);
    trace("caller continued", r);
    return r;
  };
  // The caller is cancelled in the very iteration where inner finishes (3.12+: it must not go on).
  inner.addDoneCallback(() => trace("cancel caller", callerHolder.c!.cancel()));
  const c = createTask(() => caller());
  callerHolder.c = c;
  try {
    await c;
    trace("not reached");
  } catch {
    trace("caller cancelled", c.cancelled(), "inner result", inner.result());
  }
}
