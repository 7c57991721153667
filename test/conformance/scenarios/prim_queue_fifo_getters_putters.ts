import { createTask, gather, Queue, QueueEmpty, QueueFull, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const q = new Queue<string>(1);
  const getter = async (i: number) => {
    const v = await q.get();
    trace("getter", i, "got", v);
  };
  const gs = [0, 1, 2].map((i) => createTask(() => getter(i)));
  await sleep(10);
  for (const v of "xyz") {
    await q.put(v);
    trace("put", v);
  }
  await gather(gs);
  const putter = async (v: string) => {
    await q.put(v);
    trace("putter", v, "done");
  };
  q.putNowait("first");
  const ps = ["a", "b", "c"].map((v) => createTask(() => putter(v)));
  await sleep(10);
  trace("full", q.full(), "qsize", q.qsize());
  try {
    q.putNowait("nope");
  } catch (e) {
    if (e instanceof QueueFull) trace("put_nowait on full: QueueFull");
  }
  const got: string[] = [];
  for (let i = 0; i < 4; i++) got.push(await q.get());
  await gather(ps);
  trace("got", `[${got.map((s) => `'${s}'`).join(", ")}]`, "empty", q.empty());
  try {
    q.getNowait();
  } catch (e) {
    if (e instanceof QueueEmpty) trace("get_nowait on empty: QueueEmpty");
  }
}
