import { createTask, currentTask, sleep, waitFor } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const work = async () => {
    try {
      await sleep(1000);
    } finally {
      trace("cleanup start");
      await sleep(50);
      trace("cleanup end");
    }
  };
  const t = createTask(() => work());
  try {
    await waitFor(t, 10);
  } catch (e) {
    trace((e as Error).name, ((e as Error).cause as Error).name, "task cancelled", t.cancelled());
  }
  try {
    await waitFor(() => work(), 10);
  } catch (e) {
    trace("coroutine form " + (e as Error).name, ((e as Error).cause as Error).name, currentTask()!.cancelling());
  }
}
