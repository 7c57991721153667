import { Condition, gather, Lock, sleep } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const lock = new Lock();
  const notEmpty = new Condition(lock);
  const notFull = new Condition(lock);
  const buf: number[] = [];
  const producer = async () => {
    for (let i = 0; i < 5; i++) {
      await notFull.run(async () => {
        await notFull.waitFor(() => buf.length < 2);
        buf.push(i);
        trace("put", i, "size", buf.length);
        notEmpty.notify();
      });
      await sleep(1);
    }
  };
  const consumer = async () => {
    const got: number[] = [];
    for (let k = 0; k < 5; k++) {
      await notEmpty.run(async () => {
        const v = await notEmpty.waitFor(() => buf.length > 0 && buf[0] + 100);
        const item = buf.shift() as number;
        got.push(item);
        trace("got", item, "predicate value", v === false ? "False" : v);
        notFull.notify();
      });
      await sleep(3);
    }
    return got;
  };
  const [, got] = await gather([producer, consumer]);
  trace("consumer got", `[${got.join(", ")}]`);
}
