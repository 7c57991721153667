import { createTask, currentTask, sleep, taskGroup, type ExceptionGroup } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

export async function main(trace: Trace): Promise<void> {
  // CPython keeps a TaskGroup's children in a set: the order they are cancelled in is unspecified,
  // so the children only record their cancellation and it is traced sorted afterwards.
  const events: string[] = [];
  const child = async (n: number) => {
    try {
      await sleep(1000);
    } catch (e) {
      events.push(`child cancelled ${n}`);
      throw e;
    }
  };
  const runner = async () => {
    try {
      await taskGroup(async (tg) => {
        void tg.createTask(() => child(1));
        void tg.createTask(() => child(2));
        await sleep(1000);
      });
    } catch (e) {
      if ((e as Error).name === "CancelledError") {
        trace("runner got CancelledError", currentTask()!.cancelling());
        throw e;
      }
      trace("runner got ExceptionGroup");
    }
  };
  const r = createTask(() => runner());
  await sleep(10);
  trace("cancel runner", r.cancel());
  try {
    await r;
  } catch {
    trace("runner cancelled", r.cancelled());
  }
  trace("children:", [...events].sort().join(";"));

  const badCleanup = async () => {
    try {
      await sleep(1000);
    } finally {
      await sleep(10);
      trace("cleanup raising ValueError");
      // eslint-disable-next-line no-unsafe-finally
      throw new ValueError("v");
    }
  };
  const runner2 = async () => {
    try {
      await taskGroup(async (tg) => {
        void tg.createTask(() => badCleanup());
        void tg.createTask(() => child(3));
        await sleep(1000);
      });
    } catch (e) {
      if ((e as Error).name === "CancelledError") {
        trace("runner2 got CancelledError");
        throw e;
      }
      const eg = e as ExceptionGroup;
      trace("runner2 got", eg.name, eg.exceptions.map((x) => (x as Error).name).join(","), currentTask()!.cancelling());
      return "eg";
    }
    return undefined;
  };
  const r2 = createTask(() => runner2());
  await sleep(10);
  r2.cancel();
  try {
    const res = await r2;
    trace("runner2 returned", String(res));
  } catch {
    trace("runner2 cancelled", r2.cancelled());
  }
  trace("children:", [...events].sort().join(";"));
}
