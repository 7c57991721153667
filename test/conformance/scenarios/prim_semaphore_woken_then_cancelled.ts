import { createTask, gather, Semaphore, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const sem = new Semaphore(1);
  await sem.acquire();
  const waiter = async (name: string) => {
    try {
      await sem.acquire();
    } catch (e) {
      trace(name, "cancelled after being handed the permit");
      throw e;
    }
    trace(name, "acquired");
    await sleep(10);
    sem.release();
  };
  const a = createTask(() => waiter("a"));
  const b = createTask(() => waiter("b"));
  await sleep(10);
  sem.release();
  trace("locked after release", sem.locked());
  a.cancel();
  await gather([a, b], { returnExceptions: true });
  trace("locked", sem.locked());
  await sem.run(() => trace("main holds it again"));
}
