import { createTask, currentTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const child = async () => {
    try {
      await sleep(1000);
    } catch {
      trace("child swallowed", currentTask()!.cancelling());
    }
    await sleep(10);
    trace("child slept again");
    return "ignored";
  };
  const t = createTask(() => child());
  await sleep(10);
  trace("cancel", t.cancel());
  const r = await t;
  trace("result", r, "cancelled", t.cancelled(), "cancelling", t.cancelling());
}
