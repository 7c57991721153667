import { createTask, gather, getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const sleeper = async (name: string) => {
    try {
      await sleep(1000);
    } catch (e) {
      trace(name, "woke cancelled");
      throw e;
    }
  };
  const t1 = createTask(() => sleeper("t1"));
  const t2 = createTask(() => sleeper("t2"));
  await sleep(10);
  loop.callSoon(trace, "callback before");
  t2.cancel();
  loop.callSoon(trace, "callback between");
  t1.cancel();
  loop.callSoon(trace, "callback after");
  await sleep(0);
  trace("main after sleep0");
  await gather([t1, t2], { returnExceptions: true });
  trace("end");
}
