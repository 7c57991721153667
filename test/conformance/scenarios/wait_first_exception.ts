import { createTask, FIRST_EXCEPTION, getRunningLoop, sleep, wait, type Future } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const boom = async () => {
    await sleep(20);
    throw new ValueError("v");
  };
  const tExc = createTask(() => boom());
  const tSleep = createTask(() => sleep(100));
  const tCan = createTask(() => sleep(1000));
  loop.callLater(10, () => tCan.cancel());
  let { done, pending } = await wait<void>([tExc, tSleep, tCan], { returnWhen: FIRST_EXCEPTION });
  trace("returned", done.size, done.has(tExc), done.has(tCan), pending.has(tSleep));
  trace("exception", (tExc.exception() as Error).name);
  const a: Future<void> = createTask(() => sleep(10));
  const b: Future<void> = createTask(() => sleep(30));
  ({ done, pending } = await wait([a, b], { returnWhen: FIRST_EXCEPTION }));
  trace("no exception", done.size, pending.size);
  await tSleep;
  trace("end");
}
