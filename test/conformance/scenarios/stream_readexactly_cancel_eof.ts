import { CancelledError, createTask, getRunningLoop, IncompleteReadError, StreamReader, timeout, TimeoutError } from "../../../src/index.js";
import type { Trace } from "../harness.js";

const show = (b: Buffer): string => b.toString();

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const r = new StreamReader({ limit: 4 });
  r.feedData("0123");
  const t = createTask(() => r.readexactly(10));
  loop.callLater(10, () => r.feedData("4567"));
  loop.callLater(20, () => t.cancel());
  try {
    await t;
  } catch (e) {
    if (e instanceof CancelledError) trace("cancelled");
  }
  r.feedData("89");
  trace("nothing lost", show(await r.readexactly(10)));
  try {
    await timeout(10, () => r.readexactly(3));
  } catch (e) {
    if (e instanceof TimeoutError) trace("timeout");
  }
  trace("zero", show(await r.readexactly(0)));
  loop.callLater(10, () => r.feedData("ab"));
  loop.callLater(20, () => r.feedEof());
  try {
    await r.readexactly(5);
  } catch (e) {
    if (e instanceof IncompleteReadError) trace("eof", e.name, show(e.partial), e.expected ?? "None", e.message);
  }
  try {
    await r.readexactly(-1);
  } catch (e) {
    // asyncio's ValueError for a bad argument value is tsaio's RangeError
    if (e instanceof RangeError) trace("negative", "ValueError");
  }
  try {
    await r.readexactly(1);
  } catch (e) {
    if (e instanceof IncompleteReadError) trace("after eof", show(e.partial), e.expected ?? "None");
  }
}
