import { createTask, currentTask, sleep, waitFor } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const stubborn = async () => {
    try {
      await sleep(1000);
      return 1;
    } catch {
      trace("swallowed");
      await sleep(10);
      return 42;
    }
  };
  let r = await waitFor(() => stubborn(), 10);
  trace("coroutine result", r, currentTask()!.cancelling());
  const t = createTask(() => stubborn());
  r = await waitFor(t, 10);
  trace("task result", r, t.cancelled(), currentTask()!.cancelling());
}
