import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, createTask, currentTask, ExceptionGroup, getRunningLoop, sleep, taskGroup, type TaskGroup } from "../src/index.js";
import { runVirtual } from "../src/testing.js";

class ValueError extends Error {
  override name = "ValueError";
}
class KeyError extends Error {
  override name = "KeyError";
}

test("taskGroup waits for every child and returns the body's value", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const r = await taskGroup(async (tg) => {
      void tg.createTask(() => sleep(50));
      const a = tg.createTask(() => sleep(10, 1));
      return a;
    });
    assert.equal(await r, 1);
    assert.equal(loop.time(), 50);
  });
});

test("child errors cancel the body and siblings; ExceptionGroup of all errors; parent not left cancelling", async () => {
  await runVirtual(async () => {
    const events: string[] = [];
    let eg: unknown;
    try {
      await taskGroup(async (tg) => {
        void tg.createTask(async () => {
          await sleep(10);
          throw new ValueError("v");
        });
        void tg.createTask(async () => {
          await sleep(10);
          throw new KeyError("k");
        });
        void tg.createTask(async () => {
          try {
            await sleep(100);
          } catch (e) {
            events.push(`sibling ${(e as Error).name}`);
            throw e;
          }
        });
        try {
          await sleep(100);
        } catch (e) {
          events.push(`body ${(e as Error).name}`);
          throw e;
        }
      });
    } catch (e) {
      eg = e;
    }
    assert.ok(eg instanceof ExceptionGroup);
    assert.deepEqual(
      eg.exceptions.map((e) => (e as Error).name),
      ["ValueError", "KeyError"],
    );
    assert.match(eg.message, /^unhandled errors in a TaskGroup \(2 sub-exceptions\)$/);
    assert.deepEqual(events.sort(), ["body CancelledError", "sibling CancelledError"]);
    assert.equal(currentTask()!.cancelling(), 0);
    assert.equal(getRunningLoop().time(), 10);
  });
});

test("a body error cancels the children and is included after the child errors", async () => {
  await runVirtual(async () => {
    await assert.rejects(
      taskGroup(async (tg) => {
        void tg.createTask(() => sleep(100));
        await sleep(1);
        throw new RangeError("body");
      }),
      (e: unknown) => e instanceof ExceptionGroup && e.exceptions.length === 1 && e.exceptions[0] instanceof RangeError,
    );
  });
});

test("an outside cancellation cancels all children and stays CancelledError; a child error in cleanup wins", async () => {
  await runVirtual(async () => {
    const kids: string[] = [];
    const t = createTask(() =>
      taskGroup(async (tg) => {
        void tg.createTask(async () => {
          try {
            await sleep(100);
          } catch (e) {
            kids.push("child cancelled");
            throw e;
          }
        });
        await sleep(100);
      }),
    );
    await sleep(5);
    t.cancel();
    await assert.rejects(t, CancelledError);
    assert.deepEqual(kids, ["child cancelled"]);

    const u = createTask(() =>
      taskGroup(async (tg) => {
        void tg.createTask(async () => {
          try {
            await sleep(100);
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw new ValueError("cleanup");
          }
        });
        await sleep(100);
      }),
    );
    await sleep(5);
    u.cancel();
    await assert.rejects(u, ExceptionGroup);
  });
});

test("a child error together with an outside cancel: ExceptionGroup, and the cancel stays pending (3.13)", async () => {
  await runVirtual(async () => {
    let after = "";
    const t = createTask(async () => {
      const parent = currentTask()!;
      try {
        await taskGroup(async (tg) => {
          void tg.createTask(async () => {
            await sleep(10);
            parent.cancel(); // the outside cancel lands in the same step as the error
            throw new ValueError("v");
          });
          await sleep(100);
        });
      } catch (e) {
        after = `${(e as Error).name} cancelling=${currentTask()!.cancelling()}`;
      }
      await sleep(1); // the kept cancel lands here
      after += " not reached";
    });
    await assert.rejects(t, CancelledError);
    assert.equal(after, "ExceptionGroup cancelling=1");
  });
});

test("createTask on a shutting-down or finished group is refused; children may spawn while it exits", async () => {
  await runVirtual(async () => {
    let kept: TaskGroup | undefined;
    const refusals: string[] = [];
    await assert.rejects(
      taskGroup(async (tg) => {
        kept = tg;
        void tg.createTask(async () => {
          throw new ValueError("x");
        });
        try {
          await sleep(10);
        } finally {
          try {
            void tg.createTask(() => 1);
          } catch (e) {
            refusals.push(`${(e as Error).name}: ${(e as Error).message}`);
          }
        }
      }),
      ExceptionGroup,
    );
    assert.throws(() => kept!.createTask(() => 1), { name: "InvalidStateError", message: /finished/ });
    assert.deepEqual(refusals, ["InvalidStateError: TaskGroup.createTask: the TaskGroup is shutting down"]);

    let depth = 0;
    await taskGroup(async (tg) => {
      const spawn = async (n: number): Promise<void> => {
        depth = Math.max(depth, n);
        await sleep(1);
        if (n < 5) void tg.createTask(() => spawn(n + 1));
      };
      void tg.createTask(() => spawn(1));
    });
    assert.equal(depth, 5);
  });
});

test("nested groups: the inner ExceptionGroup is wrapped in the outer one", async () => {
  await runVirtual(async () => {
    await assert.rejects(
      taskGroup(async (outer) => {
        void outer.createTask(() =>
          taskGroup(async (inner) => {
            void inner.createTask(async () => {
              throw new KeyError("deep");
            });
          }),
        );
      }),
      (e: unknown) => e instanceof ExceptionGroup && e.exceptions[0] instanceof ExceptionGroup,
    );
  });
});

test("tg.cancel() ends the group early without an error and cancels the children", async () => {
  await runVirtual(async () => {
    const loop = getRunningLoop();
    const kids: string[] = [];
    const r = await taskGroup(async (tg) => {
      void tg.createTask(async () => {
        try {
          await sleep(1000);
        } catch (e) {
          kids.push((e as Error).name);
          throw e;
        }
      });
      void tg.createTask(async () => {
        await sleep(10);
        tg.cancel();
        tg.cancel(); // idempotent
      });
      await sleep(1000);
      return "unreachable";
    });
    assert.equal(r, undefined);
    assert.deepEqual(kids, ["CancelledError"]);
    assert.equal(loop.time(), 10);
    assert.equal(currentTask()!.cancelling(), 0);
  });
});

test("taskGroup outside any task runs in a task of its own", async () => {
  const r = await taskGroup(async (tg) => {
    const a = tg.createTask(() => sleep(1, "a"));
    return a;
  });
  assert.equal(await r, "a");
});
