/**
 * Debug-mode bookkeeping and tracing hooks, kept out of the hot paths: every call site checks one
 * boolean (`loop._debug`) or `channel.hasSubscribers` first, so none of this costs anything when off.
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
 * @module
 */
import dc from "node:diagnostics_channel";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Future } from "./futures.js";
import type { Loop } from "./loop.js";

/** The diagnostics channels tsaio publishes to (see the module comment for the messages). */
export const channels = {
  taskCreated: dc.channel("tsaio:task:created"),
  taskStarted: dc.channel("tsaio:task:started"),
  taskCancel: dc.channel("tsaio:task:cancel"),
  taskFinished: dc.channel("tsaio:task:finished"),
  slow: dc.channel("tsaio:slow"),
  executorSubmitted: dc.channel("tsaio:executor:submitted"),
  executorDone: dc.channel("tsaio:executor:done"),
} as const;

/** Where a Future/Task was created (debug mode only). */
const createdAt = new WeakMap<object, string>();

interface PendingReport {
  loop: Loop;
  what: string;
  stack: string;
}

// A pending future that becomes garbage means someone dropped work on the floor: report it.
const pendingCollected = new FinalizationRegistry<PendingReport>((r) => {
  if (r.loop.isClosed()) return;
  r.loop.callExceptionHandler({ message: `${r.what} was garbage-collected while pending`, createdAt: r.stack });
});

// tsaio's own code (src/ and dist/, which source maps may show as src/): noise in a user-facing stack.
const pkgRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const ownDirs = [join(pkgRoot, "src") + sep, join(pkgRoot, "dist") + sep];

/** The caller's stack without tsaio's own frames and Node's internals. */
export function callerStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  return stack
    .split("\n")
    .slice(1)
    .filter((l) => !ownDirs.some((d) => l.includes(d)) && !l.includes("node:internal"))
    .join("\n");
}

/** Debug mode: remember where `fut` was created and watch for it being collected while pending. */
export function trackCreation(fut: Future<unknown>, what: string): void {
  const stack = callerStack();
  createdAt.set(fut, stack);
  pendingCollected.register(fut, { loop: fut._loop, what, stack }, fut);
}

/** Debug mode: `fut` is done, so being collected is fine now. */
export function untrack(fut: Future<unknown>): void {
  pendingCollected.unregister(fut);
}

/** Where `fut` was created, if debug mode was on then. */
export function creationStackOf(fut: Future<unknown>): string | undefined {
  return createdAt.get(fut);
}

/** Every open loop of the process (weakly held), for introspection. */
const loops = new Set<WeakRef<Loop>>();

/** @internal Called by the Loop constructor. */
export function registerLoop(loop: Loop): WeakRef<Loop> {
  const ref = new WeakRef(loop);
  loops.add(ref);
  return ref;
}

/** @internal Called by `loop.close()`. */
export function unregisterLoop(ref: WeakRef<Loop>): void {
  loops.delete(ref);
}

/** The open loops of this process. */
export function liveLoops(): Loop[] {
  const out: Loop[] = [];
  for (const r of loops) {
    const l = r.deref();
    if (l === undefined || l.isClosed()) loops.delete(r);
    else out.push(l);
  }
  return out;
}
