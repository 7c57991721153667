import { BoundedSemaphore, createTask, gather, InvalidStateError, Semaphore, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const sem = new Semaphore(0);
  const order: number[] = [];
  const waiter = async (i: number) => {
    await sem.acquire();
    order.push(i);
    trace("acquired", i);
  };
  const ts = [0, 1, 2].map((i) => createTask(() => waiter(i)));
  await sleep(10);
  ts[0].cancel();
  await sleep(10);
  sem.release();
  sem.release();
  await gather(ts, { returnExceptions: true });
  trace("order", `[${order.join(", ")}]`, "locked", sem.locked());
  try {
    new Semaphore(-1);
  } catch (e) {
    if (e instanceof RangeError) trace("Semaphore(-1) refused");
  }
  const b = new BoundedSemaphore(1);
  try {
    b.release();
  } catch (e) {
    if (e instanceof InvalidStateError) trace("over-release refused");
  }
  await b.acquire();
  b.release();
  trace("bounded still usable, locked", b.locked());
}
