/**
 * loop.addSignalHandler / removeSignalHandler: asyncio's semantics (a loop callback per signal, one
 * handler per signal, bad input refused), the SIGINT hand-over with run(), no false DeadlockError
 * while a task waits for a signal, and no listener left behind.
 */
import assert from "node:assert/strict";
import { constants } from "node:os";
import { test } from "node:test";
import { currentTask, Event, getRunningLoop, InvalidStateError, Loop, run, sleep } from "../src/index.js";
import { runFixture } from "./fixtures/run-fixture.js";

const inLoop = <T>(fn: () => Promise<T>): Promise<T> => run(fn, { handleSigint: false });

test("a handler runs as a loop callback, with its arguments, once per signal; a second handler replaces the first", async () => {
  const listeners = process.listenerCount("SIGURG");
  await inLoop(async () => {
    const loop = getRunningLoop();
    const calls: string[] = [];
    const got = new Event();
    loop.addSignalHandler(
      "SIGURG",
      (a: string, b: number) => {
        calls.push(`first ${a} ${b} task=${currentTask() === null ? "none" : "some"}`);
        got.set();
      },
      "x",
      1,
    );
    process.kill(process.pid, "SIGURG");
    await got.wait();
    got.clear();
    loop.addSignalHandler(constants.signals.SIGURG, () => {
      calls.push("second");
      got.set();
    });
    assert.equal(process.listenerCount("SIGURG"), listeners + 1, "replaced, not added");
    process.kill(process.pid, "SIGURG");
    await got.wait();
    assert.deepEqual(calls, ["first x 1 task=none", "second"]);
    assert.equal(loop.removeSignalHandler("SIGURG"), true);
    assert.equal(loop.removeSignalHandler("SIGURG"), false);
    assert.equal(loop.removeSignalHandler("SIGWINCH"), false);
    assert.equal(process.listenerCount("SIGURG"), listeners);
  });
});

test("an error in a handler goes to the loop's exception handler; closing the loop removes its handlers", async () => {
  const listeners = process.listenerCount("SIGWINCH");
  await inLoop(async () => {
    const loop = getRunningLoop();
    const reports: string[] = [];
    const done = new Event();
    loop.setExceptionHandler((_l, ctx) => {
      reports.push(`${ctx.message}: ${(ctx.exception as Error).message}`);
      done.set();
    });
    loop.addSignalHandler("SIGWINCH", function onWinch() {
      throw new Error("handler failed");
    });
    process.kill(process.pid, "SIGWINCH");
    await done.wait();
    assert.deepEqual(reports, ["Exception in callback onWinch(): handler failed"]);
    assert.equal(process.listenerCount("SIGWINCH"), listeners + 1);
  });
  assert.equal(process.listenerCount("SIGWINCH"), listeners, "run()'s end closed the loop, which removed the handler");
  const loop = new Loop();
  loop.close();
  assert.throws(() => loop.addSignalHandler("SIGWINCH", () => {}), InvalidStateError);
});

test("a task waiting for a signal is not a deadlock: the handler keeps the process alive until it is removed", async () => {
  await inLoop(async () => {
    const loop = getRunningLoop();
    const stop = new Event();
    loop.addSignalHandler("SIGURG", () => stop.set());
    setTimeout(() => process.kill(process.pid, "SIGURG"), 100).unref(); // nothing else keeps Node busy
    await stop.wait();
    loop.removeSignalHandler("SIGURG");
  });
});

test("bad input is a TypeError/RangeError naming the argument", async () => {
  await inLoop(async () => {
    const loop = getRunningLoop();
    assert.throws(() => loop.addSignalHandler("SIGKILL", () => {}), (e: unknown) => e instanceof RangeError && /`sig` SIGKILL cannot be caught/.test((e as Error).message));
    assert.throws(() => loop.addSignalHandler("SIGSTOP", () => {}), RangeError);
    assert.throws(() => loop.addSignalHandler("SIGNOPE" as NodeJS.Signals, () => {}), (e: unknown) => e instanceof RangeError && /`sig`/.test((e as Error).message));
    assert.throws(() => loop.addSignalHandler(12345, () => {}), RangeError);
    assert.throws(() => loop.addSignalHandler(null as unknown as number, () => {}), (e: unknown) => e instanceof TypeError && /`sig`/.test((e as Error).message));
    assert.throws(() => loop.addSignalHandler("SIGURG", "cb" as unknown as () => void), (e: unknown) => e instanceof TypeError && /`callback`/.test((e as Error).message));
    assert.throws(
      () => loop.addSignalHandler("SIGURG", async () => {}),
      (e: unknown) => e instanceof TypeError && /async function/.test((e as Error).message),
    );
    assert.throws(() => loop.removeSignalHandler("SIGNOPE" as NodeJS.Signals), RangeError);
    await sleep(0);
  });
});

test("SIGINT: a handler of the loop takes Ctrl-C over from run(); removing it gives Ctrl-C back (exit 130); other signals change nothing", async () => {
  const r = await runFixture("streams/sigint-handover.ts", [], {
    onLine: (line, child) => {
      if (line === "ready1") child.kill("SIGINT");
      if (line === "ready2") {
        child.kill("SIGURG");
        setTimeout(() => child.kill("SIGINT"), 100);
      }
    },
  });
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["ready1", "handler", "main still running", "ready2", "urg", "cancelled by run()"]);
});
