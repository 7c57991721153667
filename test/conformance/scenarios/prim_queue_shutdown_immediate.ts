import { createTask, Queue, QueueShutDown, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const q = new Queue<string>();
  q.putNowait("a");
  q.putNowait("b");
  const j = createTask(() => q.join());
  await sleep(10);
  trace("join waiting:", !j.done());
  q.shutdown(true);
  trace("qsize", q.qsize());
  await j;
  trace("join finished");
  try {
    await q.get();
  } catch (e) {
    if (e instanceof QueueShutDown) trace("get: QueueShutDown");
  }
}
