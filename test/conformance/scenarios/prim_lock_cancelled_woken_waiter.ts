import { CancelledError, createTask, gather, Lock, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const lock = new Lock();
  await lock.acquire();
  const worker = async (name: string) => {
    try {
      await lock.acquire();
    } catch (e) {
      trace(name, "cancelled while waiting, locked", lock.locked());
      throw e;
    }
    trace(name, "acquired");
    lock.release();
    return null;
  };
  const b = createTask(() => worker("B"));
  const c = createTask(() => worker("C"));
  await sleep(0);
  lock.release();
  b.cancel();
  trace("B cancelled before running");
  const r = await gather([b, c], { returnExceptions: true });
  trace("B", r[0] instanceof CancelledError ? "CancelledError" : "?", "C", r[1] === null ? "None" : "?", "locked", lock.locked());
}
