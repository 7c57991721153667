import { Barrier, createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const barrier = new Barrier(3);
  const party = async (name: string) => {
    try {
      const i = await barrier.wait();
      trace(name, "passed", i);
    } catch (e) {
      trace(name, "cancelled");
      throw e;
    }
  };
  const a = createTask(() => party("a"));
  const b = createTask(() => party("b"));
  await sleep(10);
  trace("n_waiting", barrier.nWaiting);
  a.cancel();
  await sleep(10);
  trace("after cancel n_waiting", barrier.nWaiting, "broken", barrier.broken);
  const c = createTask(() => party("c"));
  await sleep(10);
  trace("n_waiting", barrier.nWaiting);
  await gather([() => party("d"), b, c]);
  trace("end n_waiting", barrier.nWaiting);
}
