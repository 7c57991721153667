import { createTask, Queue, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const q = new Queue<string>(1);
  q.putNowait("old");
  const p = createTask(async () => {
    await q.put("blocked-putter");
    trace("putter done");
  });
  await sleep(10);
  trace("got", q.getNowait());
  q.putNowait("barger");
  trace("barger in, qsize", q.qsize());
  await sleep(10);
  trace("putter still waiting:", !p.done());
  trace("got", await q.get());
  await p;
  trace("got", await q.get());
}
