import { getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  for (let i = 0; i < 5; i++) loop.callSoon(trace, "cb", i);
  trace("scheduled");
  await sleep(0);
  trace("main resumed");
}
