import { createTask, gather, Lock, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const lock = new Lock();
  await lock.acquire();
  const waiter = async (name: string) => {
    try {
      await lock.acquire();
      trace(name, "acquired?!");
    } catch (e) {
      trace(name, "cancelled");
      throw e;
    }
  };
  const ws = ["X", "Y"].map((n) => createTask(() => waiter(n)));
  await sleep(0);
  for (const w of ws) w.cancel();
  lock.release();
  await lock.acquire();
  trace("main acquired at once, locked", lock.locked());
  await gather(ws, { returnExceptions: true });
  lock.release();
  trace("end locked", lock.locked());
}
