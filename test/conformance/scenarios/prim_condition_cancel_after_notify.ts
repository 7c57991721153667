import { Condition, createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const cond = new Condition();
  const waiter = (name: string) =>
    cond.run(async () => {
      try {
        await cond.wait();
        trace(name, "notified");
      } catch (e) {
        trace(name, "cancelled after notify, holds lock", cond.locked());
        throw e;
      }
    });
  const a = createTask(() => waiter("a"));
  const b = createTask(() => waiter("b"));
  await sleep(10);
  await cond.run(() => {
    cond.notify(1);
    a.cancel();
  });
  await gather([a, b], { returnExceptions: true });
  trace("a cancelled", a.cancelled(), "b done", b.done() && !b.cancelled());
}
