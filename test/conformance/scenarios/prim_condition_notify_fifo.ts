import { Condition, createTask, gather, InvalidStateError, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const cond = new Condition();
  const waiter = (i: number) =>
    cond.run(async () => {
      const r = await cond.wait();
      trace("waiter", i, "woke", r);
    });
  const ts = [0, 1, 2, 3].map((i) => createTask(() => waiter(i)));
  await sleep(10);
  try {
    cond.notify();
  } catch (e) {
    if (e instanceof InvalidStateError) trace("notify without the lock refused");
  }
  await cond.run(() => cond.notify(2));
  await sleep(10);
  trace("after notify(2)");
  await cond.run(() => cond.notifyAll());
  await gather(ts);
  trace("all done");
}
