import { createTask, getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const never = loop.createFuture<void>();
  const leaf = async () => {
    trace("leaf waits");
    await never;
  };
  const middle = async () => {
    await sleep(20);
    trace("middle awaits leaf");
    await createTask(() => leaf());
  };
  const t = createTask(() => middle());
  loop.callLater(50, trace, "last timer");
  await t;
}
