import { createTask, InvalidStateError, Queue, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const q = new Queue<unknown>();
  await q.join();
  trace("join on a fresh queue returns at once");
  for (let i = 0; i < 3; i++) await q.put(i);
  for (let i = 0; i < 3; i++) await q.get();
  const j = createTask(() => q.join());
  await sleep(10);
  trace("join blocked after gets without task_done:", !j.done());
  for (let i = 0; i < 3; i++) {
    q.taskDone();
    await sleep(1);
    trace("task_done", i, "join done", j.done());
  }
  try {
    q.taskDone();
  } catch (e) {
    if (e instanceof InvalidStateError) trace("fourth task_done refused");
  }
  await q.put("again");
  trace("still usable, qsize", q.qsize());
}
