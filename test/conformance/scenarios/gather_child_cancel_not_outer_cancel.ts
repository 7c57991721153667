import { createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const child = async (n: number, d: number) => {
    await sleep(d);
    trace("child done", n);
    return n;
  };
  const t1 = createTask(() => child(1, 50));
  const t2 = createTask(() => child(2, 30));
  const g = gather([t1, t2]);
  await sleep(10);
  trace("cancel t1", t1.cancel());
  try {
    await g;
    trace("not reached");
  } catch {
    trace("g raised CancelledError", "g.cancelled", g.cancelled(), "t2 done", t2.done());
  }
  const r = await t2;
  trace("t2 result", r, "t1 cancelled", t1.cancelled());
}
