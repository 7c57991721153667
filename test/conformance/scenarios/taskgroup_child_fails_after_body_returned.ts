import { currentTask, sleep, taskGroup, type ExceptionGroup } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

export async function main(trace: Trace): Promise<void> {
  const me = currentTask()!;
  const fail = async () => {
    await sleep(20);
    trace("child raising");
    throw new ValueError("v");
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
      void tg.createTask(() => fail());
      void tg.createTask(() => sibling());
      await sleep(10);
      trace("body returns");
    });
  } catch (e) {
    const eg = e as ExceptionGroup;
    trace(eg.name, eg.exceptions.map((x) => (x as Error).name).join(","), "cancelling", me.cancelling());
  }
  await sleep(10);
  trace("main continues");
}
