import { createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const stubborn = async () => {
    try {
      await sleep(1000);
    } catch {
      trace("stubborn swallowed");
      return "kept";
    }
    return "slept";
  };
  const normal = async () => {
    await sleep(1000);
  };
  const ts = createTask(() => stubborn());
  const tn = createTask(() => normal());
  const g = gather([ts, tn]);
  await sleep(10);
  trace("g.cancel", g.cancel());
  try {
    const r = await g;
    trace("gather returned", String(r));
  } catch {
    trace("gather raised CancelledError", g.cancelled());
  }
  trace("children", ts.result(), tn.cancelled());

  const ts2 = createTask(() => stubborn());
  const g2 = gather([ts2]);
  await sleep(10);
  trace("g2.cancel", g2.cancel());
  try {
    const r = await g2;
    trace("gather2 returned", r.join(","));
  } catch {
    trace("gather2 raised CancelledError");
  }
}
