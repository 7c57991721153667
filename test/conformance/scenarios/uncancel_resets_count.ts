import { createTask, currentTask, getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const child = async () => {
    const me = currentTask()!;
    try {
      await sleep(1000);
    } catch {
      trace("caught", me.cancelling());
      trace("uncancel", me.uncancel());
    }
    await sleep(10);
    trace("child continues", me.cancelling());
    return "ok";
  };
  const t = createTask(() => child());
  await sleep(10);
  t.cancel();
  const r = await t;
  trace("result", r, t.cancelled(), t.cancelling());

  const body = async () => {
    trace("body2 ran");
    return "v2";
  };
  const t2 = createTask(() => body());
  t2.cancel();
  trace("t2 uncancel", t2.uncancel());
  const r2 = await t2;
  trace("t2 result", r2, t2.cancelled());

  const loop = getRunningLoop();
  const f = loop.createFuture<number>();
  const waiter = async () => {
    const v = await f;
    trace("t3 woke", v);
    return v;
  };
  const t3 = createTask(() => waiter());
  await sleep(0);
  f.setResult(3);
  trace("t3 cancel", t3.cancel());
  trace("t3 uncancel", t3.uncancel());
  const r3 = await t3;
  trace("t3 result", r3, t3.cancelled());
}
