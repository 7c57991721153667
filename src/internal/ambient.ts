/**
 * Which task and which loop the running code belongs to.
 *
 * Two sources, because JS resumes code in two ways:
 * - While a loop runs one of its callbacks synchronously (a task's first step, a wake-up, a timer),
 *   the loop says so through `enterHandle`; that is exact and costs two assignments.
 * - Everywhere else (an async function resumed by the microtask queue) the ambient task comes from
 *   AsyncLocalStorage, entered once when the task starts (never per await: ALS entry is costly on
 *   Node 20 and copies a frame on Node 24).
 *
 * Layer 1 (ARCHITECTURE.md): the loop runs its handles through this module, so it names neither the
 * Loop nor the Task, only the few members it reads (`AmbientLoop`, `AmbientTask`); context.ts
 * re-exports it with the real types for the modules above the loop.
 * Internal: not part of the package's public API.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** What this module knows of a loop. */
export interface AmbientLoop {
  isClosed(): boolean;
}

/**
 * What this module knows of a task: its loop and whether it is done. tasks.ts re-exports
 * {@link ambientTask} typed as its Task (`currentTaskOrNull`); futures.ts reads it as the task
 * awaiting a future.
 */
export interface AmbientTask {
  /** @internal */
  readonly _loop: AmbientLoop;
  done(): boolean;
}

export const taskStorage = new AsyncLocalStorage<AmbientTask>();

let inHandle = false;
let handleTask: AmbientTask | null = null;
let handleLoop: AmbientLoop | null = null;

/** The task whose code is running now, or null (plain callbacks and code outside tsaio tasks). */
export function ambientTask(): AmbientTask | null {
  if (inHandle) return handleTask;
  return taskStorage.getStore() ?? null;
}

/** Saved state of {@link enterHandle}, restored by {@link leaveHandle}. */
export interface HandleState {
  inHandle: boolean;
  task: AmbientTask | null;
  loop: AmbientLoop | null;
}

export function enterHandle(loop: AmbientLoop, task: AmbientTask | null, save: HandleState): void {
  save.inHandle = inHandle;
  save.task = handleTask;
  save.loop = handleLoop;
  inHandle = true;
  handleTask = task;
  handleLoop = loop;
}

/** Marks which task a running handle belongs to (a wake-up knows its task only once it runs). */
export function setHandleTask(task: AmbientTask | null): void {
  handleTask = task;
}

export function leaveHandle(save: HandleState): void {
  inHandle = save.inHandle;
  handleTask = save.task;
  handleLoop = save.loop;
}

let defaultLoop: AmbientLoop | null = null;
let makeDefaultLoop: (() => AmbientLoop) | null = null;

/** loop.ts registers how to build the default loop (this module sits below it). */
export function registerDefaultLoopFactory(factory: () => AmbientLoop): void {
  makeDefaultLoop = factory;
}

/** The loop of the running code: a handle's loop, the ambient task's loop, else the default loop. */
export function runningLoop(): AmbientLoop {
  if (inHandle && handleLoop !== null) return handleLoop;
  const t = taskStorage.getStore();
  if (t !== undefined) return t._loop;
  if (defaultLoop === null || defaultLoop.isClosed()) {
    if (makeDefaultLoop === null) throw new Error("tsaio: loop module not initialised");
    defaultLoop = makeDefaultLoop();
  }
  return defaultLoop;
}

/**
 * Calls `hook(loop)` with each default loop as it is made (and with the current one, if any).
 * runners.ts uses it to install its process-exit reports once, when a default loop first exists,
 * so that `runningLoop()` and task creation pay nothing for them. Loop.ts must have registered its
 * factory first (it does so when it loads, and runners.ts imports it).
 */
export function onDefaultLoop(hook: (loop: AmbientLoop) => void): void {
  const make = makeDefaultLoop;
  if (make === null) throw new Error("tsaio: onDefaultLoop() before the loop module registered its factory");
  makeDefaultLoop = () => {
    const loop = make();
    hook(loop);
    return loop;
  };
  if (defaultLoop !== null && !defaultLoop.isClosed()) hook(defaultLoop);
}

/**
 * What tsaio code is running now, for `run()`'s refusal to start a loop inside a loop: the task
 * whose code this is (a loop callback running its step, or AsyncLocalStorage anywhere in its async
 * code, after a foreign await too); else the loop whose plain callback is running; else null (plain
 * code: top level, a Node callback, a test body). A task found through AsyncLocalStorage that has
 * already finished does not count: that code is a callback that outlived it (a timer it set), not
 * the task itself.
 */
export function enclosingTaskOrLoop(): AmbientTask | AmbientLoop | null {
  if (inHandle) return handleTask ?? handleLoop;
  const t = taskStorage.getStore();
  return t === undefined || t.done() ? null : t;
}

/** Runs `fn(arg)` outside any task's ambient context, so user callbacks never see a stale task. */
export function runOutsideTask<A>(fn: (arg: A) => void, arg: A): void {
  if (taskStorage.getStore() === undefined) fn(arg);
  else taskStorage.exit(fn, arg);
}
