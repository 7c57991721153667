import { createTask, currentTask, sleep, timeout, type Timeout } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const me = currentTask()!;
  let cm!: Timeout;
  try {
    await timeout(0, async (scope) => {
      cm = scope;
      me.cancel();
      await sleep(1000);
    });
  } catch (e) {
    if ((e as Error).name === "CancelledError") trace("CancelledError", "expired", cm.expired(), "cancelling", me.cancelling());
    else trace((e as Error).name);
  }
  trace("uncancel", me.uncancel());

  const victim = async () => {
    try {
      await timeout(1000, async () => {
        await sleep(500);
      });
    } catch (e) {
      if ((e as Error).name === "TimeoutError") trace("victim TimeoutError");
      else {
        trace("victim CancelledError", currentTask()!.cancelling());
        throw e;
      }
    }
  };
  const v = createTask(() => victim());
  await sleep(10);
  v.cancel();
  try {
    await v;
  } catch {
    trace("victim task cancelled", v.cancelled());
  }
}
