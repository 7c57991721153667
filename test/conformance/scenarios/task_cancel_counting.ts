import { createTask, currentTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const sleeper = async () => {
    try {
      await sleep(1000);
    } catch (e) {
      trace("child caught", "msg=" + (e as Error).message, currentTask()!.cancelling());
      throw e;
    }
  };
  const t = createTask(() => sleeper());
  await sleep(10);
  trace("cancel1", t.cancel("m1"));
  trace("cancel2", t.cancel("m2"));
  trace("cancelling", t.cancelling(), "cancelled", t.cancelled(), "done", t.done());
  try {
    await t;
  } catch (e) {
    trace("awaited", "msg=" + (e as Error).message);
  }
  trace("after", t.cancelled(), t.cancelling(), t.cancel("m3"));
}
