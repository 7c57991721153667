import { createTask, getRunningLoop, sleep, StreamReader } from "../../../src/index.js";
import type { Trace } from "../harness.js";

const show = (b: Buffer): string => b.toString().replace(/\n/g, "\\n");
/** Misused state: asyncio's RuntimeError is tsaio's InvalidStateError. */
const pyName = (e: unknown): string => ((e as Error).name === "InvalidStateError" ? "RuntimeError" : (e as Error).name);

function connectionReset(message: string): Error {
  const e = new Error(message);
  e.name = "ConnectionResetError";
  return e;
}

export async function main(trace: Trace): Promise<void> {
  const loop = getRunningLoop();
  const r = new StreamReader();
  const t1 = createTask(() => r.readline());
  await sleep(0);
  try {
    await r.read(5);
  } catch (e) {
    trace("second reader", pyName(e));
  }
  loop.callLater(10, () => r.feedData("x\ny"));
  trace("t1", show(await t1));
  trace("read", show(await r.read(5)));
  const t2 = createTask(() => r.read(5));
  loop.callLater(10, () => r.setException(connectionReset("reset")));
  try {
    await t2;
  } catch (e) {
    trace("t2", (e as Error).name, (e as Error).message);
  }
  try {
    await r.readline();
  } catch (e) {
    trace("then every read", (e as Error).name);
  }
  trace("exception()", (r.exception() as Error).name);
  const r2 = new StreamReader();
  loop.callLater(10, () => r2.feedData("a\nb\n"));
  loop.callLater(20, () => r2.feedData("c"));
  loop.callLater(30, () => r2.feedEof());
  for await (const line of r2) trace("line", show(line));
  trace("done", r2.atEof());
}
