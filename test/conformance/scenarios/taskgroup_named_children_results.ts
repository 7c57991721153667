import { sleep, taskGroup, type ExceptionGroup, type Task } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class KeyError extends Error {
  override name = "KeyError";
}

export async function main(trace: Trace): Promise<void> {
  const work = async (n: number) => {
    await sleep(n * 10);
    return n * n;
  };
  let tasks: Task<number>[] = [];
  await taskGroup(async (tg) => {
    tasks = [3, 1, 2].map((n) => tg.createTask(() => work(n), { name: `worker-${n}` }));
    trace("names", tasks.map((t) => t.name).join(","));
    const first = await tasks[1];
    trace("first", first);
  });
  trace("results", tasks.map((t) => String(t.result())).join(","));

  const syncFail = async () => {
    throw new KeyError("immediate");
  };
  try {
    await taskGroup(async (tg) => {
      void tg.createTask(() => syncFail());
      trace("body before first await");
      await sleep(10);
      trace("not reached");
    });
  } catch (e) {
    trace("immediate failure", (e as ExceptionGroup).exceptions.map((x) => (x as Error).name).join(","));
  }
}
