import { asCompleted, createTask, sleep, wait, type Future } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const a = createTask(() => sleep(50, "a"));
  const b = createTask(() => sleep(60, "b"));
  const waiter = async () => {
    try {
      await wait([a, b]);
    } catch (e) {
      trace("wait cancelled");
      throw e;
    }
  };
  const w = createTask(() => waiter());
  await sleep(10);
  w.cancel();
  try {
    await w;
  } catch {
    trace("waiter cancelled", "a", a.cancelled(), "b", b.cancelled());
  }
  const iterating = async () => {
    for await (const f of asCompleted<string>([a, b])) {
      trace("got", await (f as unknown as Future<string>));
    }
  };
  const it = createTask(() => iterating());
  await sleep(45);
  it.cancel();
  try {
    await it;
  } catch {
    trace("iterator task cancelled", "a", a.cancelled(), "b", b.cancelled());
  }
  trace("results", await a, await b);
}
