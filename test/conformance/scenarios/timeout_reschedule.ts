import { getRunningLoop, sleep, timeout, type Timeout } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  await timeout(10, async (cm) => {
    cm.reschedule(loop.time() + 50);
    await sleep(30);
    trace("survived past original deadline", cm.expired(), Math.round(cm.when()!));
  });
  await timeout(10, async (cm) => {
    cm.reschedule(null);
    trace("when is None", cm.when() === null);
    await sleep(30);
    trace("no deadline", cm.expired());
  });
  let cm!: Timeout;
  try {
    await timeout(1000, async (scope) => {
      cm = scope;
      cm.reschedule(loop.time() - 1000);
      trace("rescheduled to past");
      await sleep(0);
      trace("not reached");
    });
  } catch (e) {
    trace((e as Error).name + " after past reschedule", cm.expired());
  }
  try {
    await timeout(10, async (scope) => {
      cm = scope;
      await sleep(5);
      cm.reschedule(loop.time() + 20);
      await sleep(1000);
    });
  } catch (e) {
    trace((e as Error).name + " at moved deadline");
  }
  try {
    cm.reschedule(loop.time() + 1000);
    trace("not refused");
  } catch {
    trace("refused after exit");
  }
}
