import { getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}
class KeyError extends Error {
  override name = "KeyError";
}

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  loop.setExceptionHandler((_lp, ctx) => {
    trace("handler", (ctx.exception as Error).name, ctx.message.startsWith("Exception in"));
  });
  const bad = () => {
    throw new ValueError("boom");
  };
  const badDone = () => {
    throw new KeyError("k");
  };
  loop.callSoon(bad);
  loop.callSoon(trace, "later cb");
  const fut = loop.createFuture<number>();
  fut.addDoneCallback(badDone);
  fut.addDoneCallback((f) => trace("second done cb", f.result()));
  fut.setResult(3);
  await sleep(0);
  trace("main after sleep0");
  loop.callLater(10, bad);
  loop.callLater(11, trace, "timer after bad");
  await sleep(20);
  trace("main end");
}
