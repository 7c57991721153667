import { createTask, currentTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const a = async () => {
    trace("a runs");
    currentTask()!.cancel();
    trace("a after self-cancel", currentTask()!.cancelling());
    return 12;
  };
  const b = async () => {
    currentTask()!.cancel("self");
    trace("b continues");
    try {
      await sleep(10);
      trace("b not reached");
    } catch (e) {
      trace("b got cancel", "msg=" + (e as Error).message);
      throw e;
    }
  };
  const ta = createTask(() => a());
  const tb = createTask(() => b());
  try {
    const r = await ta;
    trace("a returned", r);
  } catch {
    trace("a cancelled", ta.cancelled());
  }
  try {
    await tb;
  } catch (e) {
    trace("b cancelled", tb.cancelled(), "msg=" + (e as Error).message);
  }
}
