import { createTask, currentTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const work = async () => {
    try {
      await sleep(1000);
    } catch (e) {
      trace("first cancel, cleaning up");
      try {
        await sleep(50);
        trace("cleanup finished");
      } catch (e2) {
        trace("cleanup interrupted", currentTask()!.cancelling());
        throw e2;
      }
      throw e;
    }
  };
  const t = createTask(() => work());
  await sleep(10);
  t.cancel();
  await sleep(10);
  trace("second cancel", t.cancel(), t.cancelling());
  try {
    await t;
  } catch {
    trace("task cancelled", t.cancelled());
  }
  const t2 = createTask(() => work());
  await sleep(10);
  t2.cancel();
  await sleep(0);
  trace("t2 in cleanup", t2.cancelling());
  try {
    await t2;
  } catch {
    trace("t2 cancelled after cleanup", t2.cancelled());
  }
}
