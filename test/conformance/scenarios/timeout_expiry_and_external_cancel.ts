import { createTask, currentTask, getRunningLoop, sleep, timeout, waitFor } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const victim = async () => {
    const me = currentTask()!;
    try {
      await timeout(10, async () => {
        await sleep(1000);
      });
    } catch (e) {
      if ((e as Error).name === "TimeoutError") trace("victim TimeoutError");
      else {
        trace("victim CancelledError", me.cancelling());
        throw e;
      }
    }
  };
  const v = createTask(() => victim());
  // The external cancel and the timeout fire in the same iteration (their relative order does
  // not matter: either way the task has two cancel requests and only one belongs to the timeout).
  loop.callAt(loop.time() + 10, () => v.cancel());
  try {
    await v;
  } catch {
    trace("victim cancelled", v.cancelled());
  }

  const victim2 = async () => {
    try {
      return await waitFor(() => sleep(1000), 10);
    } catch (e) {
      if ((e as Error).name === "TimeoutError") trace("victim2 TimeoutError");
      else {
        trace("victim2 CancelledError");
        throw e;
      }
    }
    return undefined;
  };
  const v2 = createTask(() => victim2());
  loop.callAt(loop.time() + 10, () => v2.cancel());
  try {
    await v2;
  } catch {
    trace("victim2 cancelled", v2.cancelled());
  }
}
