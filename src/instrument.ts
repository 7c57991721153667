/**
 * Introspection's view of the core's instrumentation (layer 8): the open loops, typed as Loops.
 * The bookkeeping itself (creation stacks, forgotten awaits, the loop registry, the diagnostics
 * channels) lives in `internal/track.ts`, below the loop, because the loop, futures and tasks feed
 * it; this module only reads it, so nothing in the core loads introspection.
 *
 * ## diagnostics_channel events
 * Subscribe with `diagnostics_channel.subscribe(name, fn)`; each message is an object:
 * | channel | message | when |
 * | --- | --- | --- |
 * | `tsaio:task:created` | `{ task }` | a Task was created |
 * | `tsaio:task:started` | `{ task }` | its first step begins |
 * | `tsaio:task:cancel` | `{ task, message }` | `task.cancel()` was requested while pending |
 * | `tsaio:task:finished` | `{ task, state }` (`"finished" \| "failed" \| "cancelled"`) | the task ended |
 * | `tsaio:slow` | `{ loop, task?, duration, stack? }` | debug mode saw a slow step or callback |
 * | `tsaio:executor:submitted` | `{ executor, job }` | a job was submitted to an executor |
 * | `tsaio:executor:done` | `{ executor, job, state }` | an executor job settled |
 * | `tsaio:executor:thread-exit` | `{ threadId }` | a ThreadPoolExecutor worker thread exited (published before its jobs are settled) |
 * | `tsaio:threading:recovered` | `{ threadId, primitive }` | a tsaio/threading Lock, RLock, Semaphore or Condition took back what dead thread `threadId` held or waited for |
 * @module
 */
import type { Loop } from "./loop.js";
import { openLoops } from "./internal/track.js";

export { channels } from "./internal/track.js";

/** The open loops of this process. */
export function liveLoops(): Loop[] {
  return openLoops() as Loop[];
}
