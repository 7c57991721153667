/**
 * Issue 12, part 6: cancellation and deadlines around `child_process`, with a child that sleeps.
 * With the task's signal or `cancellable((signal) => …)`, cancelling the task or its timeout kills
 * the child (SIGTERM, Node's default killSignal) and its pid is gone; with neither, the child runs
 * to its own end and the cancel / TimeoutError arrives then.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { CancelledError, cancellable, createTask, currentTask, run, sleep, timeout, TimeoutError } from "../src/index.js";
import { pidAlive, since, until, watchProcess } from "./fixtures/foreign/helpers.js";

const execFileP = promisify(execFile);
const watch = watchProcess();
const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });

/** Node arguments for a child that sleeps `ms` and exits 0. */
const sleeper = (ms: number): string[] => ["-e", `setTimeout(() => {}, ${ms})`];

/** How a child ended, recorded from its 'exit' event (registered at spawn, so never missed). */
interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}
const children: { child: ChildProcess; ended: Promise<Ended> }[] = [];
function track(child: ChildProcess): ChildProcess {
  const ended = new Promise<Ended>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  children.push({ child, ended });
  return child;
}
/** The child was killed by the abort: SIGTERM sent by Node, the process reaped, the pid gone. */
async function assertKilled(child: ChildProcess): Promise<void> {
  const entry = children.find((c) => c.child === child)!;
  const ended = await entry.ended;
  assert.equal(child.killed, true, "child.killed");
  assert.deepEqual(ended, { code: null, signal: "SIGTERM" });
  assert.equal(pidAlive(child.pid!), false, `pid ${child.pid} is gone`);
}
/** Spawns a 30 s sleeper with the signal; resolves with its exit, rejects on 'error' (the abort). */
function spawnAndWait(signal: AbortSignal | undefined, ms = 30_000): { child: ChildProcess; done: Promise<Ended> } {
  const child = track(spawn(process.execPath, sleeper(ms), { signal, stdio: "ignore" }));
  const done = new Promise<Ended>((resolve, reject) => {
    child.on("exit", (code, sig) => resolve({ code, signal: sig }));
    child.on("error", reject);
  });
  return { child, done };
}

test("child_process with the task's signal: cancel() and timeout() kill a sleeping child at once", async () => {
  await inLoop(async () => {
    // spawn(..., { signal }) awaited through its exit/error events; cancel() from outside
    let child: ChildProcess | undefined;
    const t = createTask(async () => {
      const s = spawnAndWait(currentTask()!.signal);
      child = s.child;
      return s.done;
    });
    await sleep(100); // the child is running
    assert.ok(child !== undefined && pidAlive(child.pid!));
    const t0 = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError); // spawn's AbortError from the task's own signal
    assert.ok(since(t0) < 1000, `cancelled ${since(t0).toFixed(0)} ms after cancel()`);
    await assertKilled(child);

    // promisify(execFile)(..., { signal }) under timeout()
    let c2: ChildProcess | undefined;
    const t1 = performance.now();
    await assert.rejects(
      timeout(300, () => {
        const p = execFileP(process.execPath, sleeper(30_000), { signal: currentTask()!.signal });
        c2 = track(p.child);
        return p;
      }),
      TimeoutError,
    );
    const ms = since(t1);
    assert.ok(ms >= 280 && ms < 2000, `TimeoutError after ${ms.toFixed(0)} ms (deadline 300)`);
    await assertKilled(c2!);
  });
  await watch.check();
});

test("child_process with cancellable: the function form's signal kills the child on timeout() and cancel()", async () => {
  await inLoop(async () => {
    let child: ChildProcess | undefined;
    const t0 = performance.now();
    await assert.rejects(
      timeout(300, () =>
        cancellable((signal) => {
          const p = execFileP(process.execPath, sleeper(30_000), { signal });
          child = track(p.child);
          return p;
        }),
      ),
      TimeoutError,
    );
    const ms = since(t0);
    assert.ok(ms >= 280 && ms < 2000, `TimeoutError after ${ms.toFixed(0)} ms (deadline 300)`);
    await assertKilled(child!);

    let c2: ChildProcess | undefined;
    const t = createTask(() =>
      cancellable((signal) => {
        const s = spawnAndWait(signal);
        c2 = s.child;
        return s.done;
      }),
    );
    await sleep(100);
    const t1 = performance.now();
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.ok(since(t1) < 1000, `cancelled ${since(t1).toFixed(0)} ms after cancel()`);
    await assertKilled(c2!);
  });
  await watch.check();
});

test("child_process with neither: the child runs to its end (1.5 s), then TimeoutError / CancelledError arrive", async () => {
  await inLoop(async () => {
    let child: ChildProcess | undefined;
    const t0 = performance.now();
    await assert.rejects(
      timeout(300, () => {
        const p = execFileP(process.execPath, sleeper(1500));
        child = track(p.child);
        return p;
      }),
      TimeoutError,
    );
    const ms = since(t0);
    assert.ok(ms >= 1400, `TimeoutError only when the child exited: after ${ms.toFixed(0)} ms`);
    assert.equal(child!.killed, false, "nothing killed the child");
    assert.equal(child!.exitCode, 0, "it ran to its own end");

    const steps: string[] = [];
    let c2: ChildProcess | undefined;
    const t = createTask(async () => {
      const s = spawnAndWait(undefined, 1500);
      c2 = s.child;
      const ended = await s.done;
      steps.push(`exited ${ended.code}`);
      await sleep(0); // the pending cancel is raised here, at the first tsaio call
      steps.push("after sleep(0)");
    });
    await sleep(100);
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.deepEqual(steps, ["exited 0"]);
    assert.equal(c2!.killed, false);
  });
  // Every child of this file has exited by now (none left behind).
  await until(() => children.every((c) => c.child.exitCode !== null || c.child.signalCode !== null), 5000, "all children exited");
  await watch.check();
});
