import { getRunningLoop, LimitOverrunError, StreamReader } from "../../../src/index.js";
import type { Trace } from "../harness.js";

const show = (b: Buffer): string => b.toString().replace(/\n/g, "\\n");
/** asyncio's readline turns LimitOverrunError into ValueError; tsaio's raises LimitOverrunError. */
const pyName = (e: unknown): string => (e instanceof LimitOverrunError ? "ValueError" : (e as Error).name);

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const r = new StreamReader({ limit: 7 });
  loop.callLater(10, () => r.feedData("chunk1"));
  loop.callLater(20, () => r.feedData("chunk2\n"));
  loop.callLater(30, () => r.feedData("chunk3\n1234567\n12345678\n"));
  try {
    await r.readline();
  } catch (e) {
    trace("readline", pyName(e), (e as Error).message);
  }
  trace("next", show(await r.readline()));
  trace("exactly the limit", show(await r.readline()));
  try {
    await r.readline();
  } catch (e) {
    trace("one past the limit", pyName(e), (e as Error).message);
  }
  r.feedData("no newline yet");
  try {
    await r.readline();
  } catch (e) {
    trace("no separator", pyName(e), (e as Error).message);
  }
  trace("at_eof", r.atEof());
  loop.callLater(10, () => r.feedData("tail"));
  loop.callLater(20, () => r.feedEof());
  trace("partial", show(await r.readline()));
  trace("empty", show(await r.readline()), r.atEof());
}
