import { createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const inner = async () => {
    try {
      await sleep(1000);
    } catch (e) {
      trace("inner got", "msg=" + (e as Error).message);
      throw e;
    }
  };
  const outer = async () => {
    const t = createTask(() => inner());
    try {
      await t;
    } catch (e) {
      trace("outer got", "msg=" + (e as Error).message);
      throw e;
    }
  };
  const o = createTask(() => outer());
  await sleep(10);
  o.cancel("stop now");
  try {
    await o;
  } catch (e) {
    trace("main got", "msg=" + (e as Error).message);
  }
  const g = gather([() => inner(), () => inner()]);
  await sleep(10);
  g.cancel("gather msg");
  try {
    await g;
  } catch (e) {
    trace("gather got", "msg=" + (e as Error).message);
  }
}
