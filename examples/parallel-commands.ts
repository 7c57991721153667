/**
 * Runs shell commands in parallel, a few at a time, each under a deadline, with their output
 * prefixed by their number, then prints a summary.
 *
 *   npx tsx examples/parallel-commands.ts [--jobs 4] [--timeout 60000] "make -C a" "make -C b" ...
 *   (without commands: one command per line on stdin)
 *
 * What tsaio does for it: `createSubprocessShell` with `killProcessGroup`, so a command that times
 * out — or every command, on Ctrl-C — is stopped with everything it started (SIGTERM, then SIGKILL
 * after a grace period); task groups and a `Semaphore` bound the concurrency and wait for every
 * command to be stopped before the summary; `loop.addSignalHandler("SIGINT")` takes Ctrl-C over
 * from run() to print that summary (a second Ctrl-C quits at once). Exit code: 0 if every command
 * succeeded, 1 otherwise, 130 when interrupted.
 */
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  CancelledError,
  createSubprocessShell,
  currentTask,
  getRunningLoop,
  PIPE,
  run,
  Semaphore,
  type StreamReader,
  taskGroup,
  timeout,
  TimeoutError,
} from "../src/index.js";

/** What became of one command. */
export interface CommandResult {
  index: number;
  command: string;
  status: "waiting" | "running" | "ok" | "failed" | "timed out" | "interrupted";
  /** The exit status (`-N`: ended by signal N), null if it never ran or is still running. */
  returncode: number | null;
  ms: number;
}

/** Options of {@link runCommands}. */
export interface RunOptions {
  /** How many commands run at once. Default 4. */
  jobs?: number;
  /** Each command's deadline in ms (null: none). Default 60 000. */
  timeout?: number | null;
  /** How long a stopped command gets between SIGTERM and SIGKILL, in ms. Default 2 000. */
  gracePeriod?: number;
  /** Receives each output line (`stream` 2 for stderr). Default: printed with a `[n] ` prefix. */
  onLine?: (index: number, stream: 1 | 2, line: string) => void;
}

/** The results to fill in, one per command, all `waiting`. */
export function plan(commands: readonly string[]): CommandResult[] {
  return commands.map((command, i) => ({ index: i + 1, command, status: "waiting", returncode: null, ms: 0 }));
}

/**
 * Runs the commands of `results` (from {@link plan}) and fills the results in as they end. If the
 * calling task is cancelled, every command still running is stopped and marked `interrupted` before
 * the `CancelledError` propagates, so the results are complete either way.
 * @example
 * ```ts
 * import { run } from "tsaio";
 * import { plan, runCommands } from "./examples/parallel-commands.js";
 * const results = plan(["echo one", "sleep 5", "exit 3"]);
 * await run(() => runCommands(results, { jobs: 2, timeout: 1_000 }));
 * console.log(results.map((r) => r.status)); // [ 'ok', 'timed out', 'failed' ]
 * ```
 */
export async function runCommands(results: CommandResult[], options: RunOptions = {}): Promise<void> {
  const jobs = new Semaphore(options.jobs ?? 4);
  const deadline = options.timeout === undefined ? 60_000 : options.timeout;
  const onLine = options.onLine ?? ((i, stream, line) => (stream === 1 ? process.stdout : process.stderr).write(`[${i}] ${line}\n`));

  async function pump(reader: StreamReader, index: number, stream: 1 | 2): Promise<void> {
    for await (const line of reader) onLine(index, stream, line.toString().replace(/\r?\n$/, ""));
  }

  async function runOne(r: CommandResult): Promise<void> {
    r.status = "running";
    const t0 = performance.now();
    const proc = await createSubprocessShell(r.command, { stdout: PIPE, stderr: PIPE, killProcessGroup: true, gracePeriod: options.gracePeriod ?? 2_000 });
    try {
      // A cancelled wait() stops the command's process group and waits for it, and the task group
      // waits for the pumps: nothing outlives the command's task (a gather() would raise as soon as
      // its first child is cancelled, as asyncio's does).
      await timeout(deadline, () =>
        taskGroup(async (tg) => {
          void tg.createTask(() => pump(proc.stdout!, r.index, 1));
          void tg.createTask(() => pump(proc.stderr!, r.index, 2));
          await proc.wait();
        }),
      );
      r.status = proc.returncode === 0 ? "ok" : "failed";
    } catch (e) {
      if (e instanceof TimeoutError) r.status = "timed out";
      else {
        if (e instanceof CancelledError) r.status = "interrupted";
        throw e;
      }
    } finally {
      r.returncode = proc.returncode;
      r.ms = performance.now() - t0;
    }
  }

  await taskGroup(async (tg) => {
    for (const r of results) void tg.createTask(() => jobs.run(() => runOne(r)), { name: `command ${r.index}` });
  });
}

/** The summary table. */
export function summary(results: readonly CommandResult[]): string {
  const lines = results.map(
    (r) => `${String(r.index).padStart(3)}  ${r.status.padEnd(11)} ${r.returncode === null ? "    " : String(r.returncode).padStart(4)} ${(r.ms / 1000).toFixed(2).padStart(7)} s  ${r.command}`,
  );
  const count = (s: CommandResult["status"]): number => results.filter((r) => r.status === s).length;
  lines.push(`${count("ok")} ok, ${count("failed")} failed, ${count("timed out")} timed out, ${count("interrupted")} interrupted, ${count("waiting")} not started`);
  return lines.join("\n");
}

// ----------------------------------------------------------------------------------- main

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { jobs: { type: "string", default: "4" }, timeout: { type: "string", default: "60000" } },
  });
  let commands = positionals;
  if (commands.length === 0) {
    commands = [];
    for await (const line of createInterface({ input: process.stdin })) if (line.trim() !== "") commands.push(line);
  }
  const results = plan(commands);
  await run(async () => {
    const loop = getRunningLoop();
    const main = currentTask()!;
    let interrupted = false;
    // Ctrl-C is ours while this handler is installed (run() leaves SIGINT to it).
    loop.addSignalHandler("SIGINT", () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      process.stderr.write("\ninterrupted: stopping the commands (Ctrl-C again to quit at once)\n");
      main.cancel();
    });
    try {
      await runCommands(results, { jobs: Number(values.jobs), timeout: Number(values.timeout) });
    } catch (e) {
      if (!(e instanceof CancelledError && interrupted)) throw e;
    } finally {
      loop.removeSignalHandler("SIGINT");
      console.log(summary(results));
    }
    process.exitCode = interrupted ? 130 : results.every((r) => r.status === "ok") ? 0 : 1;
  });
}
