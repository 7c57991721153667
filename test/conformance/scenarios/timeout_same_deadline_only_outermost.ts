import { currentTask, getRunningLoop, sleep, timeoutAt, type Timeout } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const me = currentTask()!;
  const when = loop.time() + 10;
  let outer!: Timeout;
  let inner!: Timeout;
  try {
    await timeoutAt(when, async (o) => {
      outer = o;
      try {
        await timeoutAt(when, async (i) => {
          inner = i;
          await sleep(1000);
        });
      } catch (e) {
        if ((e as Error).name === "CancelledError") trace("inner saw CancelledError", inner.expired());
        else trace("inner saw " + (e as Error).name);
        throw e;
      }
    });
  } catch (e) {
    trace("outer " + (e as Error).name, outer.expired(), inner.expired(), me.cancelling());
  }
}
