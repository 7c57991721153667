import { createTask, gather, Queue, sleep, TimeoutError, waitFor } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const q = new Queue<string>();
  const consumer = async (name: string, ms: number) => {
    try {
      const v = await waitFor(() => q.get(), ms);
      trace(name, "got", v);
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      trace(name, "timed out, qsize", q.qsize());
    }
  };
  const ts = (
    [
      ["a", 10],
      ["b", 30],
      ["c", 50],
    ] as const
  ).map(([n, ms]) => createTask(() => consumer(n, ms)));
  await sleep(20);
  q.putNowait("x");
  q.putNowait("y");
  await gather(ts);
  trace("left", q.qsize());
}
