import { createTask, sleep, type Task } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const leaf = async () => {
    try {
      await sleep(1000);
    } catch (e) {
      trace("leaf cancelled");
      throw e;
    }
  };
  const middle = async () => {
    try {
      await leaf();
    } finally {
      trace("middle finally");
    }
  };
  let inner: Task<void> | null = null;
  const outer = async () => {
    const it = createTask(() => middle());
    inner = it;
    try {
      await it;
    } catch (e) {
      trace("outer cancelled", "inner.cancelled", it.cancelled());
      throw e;
    }
  };
  const t = createTask(() => outer());
  await sleep(10);
  trace("cancel outer", t.cancel());
  try {
    await t;
  } catch {
    trace("main saw outer cancelled");
  }
  const it = inner as unknown as Task<void>;
  trace("outer", t.cancelled(), t.cancelling(), "inner", it.cancelled(), it.cancelling());
}
