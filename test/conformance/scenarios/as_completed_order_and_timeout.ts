import { asCompleted, createTask, sleep, type Future } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const d = async (ms: number) => {
    await sleep(ms);
    return ms;
  };
  const tasks: Future<number>[] = [30, 10, 20, 1000].map((ms) => createTask(() => d(ms)));
  try {
    for await (const f of asCompleted<number>(tasks, { timeout: 100 })) {
      // TypeScript types a `for await` variable as Awaited<Future<number>> (number), but at run time
      // asCompleted yields the Futures themselves, as asyncio 3.13's `async for` does.
      const fut = f as unknown as Future<number>;
      const r = await fut;
      trace("got", r, tasks.includes(fut));
    }
  } catch (e) {
    trace((e as Error).name);
  }
  trace("slow", "cancelled", tasks[3].cancelled(), "done", tasks[3].done());
  const r = await tasks[3];
  trace("slow result", r);
}
