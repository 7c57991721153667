import { createTask, shield, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const work = async () => {
    await sleep(50);
    trace("work done");
    return "result";
  };
  const inner = createTask(() => work());
  const caller = async () => {
    try {
      return await shield(inner);
    } catch (e) {
      trace("caller cancelled", "inner done", inner.done());
      throw e;
    }
  };
  const c = createTask(() => caller());
  await sleep(10);
  trace("cancel caller", c.cancel());
  try {
    await c;
  } catch {
    trace("caller task cancelled", c.cancelled(), "inner cancelled", inner.cancelled());
  }
  const r = await inner;
  trace("inner result", r, inner.cancelled());
  const outer = shield(createTask(() => work()));
  await sleep(10);
  trace("cancel outer future", outer.cancel());
  await sleep(50);
  trace("end", outer.cancelled());
}
