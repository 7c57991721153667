import { gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const job = async (name: string, delay: number) => {
    await sleep(delay);
    trace(name, "done");
    return name;
  };
  const r = await gather([() => job("a", 30), () => job("b", 10), () => job("c", 20)]);
  trace("gather", r.join(","));
}
