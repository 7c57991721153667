import { createTask, gather, getRunningLoop, sleep, type Future } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const fut = loop.createFuture<string>();
  const waiter = async (name: string, f: Future<string>) => {
    try {
      const r = await f;
      trace(name, "got", r);
    } catch (e) {
      trace(name, "cancelled");
      throw e;
    }
  };
  const a = createTask(() => waiter("a", fut));
  const b = createTask(() => waiter("b", fut));
  await sleep(10);
  a.cancel();
  trace("fut cancelled by a's cancel", fut.cancelled());
  await gather([a, b], { returnExceptions: true });
  trace("a", a.cancelled(), "b", b.cancelled());

  const shared = createTask(() => sleep(1000, "shared"));
  const c = createTask(() => waiter("c", shared));
  const d = createTask(() => waiter("d", shared));
  await sleep(10);
  c.cancel();
  await gather([c, d], { returnExceptions: true });
  trace("shared task cancelled", shared.cancelled(), "c", c.cancelled(), "d", d.cancelled(), d.cancelling());
}
