import { createTask, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  let ran = 0;
  const body = async () => {
    ran++;
    try {
      await sleep(10);
    } finally {
      trace("finally ran");
    }
  };
  const t = createTask(() => body());
  trace("cancel", t.cancel(), "cancelling", t.cancelling());
  try {
    await t;
    trace("not reached");
  } catch {
    trace("awaited raised CancelledError");
  }
  trace("ran", ran, "cancelled", t.cancelled());
}
