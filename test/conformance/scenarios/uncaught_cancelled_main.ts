import { createTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const child = async () => {
    await sleep(1000);
  };
  const t = createTask(() => child());
  await sleep(10);
  t.cancel();
  trace("awaiting a cancelled child without catching");
  await t;
  trace("not reached");
}
