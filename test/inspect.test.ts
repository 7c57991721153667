// Every runtime object prints its state (issue 13 item 5): one describer per object, used by
// util.inspect (full) and by the task tree behind `tsaio ps`/`pstree` (redacted: no contents).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect } from "node:util";
import {
  Barrier,
  CapacityLimiter,
  createSubprocessExec,
  createTask,
  Event,
  formatTaskTree,
  Future,
  gather,
  getRunningLoop,
  Lock,
  PriorityQueue,
  Queue,
  RateLimiter,
  run,
  RWLock,
  Semaphore,
  shield,
  sleep,
  taskGroup,
  taskTree,
  ThreadPoolExecutor,
  timeout,
} from "../src/index.js";
import * as tsaio from "../src/index.js";
import { FULL, REDACTED, show } from "../src/internal/describe.js";
import { runVirtual } from "../src/testing.js";
import { jobs } from "./executors/helpers.js";

/** The redacted form, as `tsaio ps`/`pstree` print it. */
const redacted = (v: unknown): string => show(v, REDACTED);

describe("each object's inspect shows its state", () => {
  test("a sleep shows its deadline: loop time and ms left", async () => {
    await runVirtual(async () => {
      await sleep(5);
      const s = sleep(100);
      assert.equal(inspect(s), "<SleepFuture pending when=105 left=100ms>");
      await sleep(30);
      assert.equal(inspect(s), "<SleepFuture pending when=105 left=70ms>");
      await s;
      assert.equal(inspect(s), "<SleepFuture finished result=undefined>");
      const forever = sleep(Infinity);
      assert.equal(inspect(forever), "<SleepFuture pending forever>");
      forever.cancel();
      assert.equal(inspect(forever), "<SleepFuture cancelled>");
    });
  });

  test("a gathering future shows its children's states", async () => {
    await runVirtual(async () => {
      const t = createTask(() => sleep(50, "t"), { name: "kid" });
      const f = new Future<number>();
      f.setResult(42);
      const g = gather([t, f, sleep(20)]);
      await sleep(0);
      assert.equal(
        inspect(g),
        '<GatheringFuture pending finished=1/3 children=[<Task pending name="kid" waiting on <SleepFuture pending waiters=1 when=50 left=50ms>>, <Future finished result=42>, <SleepFuture pending waiters=1 when=20 left=20ms>]>',
      );
      // Redacted: states only, no results.
      assert.match(redacted(g), /children=\[<Task pending name="kid" .*>, <Future finished>, <SleepFuture pending/);
      await g;
      assert.match(inspect(g), /^<GatheringFuture finished result=\[ 't', 42, undefined \] finished=3\/3 children=\[<Task finished result='t' name="kid">, /);
      const inner = new Future<string>();
      const sh = shield(inner);
      assert.match(inspect(sh), /^<ShieldFuture pending( waiters=\d+)? inner=<Future pending waiters=1>>$/);
      inner.setResult("x");
      await sleep(0);
      assert.equal(inspect(sh), "<ShieldFuture finished result='x' inner=<Future finished result='x'>>");
    });
  });

  test("tasks, futures and the loop", async () => {
    await runVirtual(async () => {
      const f = new Future<string>();
      assert.equal(inspect(f), "<Future pending>");
      const t = createTask(() => f, { name: "w" });
      await sleep(0);
      assert.equal(inspect(t), '<Task pending name="w" waiting on <Future pending waiters=1>>');
      t.cancel();
      assert.equal(inspect(t), '<Task pending name="w" cancelling=1 waiting on <Future cancelled>>');
      await assert.rejects(t);
      const e = new Future<string>();
      e.setException(new TypeError("secret token abc"));
      assert.equal(inspect(e), '<Future finished exception=TypeError("secret token abc")>');
      assert.equal(redacted(e), "<Future finished exception=TypeError>");
      e.exception();
      f.cancel();
      assert.match(inspect(getRunningLoop()), /^<Loop running clock=virtual time=\d+ ready=\d+ timers=\d+ tasks=1>$/);
    });
  });

  test("locks, events, semaphores and barriers show waiters", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      await lock.acquire();
      const ts = [createTask(() => lock.acquire()), createTask(() => lock.acquire())];
      await sleep(0);
      assert.equal(inspect(lock), "<Lock locked waiters=2>");
      assert.equal(redacted(lock), "<Lock locked waiters=2>");
      assert.match(inspect(ts[0]), /waiting on <Lock locked waiters=2>/);
      for (const t of ts) t.cancel();
      await Promise.allSettled(ts);
      const ev = new Event();
      const et = createTask(() => ev.wait());
      await sleep(0);
      assert.equal(inspect(ev), "<Event unset waiters=1>");
      ev.set();
      await et;
      const sem = new Semaphore(2);
      await sem.acquire();
      assert.equal(inspect(sem), "<Semaphore unlocked value=1>");
      assert.equal(inspect(new Barrier(3)), "<Barrier filling waiters=0/3>");
      const rw = new RWLock();
      await rw.read.acquire();
      assert.equal(inspect(rw), "<RWLock reading readers=1>");
    });
  });

  test("queues show sizes and, unless redacted, their first items", async () => {
    await runVirtual(async () => {
      const q = new Queue<string>(10);
      q.putNowait("password1");
      q.putNowait("password2");
      assert.equal(inspect(q), "<Queue maxsize=10 qsize=2 items=[ 'password1', 'password2' ] unfinished=2>");
      assert.equal(redacted(q), "<Queue maxsize=10 qsize=2 unfinished=2>");
      const pq = new PriorityQueue<number>();
      pq.putNowait(3);
      pq.putNowait(1);
      assert.equal(inspect(pq), "<PriorityQueue maxsize=0 qsize=2 items=[ 1, 3 ] unfinished=2>");
    });
  });

  test("limiters show holders and waiters", async () => {
    await runVirtual(async () => {
      const cl = new CapacityLimiter(2);
      const holder = createTask(() => cl.run(() => sleep(100)), { name: "crawl-1" });
      await sleep(0);
      assert.equal(inspect(cl), '<CapacityLimiter borrowed=1/2 holders=["crawl-1"]>');
      await holder;
      assert.equal(inspect(new RateLimiter(5, 1000)), "<RateLimiter 5/1000ms burst=5>");
    });
  });

  test("timeout scopes show their deadline; task groups their tasks", async () => {
    await runVirtual(async () => {
      await timeout(100, async (scope) => {
        await sleep(40);
        assert.equal(inspect(scope), "<Timeout active when=100 left=60ms>");
      });
      await taskGroup(async (tg) => {
        void tg.createTask(() => sleep(1));
        assert.equal(inspect(tg), "<TaskGroup active tasks=1 errors=0>");
      });
    });
  });

  test("a pool shows each worker (state, thread id, jobs) and its queue", async () => {
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1, name: "p" });
    assert.equal(inspect(pool), '<ThreadPoolExecutor name="p" workers=0/1 busy=0 queued=0>');
    const running = pool.submit(jobs.fns.slowInc, 1, 300);
    const pipelined = pool.submit(jobs.fns.inc, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.match(inspect(pool), /^<ThreadPoolExecutor name="p" workers=1\/1 busy=1 queued=0 slots=\[<worker thread #1 tid=\d+ (starting|busy)( running=#\d+)? holds=2 jobs=2>\]>$/);
    // More jobs than the worker takes at once wait in the executor's queue.
    const more = Array.from({ length: 40 }, (_, i) => pool.submit(jobs.fns.inc, i));
    const full = inspect(pool);
    assert.match(full, /queued=\d+ slots=\[.*\] queue=\[#\d+ inc, #\d+ inc, #\d+ inc, #\d+ inc, #\d+ inc, … \d+ more\]>$/);
    assert.doesNotMatch(redacted(pool), /queue=/, "redacted: no queue contents, only its size");
    assert.match(redacted(pool), /queued=\d+/);
    await Promise.all([running, pipelined, ...more]);
    assert.match(inspect(pool), /slots=\[<worker thread #1 tid=\d+ idle jobs=42>\]>$/);
    assert.match(inspect(running), /^<ExecutorFuture finished result=2 job=#\d+ slowInc>$/);
    assert.match(redacted(running), /^<ExecutorFuture finished job=#\d+ slowInc>$/);
  });

  test("a subprocess shows its state; redacted, its program without arguments", async () => {
    await run(async () => {
      const p = await createSubprocessExec(process.execPath, ["-e", "setTimeout(() => {}, 200)", "--secret=abc"]);
      assert.match(inspect(p), /^<Subprocess pid=\d+ running ".*"/);
      assert.match(redacted(p), /^<Subprocess pid=\d+ running ".*node[^ ]* …">$/);
      assert.doesNotMatch(redacted(p), /secret/);
      p.kill();
      await p.wait();
      assert.match(inspect(p), /returncode=/);
    });
  });
});

describe("one describer per object", () => {
  test("every exported runtime class has a describer, and util.inspect calls it", () => {
    const runtime = [
      "Loop", "Handle", "TimerHandle", "Future", "Task", "Timeout", "TaskGroup", "Runner",
      "Lock", "Event", "Condition", "Semaphore", "BoundedSemaphore", "Barrier",
      "Queue", "PriorityQueue", "LifoQueue", "RWLock", "RWLockSide", "CapacityLimiter", "RateLimiter", "Borrow", "Held",
      "Executor", "ThreadPoolExecutor", "ProcessPoolExecutor", "ExecutorFuture",
      "Server", "StreamReader", "StreamWriter", "Subprocess",
    ];
    const lib = tsaio as unknown as Record<string, { prototype?: Record<string | symbol, unknown> }>;
    for (const name of runtime) {
      const proto = lib[name]?.prototype;
      assert.ok(proto !== undefined, `${name} is exported`);
      assert.equal(typeof proto._describe, "function", `${name} has a describer`);
      assert.equal(typeof proto[inspect.custom], "function", `${name} has [inspect.custom]`);
    }
  });

  test("util.inspect is the full describer; objects inside are described in the same mode", async () => {
    await runVirtual(async () => {
      const q = new Queue<string>();
      q.putNowait("hidden");
      for (const obj of [new Lock(), new Event(), q, new Future(), new CapacityLimiter(1), getRunningLoop()]) {
        assert.equal(inspect(obj), show(obj, FULL));
      }
      const r = new Future<string>();
      r.setResult("my-result");
      const s = shield(r);
      assert.match(inspect(s), /my-result/);
      assert.doesNotMatch(redacted(s), /my-result/, "redaction reaches nested objects");
    });
  });

  test("the task tree uses the describers, redacted unless asked for contents", async () => {
    await runVirtual(async () => {
      const q = new Queue<string>(1);
      q.putNowait("item-secret");
      const producer = createTask(() => q.put("another-secret"), { name: "producer" });
      const napper = createTask(() => sleep(100), { name: "napper" });
      await sleep(0);
      const text = formatTaskTree();
      assert.match(text, /\(T\) producer — waiting on <Queue maxsize=1 qsize=1 putters=1 unfinished=1>/);
      assert.match(text, /\(T\) napper — waiting on <SleepFuture pending waiters=1 when=100 left=100ms>/);
      assert.doesNotMatch(text, /secret/);
      assert.match(formatTaskTree(undefined, { contents: true }), /items=\[ 'item-secret' \]/);
      const node = taskTree().find((n) => n.name === "producer");
      assert.equal(node?.waitingOn, redacted(q));
      producer.cancel();
      napper.cancel();
      await Promise.allSettled([producer, napper]);
    });
  });
});
