import { createTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const child = async (i: number) => {
    trace("child start", i);
    await sleep(0);
    trace("child end", i);
    return i;
  };
  const tasks = [0, 1, 2].map((i) => createTask(() => child(i)));
  trace("created", tasks.map((t) => (t.done() ? "True" : "False")).join(","));
  await sleep(0);
  trace("main after sleep0");
  const r: number[] = [];
  for (const t of tasks) r.push(await t);
  trace("results", r.join(","));
}
