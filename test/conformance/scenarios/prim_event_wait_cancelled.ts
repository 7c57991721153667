import { createTask, Event, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const ev = new Event();
  const waiter = async (name: string) => {
    try {
      await ev.wait();
      trace(name, "woke");
    } catch (e) {
      trace(name, "cancelled");
      throw e;
    }
  };
  const a = createTask(() => waiter("a"));
  const b = createTask(() => waiter("b"));
  await sleep(10);
  a.cancel();
  await sleep(10);
  ev.set();
  await gather([a, b], { returnExceptions: true });
  trace("a cancelled", a.cancelled(), "b cancelled", b.cancelled());
}
