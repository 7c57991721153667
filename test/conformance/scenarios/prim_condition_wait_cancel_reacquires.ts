import { Condition, createTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const cond = new Condition();
  const caught: unknown[] = [];
  const w = createTask(() =>
    cond.run(async () => {
      try {
        await cond.wait();
      } catch (e) {
        caught.push(e);
        trace("waiter cancelled, holds lock", cond.locked());
        throw e;
      }
    }),
  );
  await sleep(10);
  await cond.acquire();
  w.cancel();
  await sleep(10);
  trace("waiter done while main holds lock:", w.done());
  cond.release();
  try {
    await w;
  } catch (e) {
    trace("same exception re-raised", e === caught[0]);
  }
  trace("locked at end", cond.locked());
}
