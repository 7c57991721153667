import { Barrier, BrokenBarrierError, createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const barrier = new Barrier(2);
  const party = async (name: string) => {
    try {
      const i = await barrier.wait();
      trace(name, "passed", i);
    } catch (e) {
      if (e instanceof BrokenBarrierError) trace(name, "broken by reset");
      else throw e;
    }
  };
  const a = createTask(() => party("a"));
  await sleep(10);
  await barrier.reset();
  trace("reset done, broken", barrier.broken);
  await a;
  trace("n_waiting", barrier.nWaiting);
  await gather([() => party("b"), () => party("c")]);
  trace("reusable, broken", barrier.broken);
}
