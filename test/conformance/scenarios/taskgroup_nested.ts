import { currentTask, sleep, taskGroup, type ExceptionGroup, type Task } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

const names = (eg: unknown) => (eg as ExceptionGroup).exceptions.map((x) => (x as Error).name).join(",");

export async function main(trace: Trace): Promise<void> {
  const fail = async () => {
    await sleep(10);
    throw new ValueError("v");
  };
  const sleeper = async (name: string) => {
    try {
      await sleep(1000);
    } catch (e) {
      trace(name, "cancelled");
      throw e;
    }
  };
  const innerGroup = async () => {
    await taskGroup(async (inner) => {
      void inner.createTask(() => fail());
      void inner.createTask(() => sleeper("inner sibling"));
    });
  };
  try {
    await taskGroup(async (outer) => {
      void outer.createTask(() => sleeper("outer sibling"));
      void outer.createTask(() => innerGroup());
    });
  } catch (e) {
    trace("outer", (e as Error).name, names(e));
    trace("nested", names((e as ExceptionGroup).exceptions[0]));
  }

  try {
    await taskGroup(async (outer) => {
      void outer.createTask(() => sleeper("outer child"));
      await taskGroup(async (inner) => {
        void inner.createTask(() => fail());
      });
      trace("not reached");
    });
  } catch (e) {
    trace("outer2", names(e));
    trace("nested2", names((e as ExceptionGroup).exceptions[0]), currentTask()!.cancelling());
  }

  let t1!: Task<string>;
  let t2!: Task<string>;
  await taskGroup(async (outer) => {
    t1 = outer.createTask(() => sleep(10, "a"));
    await taskGroup(async (inner) => {
      t2 = inner.createTask(() => sleep(20, "b"));
    });
    trace("inner exited", t1.done(), t2.result());
  });
  trace("ok", t1.result(), t2.result());
}
