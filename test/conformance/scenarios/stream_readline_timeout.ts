import { CancelledError, createTask, getRunningLoop, sleep, StreamReader, TimeoutError, timeout, waitFor } from "../../../src/index.js";
import type { Trace } from "../harness.js";

const show = (b: Buffer): string => b.toString().replace(/\n/g, "\\n");

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const r = new StreamReader();
  r.feedData("partial ");
  try {
    await timeout(10, () => r.readline());
  } catch (e) {
    if (e instanceof TimeoutError) trace("timeout");
  }
  try {
    await waitFor(() => r.readuntil("!"), 10);
  } catch (e) {
    if (e instanceof TimeoutError) trace("wait_for timeout");
  }
  loop.callLater(10, () => r.feedData("line\nnext"));
  loop.callLater(20, () => r.feedData("!"));
  trace("line", show(await r.readline()));
  trace("until", show(await r.readuntil("!")));

  const t = createTask(() => r.readline());
  await sleep(10);
  r.feedData("arrives");
  t.cancel(); // the wake-up is queued: the cancel still wins, and the data stays
  try {
    await t;
  } catch (e) {
    if (e instanceof CancelledError) trace("cancelled after the wake-up");
  }
  r.feedData(" whole\n");
  trace("line", show(await r.readline()));
}
