import { createTask, getRunningLoop, waitFor } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  let started = 0;
  const body = async () => {
    started++;
    return 1;
  };
  try {
    await waitFor(() => body(), 0);
    trace("not reached");
  } catch {
    trace("coroutine TimeoutError", "started", started);
  }
  const t = createTask(() => body());
  try {
    await waitFor(t, 0);
  } catch {
    trace("task TimeoutError", "started", started, "cancelled", t.cancelled());
  }
  const fut = loop.createFuture<string>();
  fut.setResult("ready");
  const r = await waitFor(fut, 0);
  trace("done future", r);
  const r2 = await waitFor(() => body(), 10);
  trace("positive timeout", r2, "started", started);
}
