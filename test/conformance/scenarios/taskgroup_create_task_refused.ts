import { sleep, taskGroup, type ExceptionGroup, type TaskGroup } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

export async function main(trace: Trace): Promise<void> {
  let group!: TaskGroup;
  const noop = async () => null;
  const fail = async () => {
    await sleep(10);
    throw new ValueError("v");
  };
  const late = async () => {
    try {
      await sleep(1000);
    } catch (e) {
      try {
        void group.createTask(() => noop());
        trace("child: accepted");
      } catch {
        trace("child: refused during abort");
      }
      throw e;
    }
  };
  try {
    await taskGroup(async (tg) => {
      group = tg;
      void tg.createTask(() => fail());
      void tg.createTask(() => late());
      try {
        await sleep(1000);
      } catch (e) {
        try {
          void tg.createTask(() => noop());
          trace("body: accepted");
        } catch {
          trace("body: refused during abort");
        }
        throw e;
      }
    });
  } catch (e) {
    const eg = e as ExceptionGroup;
    trace(eg.name, eg.exceptions.map((x) => (x as Error).name).join(","));
  }
  try {
    void group.createTask(() => noop());
    trace("after exit: accepted");
  } catch {
    trace("after exit: refused");
  }
}
