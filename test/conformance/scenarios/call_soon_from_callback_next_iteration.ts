import { getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const aChild = () => {
    trace("a-child");
    loop.callSoon(trace, "a-grandchild");
  };
  const a = () => {
    trace("a");
    loop.callSoon(aChild);
  };
  loop.callSoon(a);
  loop.callSoon(trace, "b");
  await sleep(0);
  trace("main 1");
  await sleep(0);
  trace("main 2");
  await sleep(0);
  trace("main 3");
}
