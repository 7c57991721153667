import { createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const child = async (n: number, d: number) => {
    try {
      await sleep(d);
      return n;
    } catch (e) {
      trace("child cancelled", n);
      throw e;
    }
  };
  const g = gather([() => child(1, 50), () => child(2, 100)], { returnExceptions: true });
  await sleep(10);
  trace("g.cancel", g.cancel());
  try {
    await g;
    trace("not reached");
  } catch {
    trace("awaiting g raised CancelledError");
  }
  const waiter = async () => await gather([() => child(3, 50), () => child(4, 100)]);
  const w = createTask(() => waiter());
  await sleep(10);
  trace("cancel waiter", w.cancel());
  try {
    await w;
  } catch {
    trace("waiter cancelled", w.cancelled());
  }
}
