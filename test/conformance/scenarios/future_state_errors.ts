import { currentTask, getRunningLoop } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class KeyError extends Error {
  override name = "KeyError";
}

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const f = loop.createFuture<number>();
  try {
    f.result();
  } catch (e) {
    trace("pending result", (e as Error).name);
  }
  try {
    f.exception();
  } catch (e) {
    trace("pending exception", (e as Error).name);
  }
  f.setResult(1);
  trace("done", f.done(), "exception is None", f.exception() === null, "result", f.result());
  try {
    f.setResult(2);
  } catch (e) {
    trace("second set_result", (e as Error).name);
  }
  trace("cancel done future", f.cancel());
  const g = loop.createFuture<number>();
  g.setException(new KeyError("k"));
  trace("failed", (g.exception() as Error).name);
  try {
    g.result();
  } catch (e) {
    if ((e as Error).name === "KeyError") trace("result raised KeyError");
  }
  const h = loop.createFuture<number>();
  trace("cancel", h.cancel("why"), h.cancelled(), h.done());
  try {
    h.result();
  } catch (e) {
    trace("cancelled result", "msg=" + (e as Error).message);
  }
  try {
    h.exception();
  } catch (e) {
    trace("cancelled exception", "msg=" + (e as Error).message);
  }
  try {
    await h;
  } catch (e) {
    trace("await cancelled future", "msg=" + (e as Error).message, currentTask()!.cancelling());
  }
}
