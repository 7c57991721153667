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
  // CPython keeps a TaskGroup's children in a set: the order they are cancelled in is unspecified,
  // so the children only record what happened and it is traced sorted afterwards.
  const events: string[] = [];
  const stubborn = async () => {
    try {
      await sleep(1000);
    } catch {
      events.push("child raising KeyError on cancel");
      throw new KeyError("k");
    }
  };
  const quiet = async () => {
    try {
      await sleep(1000);
    } finally {
      events.push("quiet child cleanup");
    }
  };
  try {
    await taskGroup(async (tg) => {
      void tg.createTask(() => stubborn());
      void tg.createTask(() => quiet());
      await sleep(10);
      trace("body raising");
      throw new ZeroDivisionError("z");
    });
  } catch (e) {
    const eg = e as ExceptionGroup;
    trace(eg.name, eg.exceptions.map((x) => (x as Error).name).join(","), "cancelling", me.cancelling());
  }
  trace("children:", [...events].sort().join(";"));
}
