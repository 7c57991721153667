import { createTask, gather, getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const t = createTask(() => sleep(10, "x"));
  const r = await gather([t, t, t]);
  trace("duplicates", r.join(","));
  const f = loop.createFuture<string>();
  f.setResult("done-already");
  const r2 = await gather([f, () => sleep(10, "later")]);
  trace("with done future", r2.join(","));
  const r3 = await gather([]);
  trace("empty", r3.length);
}
