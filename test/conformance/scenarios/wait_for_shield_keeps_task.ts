import { createTask, shield, sleep, waitFor } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const work = async () => {
    await sleep(50);
    trace("work done");
    return "saved";
  };
  const t = createTask(() => work());
  try {
    await waitFor(shield(t), 10);
  } catch (e) {
    trace((e as Error).name, "done", t.done(), "cancelled", t.cancelled());
  }
  const r = await t;
  trace("task result", r);
}
