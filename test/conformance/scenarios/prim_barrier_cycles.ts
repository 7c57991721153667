import { Barrier, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const barrier = new Barrier(3);
  const party = async (name: string, delays: number[]) => {
    for (let rnd = 0; rnd < delays.length; rnd++) {
      await sleep(delays[rnd]);
      const i = await barrier.wait();
      trace(name, "round", rnd, "index", i);
    }
  };
  await gather([() => party("a", [30, 5]), () => party("b", [10, 20]), () => party("c", [20, 1])]);
  trace("n_waiting", barrier.nWaiting, "broken", barrier.broken, "parties", barrier.parties);
}
