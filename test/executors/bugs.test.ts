/**
 * The four correctness bugs of issue 13, each pinned by a test that failed before the executors
 * were rebuilt: a cancelled pipelined job that still ran, orphaned process workers, timers past
 * 2³¹−1 ms, and unchecked `resourceLimits`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ProcessPoolExecutor, ThreadPoolExecutor } from "../../src/index.js";
import { fixtures, jobs, pause, poolsShutDownAfter, until } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tsaio-bugs-"));
let nFile = 0;
const newFile = (): string => join(dir, `marks-${++nFile}.txt`);
const marks = (file: string): string => (existsSync(file) ? readFileSync(file, "utf8") : "");

const pool = poolsShutDownAfter(() => rmSync(dir, { recursive: true, force: true }));

describe("a job cancelled before it started never starts", () => {
  test("threads: a job pipelined behind a synchronous one, cancelled while it waits in the worker", async () => {
    const p = pool(new ThreadPoolExecutor({ maxWorkers: 1 }));
    await p.submit(jobs.fns.inc, 1); // the worker is ready: both jobs below go to it, b pipelined
    const file = newFile();
    const a = p.submit(jobs.fns.spinMark, file, "A", 300);
    const b = p.submit(jobs.fns.mark, file, "B");
    while (!a.running()) await pause(1);
    assert.equal(b.running(), false);
    assert.equal(b.cancel(), true);
    assert.equal(await a, "A");
    await b.stopped();
    assert.equal(await p.submit(jobs.fns.inc, 2), 3); // the worker went past b
    assert.equal(marks(file), "A");
  });

  test("threads: shutdown({ cancelFutures: true }) with jobs pipelined in the worker", async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 1 });
    await p.submit(jobs.fns.inc, 1);
    const file = newFile();
    const a = p.submit(jobs.fns.spinMark, file, "A", 300);
    const rest = ["B", "C", "D"].map((tag) => p.submit(jobs.fns.mark, file, tag));
    while (!a.running()) await pause(1);
    await p.shutdown({ cancelFutures: true });
    assert.equal(a.result(), "A");
    for (const f of rest) assert.ok(f.cancelled());
    assert.equal(marks(file), "A");
  });

  test("processes: running() is true once the job is sent (it can start at any moment)", async () => {
    const p = pool(new ProcessPoolExecutor({ maxWorkers: 1 }));
    await p.submit(jobs.fns.inc, 1);
    const file = newFile();
    const a = p.submit(jobs.fns.spinMark, file, "A", 200); // sent at once to the idle process
    const b = p.submit(jobs.fns.mark, file, "B"); // waits in the pool's queue
    assert.equal(a.running(), true);
    assert.equal(b.running(), false);
    assert.equal(b.cancel(), true);
    assert.equal(await a, "A");
    await b.stopped();
    assert.equal(await p.submit(jobs.fns.inc, 2), 3);
    assert.equal(marks(file), "A");
  });
});

/** Whether process `pid` is alive (a zombie waiting for a reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}

test("a process worker dies within a second of losing its parent, even in a synchronous loop", async (t) => {
  const child = spawn(process.execPath, ["--import", "tsx", join(fixtures, "orphan.ts")], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  let pid = 0;
  try {
    await until(() => /worker (\d+)/.test(out), 30_000, "the fixture to print its worker's pid");
    pid = Number(/worker (\d+)/.exec(out)?.[1]);
    assert.ok(alive(pid));
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const t0 = performance.now();
    while (alive(pid) && performance.now() - t0 < 5_000) await pause(10);
    const ms = performance.now() - t0;
    assert.ok(!alive(pid), "the orphaned worker is still running 5 s after its parent died");
    assert.ok(ms < 1_000, `the orphaned worker took ${ms.toFixed(0)} ms to die`);
    t.diagnostic(`the orphan died ${ms.toFixed(0)} ms after its parent`);
  } finally {
    child.kill("SIGKILL");
    if (pid !== 0 && alive(pid)) process.kill(pid, "SIGKILL");
  }
});

describe("timers of any length: Infinity never fires, long delays re-arm", () => {
  test("{ timeout: Infinity } and submitWith({ timeout: 1e10 }) do not fail a 300 ms job", async () => {
    const p = pool(new ThreadPoolExecutor({ maxWorkers: 2, timeout: Infinity }));
    const [a, b] = await Promise.all([p.submit(jobs.fns.spin, 300), p.submitWith({ timeout: 1e10 }, jobs.fns.spin, 300)]);
    assert.equal(typeof a, "number");
    assert.equal(typeof b, "number");
  });

  test("cancelGracePeriod: Infinity never kills the worker", async () => {
    const p = pool(new ThreadPoolExecutor({ maxWorkers: 1, cancelGracePeriod: Infinity }));
    await p.submit(jobs.fns.inc, 1); // the module is loaded: the job below starts at once
    const fut = p.submit(jobs.fns.spin, 60_000); // deaf to cancellation: only a kill stops it
    await until(() => fut.running(), 10_000, "the job to start");
    fut.cancel();
    let stopped = false;
    void fut.stopped().then(() => (stopped = true));
    await pause(400);
    assert.equal(stopped, false, "the worker was terminated");
    fut.cancel("now", { force: true });
    await fut.stopped();
  });

  test("idleTimeout: 1e10 keeps the worker without a timer overflow", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      const p = pool(new ThreadPoolExecutor({ maxWorkers: 1, idleTimeout: 1e10 }));
      const tid = await p.submit(jobs.fns.threadId);
      await pause(200);
      assert.equal(await p.submit(jobs.fns.threadId), tid);
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings.filter((w) => w.startsWith("TimeoutOverflowWarning")), []);
  });

  test("map({ timeout: 1e10 }) yields every result", async () => {
    const p = pool(new ThreadPoolExecutor({ maxWorkers: 1 }));
    const out: number[] = [];
    for await (const v of p.map(jobs.fns.asyncSquare, [1, 2, 3], { timeout: 1e10 })) out.push(v);
    assert.deepEqual(out, [1, 4, 9]);
  });
});

describe("resourceLimits are checked, with messages naming the field", () => {
  test("a stack too small to start a thread (it would kill the whole process)", () => {
    assert.throws(() => new ThreadPoolExecutor({ resourceLimits: { stackSizeMb: 0.001 } }), (e: unknown) => e instanceof RangeError && /`resourceLimits\.stackSizeMb`/.test(e.message));
  });

  test("values that are not positive numbers", () => {
    assert.throws(
      () => new ProcessPoolExecutor({ resourceLimits: { maxOldGenerationSizeMb: "abc" as unknown as number } }),
      (e: unknown) => e instanceof TypeError && /`resourceLimits\.maxOldGenerationSizeMb` must be a number/.test(e.message),
    );
    for (const bad of [0, -1, NaN, Infinity]) {
      assert.throws(() => new ThreadPoolExecutor({ resourceLimits: { maxYoungGenerationSizeMb: bad } }), (e: unknown) => e instanceof RangeError && /maxYoungGenerationSizeMb/.test(e.message), String(bad));
    }
  });

  test("an unknown field (a typo would otherwise limit nothing)", () => {
    assert.throws(
      () => new ThreadPoolExecutor({ resourceLimits: { maxOldSpaceSizeMb: 64 } as unknown as { maxOldGenerationSizeMb: number } }),
      (e: unknown) => e instanceof TypeError && /resourceLimits\.maxOldSpaceSizeMb/.test(e.message),
    );
  });

  test("valid limits still work", async () => {
    const p = pool(new ThreadPoolExecutor({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 4 } }));
    assert.equal(await p.submit(jobs.fns.inc, 1), 2);
  });
});
