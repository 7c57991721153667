/**
 * Introspection: which task awaits which, and what every task waits on — `python -m asyncio pstree`
 * for tsaio.
 * @module
 */
import { runningLoop } from "../context.js";
import { GatheringFuture, ShieldFuture } from "../combinators.js";
import type { Future } from "../futures.js";
import { type DescribeOptions, FULL, REDACTED, show } from "../internal/describe.js";
import type { Loop } from "../loop.js";
import { groupParent } from "../taskgroups.js";
import { pendingTasks, Task } from "../tasks.js";

/**
 * Options of {@link taskTree}, {@link formatTaskTree} and `describeWait`.
 *
 * By default the tree shows what a task waits on by its *state* — `<Queue maxsize=10 qsize=3
 * putters=1>`, `<Lock locked waiters=2>` — never by its contents (a queue's items, a future's
 * result), because the tree is meant to be printed, logged and read from outside the process
 * (`tsaio ps`/`pstree`). `util.inspect` of the objects themselves still shows contents, as
 * asyncio's `repr` does. Both come from the same describer of each object, in its redacted mode
 * here (see `internal/describe.ts`).
 */
export interface TreeOptions {
  /** Show contents too (a queue's first items, a finished future's result). Default false. */
  contents?: boolean;
}

/** The describers' mode for `options`: redacted unless `contents`. */
function describeOptions(options: TreeOptions): DescribeOptions {
  return options.contents === true ? FULL : REDACTED;
}

/** One task in the tree returned by {@link taskTree}. */
export interface TaskNode {
  /** The task itself. */
  task: Task<unknown>;
  /** Its name. */
  name: string;
  /** What it waits on: `<Lock locked waiters=2>`, `<SleepFuture pending when=1200 left=820ms>`, `task "fetch-3"`… */
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
  const o = describeOptions(options);
  const w = task._futWaiter;
  if (w === null && task._loop._stepping === task) return "nothing: it is running now";
  if (w === null) return task._waitingOnText(o); // no future: "a foreign promise", "its first step"…
  // Edges the tree draws (the awaited tasks are this node's children): named, not described again.
  if (w instanceof Task) return `task ${JSON.stringify(w.name)}`;
  if (w instanceof GatheringFuture) return `gather of ${w._children.length}`;
  if (w instanceof ShieldFuture) return "shield";
  return show(w, o); // the object's own describer: `<Lock locked waiters=2>`, a sleep's deadline…
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
 *   //     └── (T) napper — waiting on <SleepFuture pending waiters=1 when=… left=100ms>
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
