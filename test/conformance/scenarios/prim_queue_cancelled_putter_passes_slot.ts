import { createTask, gather, Queue, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const q = new Queue<number>(1);
  q.putNowait(0);
  const putter = async (v: number) => {
    try {
      await q.put(v);
      trace("put", v);
    } catch (e) {
      trace("putter", v, "cancelled after wake-up");
      throw e;
    }
  };
  const a = createTask(() => putter(1));
  const b = createTask(() => putter(2));
  await sleep(10);
  trace("got", q.getNowait());
  a.cancel();
  await gather([a, b], { returnExceptions: true });
  trace("items", q.qsize(), q.getNowait());
}
