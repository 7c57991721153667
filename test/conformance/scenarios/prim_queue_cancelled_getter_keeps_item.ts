import { createTask, gather, Queue, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const q = new Queue<number>();
  const getter = async (name: string) => {
    try {
      const v = await q.get();
      trace(name, "got", v);
    } catch (e) {
      trace(name, "cancelled after wake-up");
      throw e;
    }
  };
  const g = createTask(() => getter("g1"));
  const g2 = createTask(() => getter("g2"));
  await sleep(10);
  q.putNowait(1);
  q.putNowait(2);
  g.cancel();
  await gather([g, g2], { returnExceptions: true });
  trace("qsize", q.qsize());
  trace("next get", await q.get());
}
