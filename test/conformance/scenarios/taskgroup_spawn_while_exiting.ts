import { sleep, taskGroup, type Task, type TaskGroup } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const spawn = async (tg: TaskGroup, n: number): Promise<number> => {
    await sleep(10);
    trace("spawn", n);
    if (n < 5) void tg.createTask(() => spawn(tg, n + 1));
    return n;
  };
  let t!: Task<number>;
  await taskGroup(async (tg) => {
    t = tg.createTask(() => spawn(tg, 1));
    trace("body done");
  });
  trace("group exited", t.result());
}
