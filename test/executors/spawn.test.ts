// A worker that imports a module whose top-level code starts executors — the program's main module,
// exporting its own job — is refused on the first attempt, with an error that says what to do
// (Python's "an attempt has been made to start a new process before the current process has
// finished its bootstrapping phase"), instead of every worker starting workers of its own without
// end. Real programs run as child processes, each bounded in time.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { importJobModule, leaveJobImport } from "../../src/executors/bootstrap.js";

const here = dirname(fileURLToPath(import.meta.url));
/** Generous (a loaded machine): a child that recursed would never end by itself; one that works ends in seconds. */
const LIMIT_MS = 150_000;

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Children running at once (each starts workers that load TypeScript: CPU-heavy). */
let running = 0;
const waiting: (() => void)[] = [];

/** Runs test/executors/fixtures/<name> under tsx, killed after LIMIT_MS (code null then); at most 3 at once. */
async function runFixture(name: string, args: string[] = [], env: Record<string, string> = {}): Promise<Run> {
  while (running >= 3) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", join(here, "fixtures", name), ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env },
      });
      let stdout = "";
      let stderr = "";
      const killer = setTimeout(() => child.kill("SIGKILL"), LIMIT_MS);
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(killer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const count = (text: string, line: string): number => text.split("\n").filter((l) => l.startsWith(line)).length;

// Started together (three at a time), awaited by the tests below.
const runs = {
  thread: runFixture("spawn-main.ts", ["thread"]),
  process: runFixture("spawn-main.ts", ["process"]),
  guarded: runFixture("spawn-guarded.ts"),
  caught: runFixture("spawn-later.ts", [], { TSAIO_SPAWN_VARIANT: "caught" }),
  toThread: runFixture("spawn-later.ts", [], { TSAIO_SPAWN_VARIANT: "toThread" }),
  later: runFixture("spawn-later.ts", [], { TSAIO_SPAWN_VARIANT: "later" }),
  uncaught: runFixture("spawn-later.ts", [], { TSAIO_SPAWN_VARIANT: "uncaught" }),
};

const ERROR_HEAD = /new ThreadPoolExecutor\(\): an attempt was made to start an executor in a worker (thread|process) (while it was importing|from code started by its import of) the job module file:\/\/\S+\/spawn-(main|later)\.ts \(for its export "double"\)/;

function assertAdvice(text: string): void {
  assert.match(text, /Move the jobs into a module of their own/);
  assert.match(text, /if \(isMainThread && process\.argv\[1\] !== undefined && import\.meta\.url === pathToFileURL\(process\.argv\[1\]\)\.href\)/);
}

describe("a worker importing a main module that starts executors", () => {
  for (const kind of ["thread", "process"] as const) {
    test(`${kind} pool: the submit fails at once with the bootstrapping error; one worker started, no more`, async () => {
      const r = await runs[kind];
      assert.notEqual(r.code, null, `the program hung (killed after ${LIMIT_MS} ms)\n${r.stdout}\n${r.stderr}`);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(count(r.stdout, "evaluated as main"), 1);
      assert.equal(count(r.stdout, "evaluated in a worker"), 1, r.stdout);
      assert.equal(count(r.stdout, "result"), 0);
      assert.match(r.stderr, ERROR_HEAD);
      assert.match(r.stderr, new RegExp(`in a worker ${kind} while it was importing`));
      assert.match(r.stderr, /code: 'ERR_TSAIO_WORKER_IMPORTING_JOB'/);
      assertAdvice(r.stderr);
    });
  }

  test("the guard the error suggests works on this Node, for threads and processes", async () => {
    const r = await runs.guarded;
    assert.equal(r.code, 0, r.stderr);
    // A worker thread's output reaches stdout through the main thread: in any order.
    const lines = r.stdout.trimEnd().split("\n").sort();
    assert.deepEqual(lines, ["evaluated as main", "evaluated in a worker", "evaluated in a worker", "result 42 from a ProcessPoolExecutor", "result 42 from a ThreadPoolExecutor"]);
  });

  test("a module that catches the error still fails the import: the caller gets the error", async () => {
    const r = await runs.caught;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(count(r.stdout, "evaluated in a worker"), 1, r.stdout);
    // The worker's module caught its own error and went on; the main thread's submit failed anyway, with it.
    assert.match(r.stdout, /^caught in a worker: new ThreadPoolExecutor\(\): an attempt was made/m);
    assert.match(r.stdout, /^caught as main: new ThreadPoolExecutor\(\): an attempt was made/m);
  });

  test("toThread (the loop's default executor) is refused the same way", async () => {
    const r = await runs.toThread;
    assert.equal(r.code, 1, r.stderr);
    assert.equal(count(r.stdout, "evaluated in a worker"), 1, r.stdout);
    assert.match(r.stderr, ERROR_HEAD);
    assert.match(r.stderr, /at toThread /);
  });

  test("code the import left running (main() past a timer) is refused too; the job itself runs", async () => {
    const r = await runs.later;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(count(r.stdout, "evaluated in a worker"), 1, r.stdout);
    assert.match(r.stdout, /^main failed in a worker: new ThreadPoolExecutor\(\): an attempt was made to start an/m);
    assert.match(r.stdout, /^result 42\nresult 44$/m);
    // Left uncaught, the worker crashes with it and the job fails with a BrokenExecutorError naming it.
    const u = await runs.uncaught;
    assert.notEqual(u.code, null, "hung");
    assert.equal(count(u.stdout, "evaluated in a worker"), 1, u.stdout);
    assert.match(u.stderr, /BrokenExecutorError: worker thread #1 crashed with an uncaught Error: new ThreadPoolExecutor\(\): an attempt was made to start an executor in a worker thread from code started by its import of the job module/);
  });
});

describe("what is not refused", () => {
  test("a job that starts a pool of its own (its module starts nothing when imported)", async () => {
    const nested = workerModule<typeof import("./fixtures/nested-jobs.js")>(new URL("./fixtures/nested-jobs.js", import.meta.url));
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    assert.equal(await pool.submit(nested.fns.viaNestedPool, 41), 42);
  });

  test("on this thread: refused while a job module is imported and from code it left running; not once a job runs", async () => {
    const attempts: string[] = [];
    const attempt = (label: string): void => {
      try {
        void new ThreadPoolExecutor({ maxWorkers: 1 }).shutdown();
        attempts.push(`${label}: started`);
      } catch (e) {
        attempts.push(`${label}: ${(e as Error & { code?: string }).code ?? String(e)}`);
      }
    };
    let later: Promise<void> = Promise.resolve();
    const mod = await importJobModule("file:///virtual/main.js", "job", async () => {
      attempt("top level");
      await new Promise((r) => setTimeout(r, 1));
      attempt("after a top-level await");
      later = new Promise<void>((r) => setTimeout(r, 5)).then(() => attempt("left running"));
      return { job: 1 };
    }).catch((e: unknown) => (e as Error).message);
    // The module caught its errors (attempt() does): the import fails anyway, with the first one.
    assert.match(String(mod), /^new ThreadPoolExecutor\(\): an attempt was made to start an executor in a worker (thread|process) while it was importing the job module file:\/\/\/virtual\/main\.js \(for its export "job"\)/);
    await later;
    attempt("after the import, elsewhere");
    await new Promise<void>((resolve) => {
      void importJobModule("file:///virtual/jobs.js", "job", async () => {
        setTimeout(() => {
          leaveJobImport(); // what the worker does before each job
          attempt("in a job");
          resolve();
        }, 1);
        return {};
      });
    });
    assert.deepEqual(attempts, [
      "top level: ERR_TSAIO_WORKER_IMPORTING_JOB",
      "after a top-level await: ERR_TSAIO_WORKER_IMPORTING_JOB",
      "left running: ERR_TSAIO_WORKER_IMPORTING_JOB",
      "after the import, elsewhere: started",
      "in a job: started",
    ]);
  });
});
