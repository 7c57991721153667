import { createTask, gather, Lock, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const lock = new Lock();
  const order: string[] = [];
  await lock.acquire();
  const worker = async (name: string) => {
    await lock.acquire();
    order.push(name);
    trace(name, "acquired");
    await sleep(0);
    lock.release();
  };
  const tasks = ["A", "B", "C"].map((n) => createTask(() => worker(n)));
  await sleep(0);
  lock.release();
  trace("released, locked", lock.locked());
  await lock.acquire();
  order.push("main");
  trace("main acquired");
  lock.release();
  await gather(tasks);
  trace("order", order.join(","));
}
