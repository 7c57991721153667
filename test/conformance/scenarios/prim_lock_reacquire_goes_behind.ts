import { gather, Lock, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const lock = new Lock();
  const greedy = async (name: string, rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      await lock.run(async () => {
        trace(name, i);
        await sleep(10);
      });
    }
  };
  await gather([() => greedy("A", 3), () => greedy("B", 3), () => greedy("C", 2)]);
  trace("done");
}
