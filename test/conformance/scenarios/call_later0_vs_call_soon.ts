import { getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  loop.callLater(0, trace, "later0");
  loop.callSoon(trace, "soon");
  await sleep(0);
  trace("main after sleep0");
  loop.callLater(5, trace, "later5");
  loop.callLater(2, trace, "later2");
  loop.callSoon(trace, "soon2");
  await sleep(10);
  trace("main after sleep10");
}
