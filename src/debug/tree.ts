/**
 * Introspection: which task awaits which, and what every task waits on — `python -m asyncio pstree`
 * for tsaio.
 * @module
 */
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import { GatheringFuture, ShieldFuture } from "../combinators.js";
import { Future, WaiterFuture } from "../futures.js";
import type { Loop } from "../loop.js";
import { groupParent } from "../taskgroups.js";
import { Task } from "../tasks.js";

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

/** What `fut` is, in words, for a task waiting on it. */
export function describeWait(task: Task<unknown>): string {
  const w = task._futWaiter;
  if (w === null && task._loop._stepping === task) return "nothing: it is running now";
  if (w === null) return task._waitingOnText();
  if (w instanceof Task) return `task ${JSON.stringify(w.name)}`;
  if (w instanceof GatheringFuture) return `gather of ${w._children.length}`;
  if (w instanceof ShieldFuture) return "shield";
  if (w instanceof WaiterFuture) return inspect(w._owner);
  // A sleep's future is its own timer (tasks.ts SleepFuture): armed, it has a deadline.
  const sleepy = w as { _armed?: boolean; _when?: number };
  if (sleepy._armed === true) return `sleep (${Math.max(0, Math.round((sleepy._when as number) - w._loop.time()))} ms left)`;
  return inspect(w);
}

/**
 * The pending tasks of `loop` (default: the running loop) as a forest: a task's children are the
 * tasks it awaits, directly or through `gather`/`shield`, and the children of task groups it runs.
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
export function taskTree(loop?: Loop): TaskNode[] {
  const l = loop ?? runningLoop();
  const tasks = l._pendingTasks().filter((t) => !t.done());
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
    nodes.set(t, { task: t, name: t.name, waitingOn: describeWait(t), state: t.cancelling() > 0 ? "cancelling" : "pending", children: [] });
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
 * The task tree as indented text, like `python -m asyncio pstree`.
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
export function formatTaskTree(loop?: Loop): string {
  const lines: string[] = [];
  const walk = (nodes: TaskNode[], prefix: string): void => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      const cancel = n.state === "cancelling" ? " [cancelling]" : "";
      lines.push(`${prefix}${last ? "└── " : "├── "}(T) ${n.name}${cancel} — waiting on ${n.waitingOn}`);
      walk(n.children, prefix + (last ? "    " : "│   "));
    });
  };
  walk(taskTree(loop), "");
  return lines.length === 0 ? "(no pending tasks)" : lines.join("\n");
}
