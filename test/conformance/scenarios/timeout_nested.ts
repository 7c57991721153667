import { currentTask, sleep, timeout, type Timeout } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const me = currentTask()!;
  let outer!: Timeout;
  await timeout(100, async (o) => {
    outer = o;
    let inner!: Timeout;
    try {
      await timeout(10, async (i) => {
        inner = i;
        await sleep(1000);
      });
    } catch {
      trace("inner TimeoutError", inner.expired(), outer.expired(), me.cancelling());
    }
    await sleep(10);
    trace("continuing in outer");
  });
  trace("outer done", outer.expired());

  let outer2!: Timeout;
  try {
    await timeout(10, async (o) => {
      outer2 = o;
      let inner2!: Timeout;
      try {
        await timeout(100, async (i) => {
          inner2 = i;
          await sleep(1000);
        });
      } catch (e) {
        trace("inner2 saw " + (e as Error).name, inner2.expired());
        throw e;
      }
    });
  } catch (e) {
    trace("outer2 " + (e as Error).name, outer2.expired(), me.cancelling());
  }
}
