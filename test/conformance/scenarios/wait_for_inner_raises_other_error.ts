import { createTask, currentTask, sleep, timeout, waitFor, type Timeout } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class KeyError extends Error {
  override name = "KeyError";
}

export async function main(trace: Trace): Promise<void> {
  const bad = async () => {
    try {
      await sleep(1000);
    } catch {
      trace("cleanup fails");
      throw new KeyError("cleanup");
    }
  };
  try {
    await waitFor(() => bad(), 10);
  } catch (e) {
    if ((e as Error).name === "KeyError") trace("KeyError propagates", currentTask()!.cancelling());
    else trace((e as Error).name);
  }
  let cm!: Timeout;
  try {
    await timeout(10, async (scope) => {
      cm = scope;
      await bad();
    });
  } catch (e) {
    if ((e as Error).name === "KeyError") trace("timeout block: KeyError", cm.expired(), currentTask()!.cancelling());
    else trace((e as Error).name);
  }
  const t = createTask(() => bad());
  try {
    await waitFor(t, 10);
  } catch (e) {
    if ((e as Error).name === "KeyError") trace("task form: KeyError", t.cancelled());
    else trace((e as Error).name);
  }
}
