import { createTask, gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

export async function main(trace: Trace): Promise<void> {
  const fail = async () => {
    await sleep(10);
    throw new ValueError("x");
  };
  const slow = async () => {
    try {
      await sleep(50);
      trace("slow finished normally");
      return "slow";
    } catch (e) {
      trace("slow cancelled");
      throw e;
    }
  };
  const ts = createTask(() => slow());
  const g = gather([() => fail(), ts]);
  try {
    await g;
  } catch (e) {
    trace("gather raised", (e as Error).name, "slow done", ts.done(), "g done", g.done());
  }
  const r = await ts;
  trace("slow result", r, ts.cancelled());
}
