import { createTask, LifoQueue, PriorityQueue, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const pq = new PriorityQueue<[number, string]>();
  for (const item of [[3, "c"], [1, "a"], [2, "b"], [1, "aa"], [0, "z"]] as [number, string][]) pq.putNowait(item);
  const out: string[] = [];
  while (!pq.empty()) out.push(pq.getNowait()[1]);
  trace("priority order", out.join(","));
  const lq = new LifoQueue<number>();
  for (let i = 0; i < 4; i++) await lq.put(i);
  trace("lifo order", `[${[0, 1, 2, 3].map(() => lq.getNowait()).join(", ")}]`);
  const c = createTask(async () => {
    const v = await pq.get();
    trace("blocked priority getter got", `(${v[0]}, '${v[1]}')`);
  });
  await sleep(10);
  pq.putNowait([5, "late"]);
  await c;
}
