import { sleep, taskGroup } from "../../../src/index.js";
import type { Trace } from "../harness.js";

class ValueError extends Error {
  override name = "ValueError";
}

export async function main(trace: Trace): Promise<void> {
  const fail = async () => {
    await sleep(10);
    throw new ValueError("v");
  };
  await taskGroup(async (tg) => {
    void tg.createTask(() => fail());
    trace("body done");
  });
}
