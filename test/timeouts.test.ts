import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, createTask, currentTask, getRunningLoop, sleep, timeout, timeoutAt, TimeoutError, type Timeout } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

test("timeout: expiry cancels the body's await and becomes TimeoutError; cancelling() returns to 0", async () => {
  await runVirtual(async () => {
    let scope: Timeout | undefined;
    await assert.rejects(
      timeout(10, async (s) => {
        scope = s;
        await sleep(1000);
      }),
      (e: unknown) => e instanceof TimeoutError && (e.cause as unknown) instanceof CancelledError,
    );
    assert.equal(scope!.expired(), true);
    assert.equal(currentTask()!.cancelling(), 0);
    assert.equal(getRunningLoop().time(), 10);
    assert.equal(await timeout(10, () => sleep(5, "in time")), "in time");
    assert.equal(await timeout(null, () => sleep(50, "no limit")), "no limit");
  });
});

test("an outside cancellation inside a timeout stays CancelledError, even if the timeout also expired", async () => {
  await runVirtual(async () => {
    const t = createTask(() => timeout(0, async () => {
      currentTask()!.cancel();
      await sleep(10);
    }));
    await assert.rejects(t, CancelledError);
    assert.equal(t.cancelled(), true);

    const u = createTask(() => timeout(100, () => sleep(1000)));
    await sleep(5);
    u.cancel();
    await assert.rejects(u, CancelledError);
  });
});

test("nested timeouts each see their own; equal deadlines: only the outermost converts", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const out = await timeout(100, async (outer) => {
      try {
        await timeout(10, () => sleep(1000));
      } catch (e) {
        assert.ok(e instanceof TimeoutError);
      }
      assert.equal(outer.expired(), false);
      return loop.time();
    });
    assert.equal(out, 10);

    const seen: string[] = [];
    let inner: Timeout | undefined;
    let outerScope: Timeout | undefined;
    await assert.rejects(
      timeoutAt(loop.time() + 10, async (o) => {
        outerScope = o;
        try {
          await timeoutAt(o.when(), async (i) => {
            inner = i;
            await sleep(1000);
          });
        } catch (e) {
          seen.push((e as Error).name);
          throw e;
        }
      }),
      TimeoutError,
    );
    assert.deepEqual(seen, ["CancelledError"]);
    assert.equal(inner!.expired(), true);
    assert.equal(outerScope!.expired(), true);
  });
});

test("reschedule moves the deadline, null disables it, a past time fires next iteration, misuse throws", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    await timeout(10, async (s) => {
      s.reschedule(loop.time() + 50);
      await sleep(30);
      s.reschedule(null);
      assert.equal(s.when(), null);
      await sleep(100);
    });
    assert.equal(loop.time(), 130);
    const t0 = loop.time();
    await assert.rejects(
      timeout(1000, async (s) => {
        s.reschedule(loop.time() - 5);
        await sleep(1000);
      }),
      TimeoutError,
    );
    assert.equal(loop.time(), t0);
    let kept: Timeout | undefined;
    await timeout(10, (s) => (kept = s));
    assert.throws(() => kept!.reschedule(5), { name: "InvalidStateError" });
    assert.throws(() => timeout(-1, () => 1), { name: "RangeError", message: /timeout: `ms`/ });
  });
});

test("a body that swallows the expiry's cancellation ends normally, no TimeoutError", async () => {
  await runVirtual(async () => {
    let scope: Timeout | undefined;
    const r = await timeout(10, async (s) => {
      scope = s;
      try {
        await sleep(1000);
      } catch {
        return "swallowed";
      }
      return "slept";
    });
    assert.equal(r, "swallowed");
    assert.equal(scope!.expired(), true);
    assert.equal(currentTask()!.cancelling(), 0);
  });
});

test("timeout outside any task runs its body in a task of its own", async () => {
  await assert.rejects(timeout(5, () => sleep(1000)), TimeoutError);
  assert.equal(await timeout(1000, () => sleep(1, "ok")), "ok");
});
