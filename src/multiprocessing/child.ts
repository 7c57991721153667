/**
 * The child side of {@link Process}: the module the executors' bootstrap imports in a process started
 * by `Process.start()`. It loads the target (the executors' loader: worker modules, TypeScript under
 * tsx, functions sent by source), revives the arguments' wire forms (Connections, Queues, Manager
 * proxies), runs the target in a tsaio task, prints an error as Python prints a child's traceback,
 * and exits with 0 or 1. It imports nothing of the parent's main module.
 *
 * A child never outlives its parent: the IPC channel closing (the parent exited) ends it, and a
 * watchdog thread (the process pool's) kills it if its parent dies while it runs synchronous code.
 * Internal: not part of the package's public API.
 * @module
 */
import "../loop.js"; // registers how to make the default loop the target runs on
import { inspect } from "node:util";
import { runningLoop } from "../context.js";
import { INIT_KEY } from "../executors/bootstrap.js";
import type { FnDef } from "../executors/protocol.js";
import { watchParent } from "../executors/watchdog.js";
import { explain, load, setTsx, type FnRecord } from "../executors/worker-fns.js";
import { fromProcess } from "./revive.js";

/** @internal What a Process child receives (the first IPC message; see bootstrap.ts). */
export interface ChildInit {
  kind: "process";
  entry: string;
  tsxApi: string | null;
  tsxRegistered?: boolean;
  parentPid: number;
  target: FnDef;
  /** For messages: `work (file:///…/jobs.ts)`. */
  label: string;
  args: unknown[];
  name: string;
  unbuffer?: () => void;
}

/** Ends this process once what it wrote to stdout/stderr is flushed. */
function exit(code: number): void {
  let n = 2;
  const done = (): void => {
    if (--n === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

/** Runs the target; the exit code. */
async function main(init: ChildInit): Promise<number> {
  const rec: FnRecord = { def: init.target, fn: null, error: undefined, loading: null };
  try {
    await load(rec);
    if (rec.fn === null) throw rec.error;
    const fn = rec.fn;
    const args = (await fromProcess(init.args)) as unknown[];
    await runningLoop().createTask(() => fn(...args), { name: init.name });
  } catch (e) {
    // Python prints "Process <name>:" and the traceback, and exits with 1.
    process.stderr.write(`Process ${init.name}:\n${inspect(explain(e, rec))}\n`);
    return 1;
  }
  const set = process.exitCode;
  return typeof set === "number" ? set : typeof set === "string" ? Number(set) || 0 : 0;
}

const init = (globalThis as unknown as Record<string, ChildInit>)[INIT_KEY];
init.unbuffer?.(); // nothing more comes on the channel
setTsx(init);
// The parent exited (its end of the channel closed): so does this child.
process.on("disconnect", () => process.exit(1));
watchParent(init.parentPid);
void main(init).then(exit);
