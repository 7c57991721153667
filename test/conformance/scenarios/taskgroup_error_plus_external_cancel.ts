import { createTask, currentTask, sleep, taskGroup, type ExceptionGroup, type Task } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

export async function main(trace: Trace): Promise<void> {
  const holder: { runner?: Task<void> } = {};
  const fail = async () => {
    await sleep(10);
    trace("child cancels runner and raises");
    holder.runner!.cancel();
    throw new ValueError("v");
  };
  const runner = async () => {
    const me = currentTask()!;
    try {
      await taskGroup(async (tg) => {
        void tg.createTask(() => fail());
        await sleep(1000);
      });
    } catch (e) {
      const eg = e as ExceptionGroup;
      trace("runner got", eg.name, eg.exceptions.map((x) => (x as Error).name).join(","), "cancelling", me.cancelling());
    }
    try {
      await sleep(10);
      trace("not reached");
    } catch (e) {
      trace("next await cancelled", me.cancelling());
      throw e;
    }
  };
  const r = createTask(() => runner());
  holder.runner = r;
  try {
    await r;
  } catch {
    trace("runner cancelled", r.cancelled());
  }
}
