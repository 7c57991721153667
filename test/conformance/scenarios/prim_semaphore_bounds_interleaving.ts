import { gather, Semaphore, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const sem = new Semaphore(2);
  const job = (i: number, ms: number) =>
    sem.run(async () => {
      trace("start", i);
      await sleep(ms);
      trace("end", i);
      return i;
    });
  const r = await gather([30, 10, 20, 10, 5].map((ms, i) => () => job(i, ms)));
  trace("results", `[${r.join(", ")}]`);
}
