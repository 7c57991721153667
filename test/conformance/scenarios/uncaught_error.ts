import { createTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

export async function main(trace: Trace): Promise<void> {
  const child = async () => {
    await sleep(10);
    throw new ValueError("bad");
  };
  const t = createTask(() => child());
  trace("about to await failing child");
  try {
    await t;
  } finally {
    trace("finally runs", t.done());
  }
}
