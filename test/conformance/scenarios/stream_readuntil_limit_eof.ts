import { getRunningLoop, IncompleteReadError, LimitOverrunError, StreamReader } from "../../../src/index.js";
import type { Trace } from "../harness.js";

const show = (b: Buffer): string => b.toString().replace(/\n/g, "\\n").replace(/\r/g, "\\r");
/** Bad argument values: asyncio's ValueError is tsaio's RangeError. */
const pyName = (e: unknown): string => ((e as Error).name === "RangeError" ? "ValueError" : (e as Error).name);

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const r = new StreamReader({ limit: 3 });
  r.feedData("some dataAA");
  try {
    await r.readuntil("AAA");
  } catch (e) {
    if (e instanceof LimitOverrunError) trace("readuntil", e.name, e.consumed, e.message);
  }
  r.feedData("A");
  try {
    await r.readuntil("AAA");
  } catch (e) {
    if (e instanceof LimitOverrunError) trace("readuntil", e.name, e.consumed, e.message);
  }
  trace("the data stayed", show(await r.read(12)));
  const r2 = new StreamReader();
  loop.callLater(10, () => r2.feedData("line 1\nli"));
  loop.callLater(20, () => r2.feedData("ne 2\r\nABCDEFG"));
  trace("multi", show(await r2.readuntil(["\r\n", "\n"])));
  trace("multi", show(await r2.readuntil(["\r\n", "\n"])));
  trace("first end wins", show(await r2.readuntil(["DEF", "BCDE"])));
  loop.callLater(10, () => r2.feedData("xAA"));
  loop.callLater(20, () => r2.feedEof());
  try {
    await r2.readuntil("AAA");
  } catch (e) {
    if (e instanceof IncompleteReadError) trace("eof", e.name, show(e.partial), e.expected ?? "None", e.message);
  }
  trace("at_eof", r2.atEof());
  for (const bad of ["", [], [""]]) {
    try {
      await r2.readuntil(bad);
    } catch (e) {
      trace("bad separator", pyName(e));
    }
  }
}
