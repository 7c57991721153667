import { createTask, Event, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const ev = new Event();
  const waiter = async (i: number) => {
    const r = await ev.wait();
    trace("waiter", i, "returned", r, "is_set", ev.isSet());
  };
  const ts = [1, 2, 3].map((i) => createTask(() => waiter(i)));
  await sleep(10);
  ev.set();
  ev.clear();
  trace("set then clear, is_set", ev.isSet());
  await gather(ts);
  const w = createTask(() => ev.wait());
  await sleep(10);
  trace("after clear a new wait blocks:", !w.done());
  ev.set();
  trace("wait result", await w);

  const ev2 = new Event();
  const order: number[] = [];
  const waiter2 = async (i: number) => {
    await ev2.wait();
    order.push(i);
  };
  const early = [1, 2].map((i) => createTask(() => waiter2(i)));
  await sleep(10);
  const late = createTask(() => waiter2(3));
  ev2.set();
  await gather([...early, late]);
  trace("order", `[${order.join(", ")}]`);
}
