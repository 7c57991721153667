import { currentTask, getRunningLoop, sleep, timeout, timeoutAt, type Timeout } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  let cm!: Timeout;
  try {
    await timeout(10, async (scope) => {
      cm = scope;
      await sleep(10_000);
      trace("not reached");
    });
  } catch (e) {
    trace((e as Error).name, ((e as Error).cause as Error).name, "expired", cm.expired(), "cancelling", currentTask()!.cancelling());
  }
  let cm2!: Timeout;
  const r = await timeout(50, async (scope) => {
    cm2 = scope;
    return await sleep(10, "in time");
  });
  trace(r, "expired", cm2.expired(), "when", Math.round(cm2.when()!));
  let cm3!: Timeout;
  await timeout(null, async (scope) => {
    cm3 = scope;
    await sleep(100);
  });
  trace("no deadline", cm3.when() === null, cm3.expired());
  let cm4!: Timeout;
  try {
    await timeoutAt(loop.time() + 20, async (scope) => {
      cm4 = scope;
      await sleep(1000);
    });
  } catch {
    trace("timeout_at fired", cm4.expired());
  }
}
