/**
 * The orphan watchdog of a process worker. When the pool's process dies without a word (SIGKILL,
 * a crash), a worker idle in its event loop sees its IPC channel close and exits; but a worker busy
 * in a synchronous job reads nothing, and would be re-parented and run on forever. So each worker
 * process starts one small thread that compares the process's parent with the pool's pid every
 * {@link CHECK_MS} ms and, once they differ, SIGKILLs its own process — from that thread, whatever
 * the main thread is doing. The thread is unref'd (it never keeps the worker alive), runs no loader
 * (`execArgv: []`), and costs a `getppid()` call per check.
 * Internal: not part of the package's public API.
 * @module
 */
import { Worker } from "node:worker_threads";

/** How often the parent is checked (ms): an orphan dies within about this long. */
const CHECK_MS = 100;

const WATCHDOG = `"use strict";
const { workerData } = require("node:worker_threads");
const check = () => {
  if (process.ppid !== workerData.parentPid) process.kill(process.pid, "SIGKILL");
};
check();
setInterval(check, workerData.everyMs);
`;

/** @internal Starts the watchdog thread of this worker process. */
export function watchParent(parentPid: number): void {
  const w = new Worker(WATCHDOG, {
    eval: true,
    execArgv: [],
    workerData: { parentPid, everyMs: CHECK_MS },
    name: "tsaio orphan watchdog",
    stdout: false,
    stderr: false,
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
  });
  w.unref();
  // A watchdog that cannot run must not take the worker down with it.
  w.on("error", () => {});
}
