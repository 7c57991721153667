import { createTask, currentTask, sleep, waitFor } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const me = currentTask()!;
  const body = async () => {
    const t = currentTask();
    await sleep(10);
    return t === me;
  };
  let r = await waitFor(() => body(), 1000);
  trace("same task", r);
  const other = async () => currentTask() === me;
  const t = createTask(() => other());
  r = await waitFor(t, 1000);
  trace("task form same task", r, me.cancelling());
}
