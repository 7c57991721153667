import { createTask, currentTask } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const selfish = async () => {
    const me = currentTask()!;
    try {
      await me;
      trace("not reached");
    } catch {
      trace("refused");
    }
    return "survived";
  };
  const t = createTask(() => selfish());
  const r = await t;
  trace("result", r);
}
