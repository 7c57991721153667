import { createTask, gather, getRunningLoop, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class KeyError extends Error {
  override name = "KeyError";
}

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const ok = async () => {
    await sleep(10);
    return 1;
  };
  const fail = async () => {
    await sleep(20);
    throw new KeyError("k");
  };
  const tc = createTask(() => sleep(1000));
  loop.callLater(5, () => tc.cancel());
  const r = await gather([() => ok(), () => fail(), tc], { returnExceptions: true });
  trace("results", r.map((x) => (x instanceof Error ? x.name : String(x))).join(","));
}
