import { createTask, gather, Semaphore, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const sem = new Semaphore(0);
  const order: string[] = [];
  const take = async (name: string) => {
    await sem.acquire();
    order.push(name);
    trace(name, "acquired");
  };
  const first = createTask(() => take("first"));
  await sleep(10);
  sem.release();
  trace("released, locked", sem.locked());
  const newcomer = createTask(() => take("newcomer"));
  await sleep(10);
  trace("newcomer waiting:", !newcomer.done());
  sem.release();
  await gather([first, newcomer]);
  trace("order", `[${order.map((s) => `'${s}'`).join(", ")}]`);
}
