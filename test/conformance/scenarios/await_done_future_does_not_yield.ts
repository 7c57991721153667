import { createTask, getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const child = async () => {
    trace("child ran");
  };
  const plain = async () => 7;
  const fut = loop.createFuture<number>();
  fut.setResult(5);
  const t = createTask(() => child());
  const v = await fut;
  trace("awaited done future", v, t.done());
  const v2 = await plain();
  trace("awaited coroutine", v2, t.done());
  const v3 = await fut;
  trace("awaited again", v3, t.done());
  await sleep(0);
  trace("after sleep0", t.done());
}
