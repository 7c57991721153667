import { gather, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const worker = async (name: string) => {
    for (let i = 0; i < 3; i++) {
      trace(name + String(i));
      await sleep(0);
    }
    return name;
  };
  const r = await gather([() => worker("A"), () => worker("B"), () => worker("C")]);
  trace("gather", r.join(","));
}
