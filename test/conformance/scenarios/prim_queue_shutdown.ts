import { createTask, Queue, QueueShutDown, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const q = new Queue<string>(2);
  const g = createTask(async () => {
    try {
      const v = await q.get();
      trace("getter", "got", v);
    } catch (e) {
      if (e instanceof QueueShutDown) trace("getter", "QueueShutDown");
    }
  });
  await sleep(10);
  q.shutdown();
  await g;
  const q2 = new Queue<string>(1);
  q2.putNowait("kept");
  const p = createTask(async () => {
    try {
      await q2.put("blocked");
    } catch (e) {
      if (e instanceof QueueShutDown) trace("putter QueueShutDown");
    }
  });
  await sleep(10);
  q2.shutdown();
  await p;
  try {
    await q2.put("after");
  } catch (e) {
    if (e instanceof QueueShutDown) trace("put after shutdown: QueueShutDown");
  }
  trace("remaining item still gettable:", await q2.get());
  try {
    await q2.get();
  } catch (e) {
    if (e instanceof QueueShutDown) trace("get on shut-down empty queue: QueueShutDown");
  }
  try {
    q2.getNowait();
  } catch (e) {
    if (e instanceof QueueShutDown) trace("get_nowait: QueueShutDown");
  }
}
