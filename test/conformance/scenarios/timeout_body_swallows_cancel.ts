import { currentTask, sleep, timeout, type Timeout } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const me = currentTask()!;
  let cm!: Timeout;
  await timeout(10, async (scope) => {
    cm = scope;
    try {
      await sleep(1000);
    } catch {
      trace("body swallowed", me.cancelling());
    }
    await sleep(10);
    trace("body continues");
  });
  trace("no TimeoutError", "expired", cm.expired(), "cancelling", me.cancelling());
}
