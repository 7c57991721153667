import { createTask, FIRST_COMPLETED, sleep, wait } from "../../../src/index.js";
import type { Trace } from "../harness.js";

export async function main(trace: Trace): Promise<void> {
  const fast = createTask(() => sleep(10, "fast"));
  const slow = createTask(() => sleep(50, "slow"));
  let { done, pending } = await wait(new Set([fast, slow]), { returnWhen: FIRST_COMPLETED });
  trace("first completed", done.size, done.has(fast), pending.size, pending.has(slow));
  ({ done, pending } = await wait(new Set([slow]), { timeout: 10 }));
  trace("timeout", done.size, pending.size, "slow cancelled", slow.cancelled(), "slow done", slow.done());
  const a = createTask(() => sleep(10, "a"));
  const b = createTask(() => sleep(10, "b"));
  const c = createTask(() => sleep(50, "c"));
  ({ done, pending } = await wait([a, b, c], { returnWhen: FIRST_COMPLETED }));
  trace("same iteration", done.size, done.has(a), done.has(b), pending.size);
  const r = await slow;
  trace("slow", r);
  ({ done, pending } = await wait([c]));
  trace("all", done.size, pending.size);
}
