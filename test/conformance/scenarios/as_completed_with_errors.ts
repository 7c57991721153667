import { asCompleted, createTask, getRunningLoop, sleep, type Future } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class KeyError extends Error {
  override name = "KeyError";
}

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const fail = async (ms: number): Promise<string> => {
    await sleep(ms);
    throw new KeyError("k");
  };
  const doneF = loop.createFuture<string>();
  doneF.setResult("pre-done");
  const tasks: Future<string>[] = [createTask(() => sleep(30, "slow")), createTask(() => fail(10)), doneF];
  for await (const f of asCompleted<string>(tasks)) {
    try {
      const r = await (f as unknown as Future<string>);
      trace("result", r);
    } catch (e) {
      trace("error " + (e as Error).name);
    }
  }
  trace("iteration over");
}
