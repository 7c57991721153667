import { getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  loop.callSoon(trace, "cb1");
  loop.callSoon(trace, "cb2");
  const r = await sleep(0, "R");
  trace("sleep returned", r);
  const r2 = await sleep(10, 7);
  trace("sleep10 returned", r2);
}
