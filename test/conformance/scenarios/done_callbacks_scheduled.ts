import { getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const fut = loop.createFuture<number>();
  fut.addDoneCallback((f) => trace("cb1", f.result()));
  fut.setResult(1);
  trace("after set_result");
  fut.addDoneCallback((f) => trace("cb2", f.result()));
  trace("after add cb2");
  await sleep(0);
  trace("main after sleep0");
  const fut2 = loop.createFuture<number>();
  fut2.addDoneCallback((f) => trace("cb3 cancelled", f.cancelled()));
  fut2.cancel();
  trace("after cancel");
  await sleep(0);
  trace("main end");
}
