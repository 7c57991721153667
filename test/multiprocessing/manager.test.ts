/**
 * tsaio/multiprocessing's Manager: the shared objects and their proxies, 4 processes incrementing
 * under a manager Lock (and a control without it that must lose updates), a killed holder releasing
 * its lock, proxies in Process arguments, in process-pool jobs and nested in other objects, the
 * server's death failing every pending call, acquire's timeout/cancel (a property test), bad input,
 * and a program that exits by itself. One manager serves most tests (process start-up is costly).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import { CancelledError, createTask, InvalidStateError, ProcessPoolExecutor, run, sleep, workerModule } from "../../src/index.js";
import { EOFError } from "../../src/multiprocessing/connection.js";
import { BaseProxy, DictProxy, ListProxy, Manager, type SyncManager, SyncManager as SyncManagerClass } from "../../src/multiprocessing/manager.js";
import { Process } from "../../src/multiprocessing/process.js";
import { Lock as ThreadLock } from "../../src/threading/lock.js";
import { runFixture } from "../fixtures/run-fixture.js";

const jobs = workerModule<typeof import("./fixtures/manager-jobs.js")>(new URL("./fixtures/manager-jobs.js", import.meta.url));
// A program of its own, started now so that its start-up overlaps the tests below; awaited by the last.
const exitRun = runFixture("../multiprocessing/fixtures/manager-exit.ts");
exitRun.catch(() => {}); // awaited (and its failure reported) by its test

let m: SyncManager;
before(async () => {
  m = await Manager();
});
after(async () => {
  await m.shutdown();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("dict, list, Namespace, Value, Lock, RLock: operations, nested proxies, inspect", async () => {
  assert.match(inspect(m), /^<SyncManager started pid=\d+ address="[^"]+" created=\d+/);
  const d = await m.dict<string, unknown>({ a: 1 });
  await d.set("b", [1, { x: 2 }]);
  assert.equal(await d.get("a"), 1);
  assert.equal(await d.get("zz"), undefined);
  assert.equal(await d.get("zz", 5), 5);
  assert.deepEqual(await d.get("b"), [1, { x: 2 }]);
  assert.equal(await d.has("a"), true);
  assert.deepEqual(await d.keys(), ["a", "b"]);
  assert.equal(await d.size(), 2);
  assert.equal(await d.setDefault("c", 3), 3);
  assert.equal(await d.setDefault("c", 4), 3);
  assert.equal(await d.pop("c"), 3);
  assert.equal(await d.delete("a"), true);
  assert.equal(await d.delete("a"), false);
  await d.update([["p", 1], ["q", 2]]);
  assert.deepEqual(await d.entries(), [["b", [1, { x: 2 }]], ["p", 1], ["q", 2]]);
  assert.deepEqual(await d.values(), [[1, { x: 2 }], 1, 2]);
  assert.ok((await d.copy()) instanceof Map);
  await d.clear();
  assert.equal(await d.size(), 0);
  const nums = await m.dict<number, string>([[1, "one"]]);
  assert.equal(await nums.get(1), "one");

  const l = await m.list([1, 2, 3]);
  await l.append(4);
  await l.extend([5, 6]);
  await l.insert(0, 0);
  await l.set(-1, 60);
  assert.equal(await l.get(-1), 60);
  assert.equal(await l.pop(), 60);
  assert.equal(await l.pop(0), 0);
  assert.equal(await l.length(), 5);
  assert.deepEqual(await l.slice(1, 3), [2, 3]);
  assert.deepEqual(await l.toArray(), [1, 2, 3, 4, 5]);
  await assert.rejects(l.get(10), { name: "RangeError", message: /ListProxy\.get: index 10 out of range \(length 5\)/ });
  await l.clear();
  await assert.rejects(l.pop(), { name: "RangeError", message: /ListProxy\.pop: pop from an empty list/ });

  // A proxy stored in another shared object comes back as a proxy of the same object.
  const inner = await m.list<number>([7]);
  await d.set("inner", inner);
  const back = (await d.get("inner")) as ListProxy<number>;
  assert.ok(back instanceof ListProxy);
  assert.equal(back.id, inner.id);
  await back.append(8);
  assert.deepEqual(await inner.toArray(), [7, 8]);

  const ns = await m.Namespace<{ x: number; y: string }>({ x: 1 });
  await ns.set("y", "why");
  assert.equal(await ns.get("x"), 1);
  assert.equal(await ns.has("y"), true);
  assert.deepEqual(await ns.toObject(), { x: 1, y: "why" });
  assert.equal(await ns.delete("x"), true);
  assert.equal(await ns.get("x"), undefined);

  const v = await m.Value("i", 41);
  await v.set((await v.get()) + 1);
  assert.equal(await v.get(), 42);
  assert.equal(v.typecode, "i");
  const c = await m.Value("u", "x");
  assert.equal(await c.get(), "x");

  const lock = await m.Lock();
  assert.equal(await lock.acquire(), true);
  assert.equal(await lock.locked(), true);
  assert.equal(await lock.acquire({ blocking: false }), false);
  assert.equal(await lock.acquire({ timeout: 20 }), false);
  await lock.release();
  await assert.rejects(lock.release(), { name: "InvalidStateError", message: /LockProxy\.release: the lock is not acquired/ });
  assert.equal(await lock.run(() => 5), 5);
  assert.equal(await lock.locked(), false);

  const r = await m.RLock();
  await r.acquire();
  await r.acquire();
  await run(async () => {
    // Another task may not release it, nor take it.
    await assert.rejects(createTask(() => r.release()), { name: "InvalidStateError", message: /RLockProxy\.release: the lock is held by another task or process/ });
    assert.equal(await createTask(() => r.acquire({ blocking: false })), false);
  });
  await r.release();
  assert.equal(await r.locked(), true);
  await r.release();
  assert.equal(await r.locked(), false);

  assert.ok(d instanceof BaseProxy && d instanceof DictProxy);
  assert.match(inspect(d), /^<DictProxy #\d+ connected manager="[^"]+">$/);
  assert.match(inspect(lock), /^<LockProxy #\d+ connected/);
  assert.match(inspect(m), / created=\d+ connected>$/);
});

test("bad input: TypeError/RangeError naming the argument", async () => {
  const d = await m.dict();
  assert.throws(() => d.set({} as never, 1), { name: "TypeError", message: /DictProxy\.set: `key` must be a string, number/ });
  assert.throws(() => d.get([1] as never), { name: "TypeError", message: /DictProxy\.get: `key`/ });
  await assert.rejects(d.set("f", () => 1), { name: "TypeError", message: /DictProxy\.set: a value cannot be sent to the manager/ });
  assert.throws(() => d.set("l", new ThreadLock()), { name: "TypeError", message: /DictProxy\.set: a Lock of tsaio\/threading .*threads only/ });
  assert.throws(() => d.update(5 as never), { name: "TypeError", message: /DictProxy\.update: `entries`/ });
  const l = await m.list();
  assert.throws(() => l.get(1.5), { name: "TypeError", message: /ListProxy\.get: `index` must be an integer/ });
  assert.throws(() => l.slice("a" as never), { name: "TypeError", message: /ListProxy\.slice: `start`/ });
  assert.throws(() => l.extend(5 as never), { name: "TypeError", message: /ListProxy\.extend: `items`/ });
  const ns = await m.Namespace();
  assert.throws(() => ns.get(5 as never), { name: "TypeError", message: /NamespaceProxy\.get: `name` must be a string/ });
  assert.throws(() => m.Value("z" as never, 1 as never), { name: "RangeError", message: /SyncManager\.Value: `typecode` must be one of/ });
  assert.throws(() => m.Value("b", 300), { name: "RangeError", message: /SyncManager\.Value: `value` 300 is out of range for typecode "b"/ });
  assert.throws(() => m.Value("i", 1.5), { name: "TypeError", message: /SyncManager\.Value: `value` must be an integer/ });
  const v = await m.Value("d", 1);
  assert.throws(() => v.set("x" as never), { name: "TypeError", message: /ValueProxy\.set: `value` must be a number/ });
  const lock = await m.Lock();
  assert.throws(() => lock.acquire({ timeout: -1 }), { name: "RangeError", message: /LockProxy\.acquire: `timeout` must be >= 0/ });
  assert.throws(() => lock.acquire({ blocking: 1 as never }), { name: "TypeError", message: /LockProxy\.acquire: `blocking`/ });
  assert.throws(() => lock.acquire({ signal: {} as never }), { name: "TypeError", message: /LockProxy\.acquire: `signal`/ });
  await assert.rejects(lock.run(5 as never), { name: "TypeError", message: /LockProxy\.run: `fn` must be a function/ });
  assert.throws(() => new SyncManagerClass({ authkey: 5 as never }), { name: "TypeError", message: /SyncManager: `authkey`/ });
  const idle = new SyncManagerClass();
  assert.throws(() => idle.dict(), { name: "InvalidStateError", message: /SyncManager\.dict: the manager is not started/ });
  await assert.rejects(m.start(), InvalidStateError);
  await idle.shutdown();
  assert.match(inspect(idle), /^<SyncManager shutdown created=0>$/);
});

test("4 processes increment one dict entry: exact under the manager Lock, updates lost without it", async () => {
  const n = 30;
  const d = await m.dict<string, number>({ free: 0, locked: 0 });
  const lock = await m.Lock();
  const gate = await m.Lock();
  const ready = await m.list<number>();
  await gate.acquire();
  const ps = Array.from({ length: 4 }, () => new Process({ target: jobs.fns.increments, args: [d, lock, gate, ready, n] }));
  for (const p of ps) p.start();
  // Open the gate once every child is at it, so that they increment side by side.
  while ((await ready.length()) < 4) await new Promise((r) => setTimeout(r, 10));
  await gate.release();
  assert.deepEqual(await Promise.all(ps.map((p) => p.join())), [0, 0, 0, 0]);
  assert.equal(await d.get("locked"), 4 * n, "no update lost under the lock");
  const free = (await d.get("free")) as number;
  assert.ok(free < 4 * n, `without the lock, updates are lost (got ${free} of ${4 * n})`);
});

test("a process killed while holding a Lock releases it; waiters in this process get it", async () => {
  const lock = await m.Lock();
  const ns = await m.Namespace<{ held: number }>();
  const p = new Process({ target: jobs.fns.holdLock, args: [lock, ns] });
  p.start();
  while ((await ns.get("held")) === undefined) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await lock.acquire({ blocking: false }), false);
  const waiting = lock.acquire({ timeout: 20_000 });
  p.kill();
  assert.equal(await p.join(), -9);
  assert.equal(await waiting, true, "the dead holder's lock went to the waiter");
  await lock.release();
});

test("proxies as arguments of process-pool jobs (nested proxy included)", async () => {
  const d = await m.dict<string, unknown>([["inner", await m.list<number>([1])]]);
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const [got, arr, pid] = (await pool.submit(jobs.fns.poolJob, d, "k", 5)) as [unknown, number[], number];
  assert.equal(got, 5);
  assert.deepEqual(arr, [1, 5]);
  assert.notEqual(pid, process.pid);
  assert.equal(await d.get("k"), 5);
  const [again] = (await pool.submit(jobs.fns.poolJob, d, "k", 6)) as [unknown];
  assert.equal(again, 6, "the worker reuses its connection");
});

test("acquire: timeouts and cancellations never leave the lock stuck or doubly held (property)", async () => {
  const lock = await m.Lock();
  let holders = 0;
  let maxHolders = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ kind: fc.constantFrom("plain", "timeout", "cancel", "signal"), ms: fc.integer({ min: 0, max: 6 }), hold: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 6 }),
      async (ops) => {
        await run(async () => {
          const tasks = ops.map((op) =>
            createTask(async () => {
              const ac = new AbortController();
              const acquired = lock.acquire(op.kind === "timeout" ? { timeout: op.ms } : op.kind === "signal" ? { signal: ac.signal } : undefined);
              if (op.kind === "signal") setTimeout(() => ac.abort(), op.ms);
              let ok: boolean;
              try {
                ok = await acquired;
              } catch (e) {
                if (e instanceof CancelledError) return;
                throw e;
              }
              if (!ok) return;
              holders++;
              maxHolders = Math.max(maxHolders, holders);
              try {
                await sleep(op.hold); // a "cancel" may land here, holding the lock
              } finally {
                holders--;
                await lock.release();
              }
            }),
          );
          await sleep(2);
          ops.forEach((op, i) => {
            if (op.kind === "cancel") tasks[i].cancel();
          });
          for (const t of tasks) await t.then(() => {}, (e: unknown) => assert.ok(e instanceof CancelledError, String(e)));
        });
        assert.equal(maxHolders <= 1, true, "mutual exclusion");
        // Whatever was cancelled or timed out, the lock is not stuck: it can be taken (a grant that
        // crossed a cancel is passed on one round trip later) and, released, it is free.
        assert.equal(await lock.acquire({ timeout: 20_000 }), true);
        await lock.release();
        assert.equal(await lock.locked(), false);
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 25) },
  );
});

test("the server dies: every pending call fails with EOFError, and every later one (no hang)", async () => {
  const m2 = await Manager();
  // A first call made in a run() that ends while the connection is being made: later calls must
  // not be stranded on that loop's waits.
  await run(async () => {
    void m2.dict().catch(() => {});
  });
  const lock = await m2.Lock();
  const d = await m2.dict();
  await lock.acquire();
  const pending = [lock.acquire(), lock.acquire({ timeout: 60_000 }), lock.acquire()];
  await new Promise((r) => setTimeout(r, 20));
  process.kill(m2.pid as number, "SIGKILL");
  const outcomes = await Promise.allSettled(pending);
  for (const o of outcomes) {
    assert.equal(o.status, "rejected");
    const e = (o as PromiseRejectedResult).reason as Error;
    assert.ok(e instanceof EOFError, String(e));
    assert.match(e.message, /LockProxy\.acquire: the manager's server is gone/);
  }
  await assert.rejects(d.get("x"), { name: "EOFError", message: /DictProxy\.get: the manager's server is gone/ });
  assert.match(inspect(d), /server-gone/);
  await m2.shutdown();
  assert.match(inspect(m2), /^<SyncManager shutdown/);
  await assert.rejects(d.set("x", 1), EOFError);
});

test("a program that leaves its Manager running exits by itself, and its server with it", async () => {
  const out = await exitRun;
  assert.equal(out.code, 0, out.stderr);
  const m1 = /exit 0 server (\d+) value 7/.exec(out.stdout);
  assert.ok(m1 !== null, out.stdout);
  const pid = Number(m1[1]);
  const end = Date.now() + 5_000;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(pid), false, "the server exited with its parent");
});
