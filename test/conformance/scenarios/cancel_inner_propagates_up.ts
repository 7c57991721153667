import { createTask, currentTask, sleep, type Task } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const innerFn = async () => {
    await sleep(1000);
  };
  let inner: Task<void> | null = null;
  const outer = async () => {
    const it = createTask(() => innerFn());
    inner = it;
    try {
      await it;
    } catch (e) {
      trace("outer got CancelledError", "cancelling", currentTask()!.cancelling());
      throw e;
    }
  };
  const t = createTask(() => outer());
  await sleep(10);
  const it = inner as unknown as Task<void>;
  trace("cancel inner", it.cancel());
  try {
    await t;
  } catch {
    trace("main saw outer cancelled");
  }
  trace("outer", t.cancelled(), t.cancelling(), "inner", it.cancelled(), it.cancelling());
}
