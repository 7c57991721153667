import { currentTask, getRunningLoop, sleep, taskGroup, type ExceptionGroup } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}
class KeyError extends Error {
  override name = "KeyError";
}

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const me = currentTask()!;
  const gate = loop.createFuture<null>();
  loop.callLater(10, () => gate.setResult(null));
  const fail = async (exc: Error) => {
    await gate;
    trace("raising", exc.name);
    throw exc;
  };
  const sibling = async () => {
    try {
      await sleep(1000);
    } catch (e) {
      trace("sibling cancelled");
      throw e;
    }
  };
  try {
    await taskGroup(async (tg) => {
      void tg.createTask(() => fail(new ValueError("v")));
      void tg.createTask(() => fail(new KeyError("k")));
      void tg.createTask(() => sibling());
      try {
        await sleep(1000);
      } catch (e) {
        trace("body cancelled", me.cancelling());
        throw e;
      }
    });
  } catch (e) {
    const eg = e as ExceptionGroup;
    trace(eg.name, eg.exceptions.map((x) => (x as Error).name).join(","), "cancelling", me.cancelling());
  }
  await sleep(10);
  trace("main continues");
}
