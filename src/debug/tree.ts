/**
 * Introspection: which task awaits which, and what every task waits on — `python -m asyncio pstree`
 * for tsaio.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import { GatheringFuture, ShieldFuture } from "../combinators.js";
import { ExecutorFuture } from "../executors/future.js";
import { Future, PENDING, WaiterFuture } from "../futures.js";
import { Channel } from "../channel.js";
import { Waiter } from "../waiters.js";
import { CapacityLimiter, RateLimiter, RWLock, RWLockSide } from "../limiters.js";
import { Barrier, Condition, Event, Lock, Semaphore } from "../locks.js";
import type { Loop } from "../loop.js";
import { Queue } from "../queues.js";
import { groupParent, TaskGroup } from "../taskgroups.js";
import { pendingTasks, Task } from "../tasks.js";
import { Timeout } from "../timeouts.js";

/**
 * Options of {@link taskTree}, {@link formatTaskTree} and `describeWait`.
 *
 * By default the tree shows what a task waits on by its *state* — `<Queue maxsize=10 qsize=3
 * getters=0>`, `<Lock locked waiters=2>` — never by its contents (a queue's items, a future's
 * result), because the tree is meant to be printed, logged and read from outside the process
 * (`tsaio ps`/`pstree`). `util.inspect` of the objects themselves still shows contents, as
 * asyncio's `repr` does.
 */
export interface TreeOptions {
  /** Show contents too (a queue's first items, a finished future's result). Default false. */
  contents?: boolean;
}

/** tsaio objects whose `util.inspect` shows state only (sizes, counts, flags), never contents. */
const STATE_ONLY: readonly (abstract new (...args: never[]) => object)[] = [
  Lock,
  Event,
  Condition,
  Semaphore,
  Barrier,
  RWLock,
  RWLockSide,
  CapacityLimiter,
  RateLimiter,
  Channel,
  TaskGroup,
  Timeout,
];
/** The same, for classes that are not exported (stages' pumps, imap's iterator). */
const STATE_ONLY_NAMES = new Set(["Pumped", "Imap"]);
/** Futures whose pending `util.inspect` shows state only. */
const STATE_ONLY_FUTURE_INSPECT = new Set<unknown>([Future.prototype[inspect.custom], ExecutorFuture.prototype[inspect.custom]]);

/** What a task waits on (a primitive, a queue…), by state only unless `contents`. */
function describeOwner(owner: object, contents: boolean): string {
  if (contents) return inspect(owner);
  if (owner instanceof Queue) {
    const q = owner as Queue<unknown>;
    let s = `<${q.constructor.name} maxsize=${q.maxsize} qsize=${q.qsize()}`;
    if (q._getters.nIn > 0) s += ` getters=${q._getters.nIn}`;
    if (q._putters.nIn > 0) s += ` putters=${q._putters.nIn}`;
    if (q._unfinished > 0) s += ` unfinished=${q._unfinished}`;
    if (q._isShutdown) s += " shutdown";
    return s + ">";
  }
  if (STATE_ONLY.some((c) => owner instanceof c) || STATE_ONLY_NAMES.has(owner.constructor?.name)) return inspect(owner);
  return `<${owner.constructor?.name ?? "Object"}>`;
}

/** A future, by state only unless `contents` (a finished future's result is contents). */
function describeFuture(fut: Future<unknown>, contents: boolean): string {
  if (contents) return inspect(fut);
  const custom = (fut as unknown as Record<symbol, unknown>)[inspect.custom];
  if (fut._state === PENDING && STATE_ONLY_FUTURE_INSPECT.has(custom)) return inspect(fut);
  return `<${fut.constructor.name} ${fut._state === PENDING ? "pending" : fut.cancelled() ? "cancelled" : "finished"}>`;
}

/** One task in the tree returned by {@link taskTree}. */
export interface TaskNode {
  /** The task itself. */
  task: Task<unknown>;
  /** Its name. */
  name: string;
  /** What it waits on, in words: `sleep (820 ms left)`, `<Lock locked waiters=2>`, `task "fetch-3"`… */
  waitingOn: string;
  /** `"pending"`, or `"cancelling"` when a cancellation was requested. */
  state: "pending" | "cancelling";
  /** The tasks it awaits (directly, through gather/shield, or as the parent of a task group). */
  children: TaskNode[];
}

/** The tasks a future stands for, when awaiting it means awaiting them. */
function awaitedTasks(fut: Future<unknown>, seen: Set<Future<unknown>>): Task<unknown>[] {
  if (seen.has(fut)) return [];
  seen.add(fut);
  if (fut instanceof Task) return [fut];
  if (fut instanceof GatheringFuture) return (fut._children as Future<unknown>[]).flatMap((c) => awaitedTasks(c, seen));
  if (fut instanceof ShieldFuture) return awaitedTasks(fut._inner as Future<unknown>, seen);
  return [];
}

/** What `task` waits on, in words: by state only (sizes, counts), unless `options.contents`. @internal */
export function describeWait(task: Task<unknown>, options: TreeOptions = {}): string {
  const contents = options.contents === true;
  const w = task._futWaiter;
  if (w === null && task._loop._stepping === task) return "nothing: it is running now";
  if (w === null) return task._waitingOnText(); // no future: "a foreign promise", "its first step"…
  if (w instanceof Task) return `task ${JSON.stringify(w.name)}`;
  if (w instanceof GatheringFuture) return `gather of ${w._children.length}`;
  if (w instanceof ShieldFuture) return "shield";
  if (w instanceof WaiterFuture && w._state === PENDING) return describeOwner(w._owner, contents);
  if (w instanceof Waiter && w._state === PENDING) return describeOwner(w._list.owner, contents);
  // A sleep's future is its own timer (tasks.ts SleepFuture): armed, it has a deadline.
  const sleepy = w as { _armed?: boolean; _when?: number };
  if (sleepy._armed === true) return `sleep (${Math.max(0, Math.round((sleepy._when as number) - w._loop.time()))} ms left)`;
  return describeFuture(w, contents);
}

/**
 * The pending tasks of `loop` (default: the running loop) as a forest: a task's children are the
 * tasks it awaits, directly or through `gather`/`shield`, and the children of task groups it runs.
 * What each task waits on is told by state (`<Queue maxsize=10 qsize=3>`), never by contents,
 * unless `options.contents` (see {@link TreeOptions}).
 * @example
 * ```ts
 * import { run, createTask, sleep, taskTree } from "tsaio";
 * await run(async () => {
 *   const t = createTask(() => sleep(100), { name: "napper" });
 *   await sleep(0);
 *   console.log(taskTree().map((n) => n.name)); // [ 'main', 'napper' ]
 *   await t;
 * });
 * ```
 */
export function taskTree(loop?: Loop, options: TreeOptions = {}): TaskNode[] {
  const l = loop ?? runningLoop();
  const tasks = pendingTasks(l).filter((t) => !t.done());
  const parentOf = new Map<Task<unknown>, Task<unknown>>();
  for (const t of tasks) {
    if (t._futWaiter !== null) {
      for (const child of awaitedTasks(t._futWaiter, new Set())) if (child !== t && !parentOf.has(child)) parentOf.set(child, t);
    }
  }
  for (const t of tasks) {
    const gp = groupParent.get(t);
    if (gp !== undefined && !gp.done() && !parentOf.has(t)) parentOf.set(t, gp);
  }
  const nodes = new Map<Task<unknown>, TaskNode>();
  for (const t of tasks) {
    nodes.set(t, { task: t, name: t.name, waitingOn: describeWait(t, options), state: t.cancelling() > 0 ? "cancelling" : "pending", children: [] });
  }
  const roots: TaskNode[] = [];
  for (const t of tasks) {
    const node = nodes.get(t) as TaskNode;
    const p = parentOf.get(t);
    const pn = p === undefined ? undefined : nodes.get(p);
    // A cycle (tasks awaiting each other: a deadlock) must still show every task once.
    if (pn === undefined || isAncestor(node, pn, parentOf, nodes)) roots.push(node);
    else pn.children.push(node);
  }
  return roots;
}

function isAncestor(node: TaskNode, of: TaskNode, parentOf: Map<Task<unknown>, Task<unknown>>, nodes: Map<Task<unknown>, TaskNode>): boolean {
  const seen = new Set<Task<unknown>>();
  for (let p: Task<unknown> | undefined = of.task; p !== undefined && !seen.has(p); p = parentOf.get(p)) {
    if (p === node.task) return true;
    seen.add(p);
    if (!nodes.has(p)) break;
  }
  return false;
}

/**
 * The task tree as indented text, like `python -m asyncio pstree`; by state, not contents, unless
 * `options.contents` (see {@link TreeOptions}).
 * @example
 * ```ts
 * import { run, createTask, sleep, formatTaskTree } from "tsaio";
 * await run(async () => {
 *   const t = createTask(() => sleep(100), { name: "napper" });
 *   await sleep(0);
 *   console.log(formatTaskTree());
 *   // └── (T) main — waiting on task "napper"
 *   //     └── (T) napper — waiting on sleep (100 ms left)
 *   await t;
 * });
 * ```
 */
export function formatTaskTree(loop?: Loop, options: TreeOptions = {}): string {
  const lines: string[] = [];
  const walk = (nodes: TaskNode[], prefix: string): void => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      const cancel = n.state === "cancelling" ? " [cancelling]" : "";
      lines.push(`${prefix}${last ? "└── " : "├── "}(T) ${n.name}${cancel} — waiting on ${n.waitingOn}`);
      walk(n.children, prefix + (last ? "    " : "│   "));
    });
  };
  walk(taskTree(loop, options), "");
  return lines.length === 0 ? "(no pending tasks)" : lines.join("\n");
}
