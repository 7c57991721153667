import { sleep, timeout } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  trace("start");
  await timeout(20, async () => {
    try {
      await sleep(1000);
    } finally {
      trace("finally in timed-out body");
    }
  });
}
