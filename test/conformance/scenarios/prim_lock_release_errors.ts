import { createTask, InvalidStateError, Lock } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const lock = new Lock();
  try {
    lock.release();
  } catch (e) {
    if (e instanceof InvalidStateError) trace("release of unlocked lock refused");
  }
  await lock.acquire();
  await createTask(async () => {
    lock.release();
    trace("released by another task, locked", lock.locked());
  });
  await lock.acquire();
  trace("still usable, locked", lock.locked());
  lock.release();
}
