import { currentTask, sleep, taskGroup, type ExceptionGroup } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class KeyError extends Error {
  override name = "KeyError";
}
class ZeroDivisionError extends Error {
  override name = "ZeroDivisionError";
}

export async function main(trace: Trace): Promise<void> {
  const me = currentTask()!;
  const stubborn = async () => {
    try {
      await sleep(1000);
    } catch {
      trace("child raising KeyError on cancel");
      throw new KeyError("k");
    }
  };
  const quiet = async () => {
    try {
      await sleep(1000);
    } finally {
      trace("quiet child cleanup");
    }
  };
  try {
    await taskGroup(async (tg) => {
      tg.createTask(() => stubborn());
      tg.createTask(() => quiet());
      await sleep(10);
      trace("body raising");
      throw new ZeroDivisionError("z");
    });
  } catch (e) {
    const eg = e as ExceptionGroup;
    trace(eg.name, eg.exceptions.map((x) => (x as Error).name).join(","), "cancelling", me.cancelling());
  }
}
