import { createTask, gather, Semaphore, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const sem = new Semaphore(0);
  const waiter = async (i: number) => {
    await sem.acquire();
    trace("acquired", i);
  };
  const ts = [0, 1, 2, 3].map((i) => createTask(() => waiter(i)));
  await sleep(10);
  ts[0].cancel();
  ts[1].cancel();
  sem.release();
  await sleep(10);
  trace("states", `[${ts.map((t) => `'${t.cancelled() ? "cancelled" : t.done() ? "done" : "waiting"}'`).join(", ")}]`);
  sem.release();
  await gather(ts, { returnExceptions: true });
  trace("locked", sem.locked());
}
