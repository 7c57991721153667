import { Barrier, BrokenBarrierError, createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const barrier = new Barrier(3);
  const party = async (name: string) => {
    try {
      const i = await barrier.wait();
      trace(name, "passed", i);
    } catch (e) {
      if (e instanceof BrokenBarrierError) trace(name, "broken");
      else throw e;
    }
  };
  const ts = ["a", "b"].map((n) => createTask(() => party(n)));
  await sleep(10);
  trace("n_waiting", barrier.nWaiting);
  await barrier.abort();
  await gather(ts);
  trace("broken", barrier.broken, "n_waiting", barrier.nWaiting);
  await party("late");
  try {
    await barrier.wait();
  } catch (e) {
    if (e instanceof BrokenBarrierError) trace("still broken");
  }
}
