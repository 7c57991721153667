import { getRunningLoop, sleep, type Handle } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const h1 = loop.callSoon(trace, "soon 1");
  const h2 = loop.callSoon(trace, "soon 2 (cancelled)");
  loop.callSoon(trace, "soon 3");
  h2.cancel();
  const th = loop.callLater(10, trace, "timer (cancelled)");
  loop.callLater(20, trace, "timer 20");
  th.cancel();
  const at = loop.callAt(loop.time() + 30, trace, "call_at 30");
  trace("when", Math.round(at.when()));
  await sleep(50);
  trace("cancelled flags", h1.cancelled(), h2.cancelled(), th.cancelled());
  const holder: { h4?: Handle } = {};
  loop.callSoon(() => {
    trace("canceller runs");
    holder.h4!.cancel();
  });
  holder.h4 = loop.callSoon(trace, "cancelled by an earlier callback");
  await sleep(0);
  trace("end");
}
