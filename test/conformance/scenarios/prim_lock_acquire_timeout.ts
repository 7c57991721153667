import { createTask, gather, Lock, sleep, timeout, TimeoutError } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const lock = new Lock();
  await lock.acquire();
  const impatient = async (name: string, ms: number) => {
    try {
      await timeout(ms, () => lock.acquire());
      trace(name, "acquired");
      await sleep(5);
      lock.release();
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      trace(name, "timed out, locked", lock.locked());
    }
  };
  const ts = (
    [
      ["a", 10],
      ["b", 50],
      ["c", 20],
    ] as const
  ).map(([n, ms]) => createTask(() => impatient(n, ms)));
  await sleep(30);
  lock.release();
  await gather(ts);
  trace("end locked", lock.locked());
}
