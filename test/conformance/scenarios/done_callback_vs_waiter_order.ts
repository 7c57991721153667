import { createTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const t = createTask(() => sleep(10, "v"));
  t.addDoneCallback((f) => trace("cb1", f.result()));
  const w = async () => {
    const r = await t;
    trace("waiter woke", r);
  };
  const wt = createTask(() => w());
  await sleep(0);
  t.addDoneCallback(() => trace("cb2"));
  const r = await t;
  trace("main woke", r);
  t.addDoneCallback(() => trace("cb3 on done task"));
  trace("after adding cb3");
  await wt;
  trace("after awaiting done waiter task");
  await sleep(0);
  trace("end");
}
