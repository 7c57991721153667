import { getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const fut = loop.createFuture<void>();
  await sleep(10);
  trace("waiting on a future nobody sets");
  await fut;
  trace("not reached");
}
