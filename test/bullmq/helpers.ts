/**
 * Helpers of the BullMQ tests: real worker processes (`tsaio worker` through tsx) started from a copy
 * of the fixture module in another directory, and a per-test BullMQ prefix under the test's Redis prefix.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "src/cli.ts");
/** tsx by URL: the worker's cwd is elsewhere, where a bare `--import tsx` would not resolve. */
export const tsxImport = import.meta.resolve("tsx");

/**
 * The fixture module copied into a fresh temporary directory (its import of tsaio rewritten to an
 * absolute URL): the worker runs this copy, the caller only names it. Removed on `cleanup()`.
 */
export function copyFixture(): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tsaio-bullmq-worker-"));
  const src = readFileSync(new URL("./fixtures/jobs.ts", import.meta.url), "utf8").replace("../../../src/index.js", pathToFileURL(join(root, "src/index.ts")).href);
  const path = join(dir, "jobs.ts");
  writeFileSync(path, src);
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n'); // an ES module, as in the repo
  return { dir, path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with its exit code (or signal name). */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `ms` if it has not exited. */
  stop(ms?: number): Promise<number | string>;
}

/** Starts `tsaio worker <args>` (cwd: `cwd`) and resolves once it serves its queue. */
export async function startWorker(args: string[], cwd: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", tsxImport, cli, "worker", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, sig) => resolve(code ?? sig ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (out.includes("serving queue")) {
        child.stdout?.off("data", check);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    void exited.then((c) => reject(new Error(`worker exited (${c}) before serving:\n${out}`)));
  });
  return {
    child,
    pid: child.pid as number,
    output: () => out,
    exited,
    async stop(ms = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), ms);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** A BullMQ prefix under the test's Redis prefix (so the test's cleanup deletes its keys). */
export function bullPrefix(testPrefix: string): string {
  return testPrefix.replace(/:$/, "");
}

/** Polls `cond` every 20 ms until true, or throws after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
