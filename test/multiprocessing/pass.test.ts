/**
 * tsaio/multiprocessing objects given to executor jobs (process and thread pools): they arrive as
 * working objects, nested or not, in map() chunks, and come back from jobs; threading primitives
 * nested in arguments and returned from thread jobs; killed worker processes leave no waiter hanging.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import { CancelledError, ProcessPoolExecutor, QueueEmpty, sleep, ThreadPoolExecutor, workerModule } from "../../src/index.js";
import { Connection, EOFError, Pipe } from "../../src/multiprocessing/connection.js";
import { Queue } from "../../src/multiprocessing/queue.js";
import { Event, Lock } from "../../src/threading/index.js";

const jobs = workerModule<typeof import("./fixtures/pass-jobs.js")>(new URL("./fixtures/pass-jobs.js", import.meta.url));
const KILL_RUNS = Number(process.env.FUZZ_RUNS ?? 2);

const procs = new ProcessPoolExecutor({ maxWorkers: 3, prestart: true });
const threads = new ThreadPoolExecutor({ maxWorkers: 3, prestart: true });
after(() => Promise.all([procs.shutdown(), threads.shutdown()]));

for (const [name, pool] of [
  ["process pool", procs],
  ["thread pool", threads],
] as const) {
  test(`${name}: a Pipe end moves to the job and works there; here it is closed`, async () => {
    const [a, b] = Pipe<number>();
    await a.send(1); // sent before the job connects: waits for it
    const f = pool.submit(jobs.fns.echo, b, 3, 100);
    assert.equal(b.closed, true);
    assert.match(inspect(b), /<Connection moved/);
    assert.throws(() => b.send(1), /moved to a job/);
    assert.equal(await a.recv(), 101);
    await a.send(2);
    assert.equal(await a.recv(), 102);
    await a.send(3);
    assert.equal(await a.recv(), 103);
    assert.equal(await f, "Connection");
    await assert.rejects(a.recv(), EOFError, "the job closed its end");
  });

  test(`${name}: a stream of messages each way, nothing lost, in order`, async () => {
    const [a, b] = Pipe<number>();
    const f = pool.submit(jobs.fns.drain, b);
    for (let i = 0; i < 2000; i++) await a.send(i);
    a.close();
    assert.deepEqual(await f, [2000, (1999 * 2000) / 2]);
    const [c, d] = Pipe<number>();
    const g = pool.submit(jobs.fns.produce, d, 2000);
    let sum = 0;
    for (let i = 0; i < 2000; i++) sum += await c.recv();
    assert.equal(sum, (1999 * 2000) / 2);
    assert.equal(await g, 2000);
  });

  test(`${name}: connections nested in objects and arrays, and in map() chunks`, async () => {
    const x = Pipe<string>();
    const y = Pipe<string>();
    const z = Pipe<string>();
    const box = { list: [x[1], y[1]], inner: { c: z[1] } };
    assert.equal(await pool.submit(jobs.fns.nested, box, "hi"), 3);
    assert.deepEqual(await Promise.all([x[0].recv(), y[0].recv(), z[0].recv()]), ["hi", "hi", "hi"]);
    assert.equal(box.list[0], x[1], "the caller's containers are not changed");
    const pipes = [0, 1, 2, 3, 4].map(() => Pipe<number>());
    const out: number[] = [];
    for await (const r of pool.map(jobs.fns.mapItem, pipes.map((p, i) => ({ i, c: p[1] })), { chunksize: 2 })) out.push(r);
    assert.deepEqual(out, [0, 1, 2, 3, 4]);
    assert.deepEqual(await Promise.all(pipes.map((p) => p[0].recv())), [0, 10, 20, 30, 40]);
  });

  test(`${name}: a connection returned from a job works here`, async () => {
    const r = await pool.submit(jobs.fns.makePipe);
    assert.ok(r.end instanceof Connection);
    await r.end.send("yo");
    assert.equal(await r.end.recv(), "echo:yo");
    await assert.rejects(r.end.recv(), EOFError);
  });

  test(`${name}: a Queue shared by producers and consumers in jobs and here: every item once`, async () => {
    const q = new Queue<number>(10);
    const prods = [pool.submit(jobs.fns.qProduce, q, 0, 300), pool.submit(jobs.fns.qProduce, q, 300, 300)];
    const cons = pool.submit(jobs.fns.qConsume, q, 400);
    const mine: number[] = [];
    for (let i = 0; i < 200; i++) mine.push(await q.get());
    await Promise.all(prods);
    const all = [...(await cons), ...mine].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 600 }, (_, i) => i));
    assert.deepEqual(await pool.submit(jobs.fns.qProbe, new Queue<number>(1)), ["0", "QueueEmpty", "QueueEmpty", "ok", "QueueFull", "QueueFull", "true"]);
    q.close();
  });
}

test("thread pool: threading primitives nested in arguments arrive working; one returned from a job works here", async () => {
  const l1 = new Lock();
  const ev = new Event();
  assert.deepEqual(await threads.submit(jobs.fns.nestedLocks, { locks: [l1, new Lock()], deep: { ev } }), ["Lock", "Lock", "Event", "true"]);
  assert.equal(ev.isSet(), true, "the worker set the same Event");
  const { lock } = await threads.submit(jobs.fns.makeLock);
  assert.ok(lock instanceof Lock);
  assert.equal(lock.locked(), true, "held by the job, as returned");
});

test("process pool: a threading primitive nested in an argument, or returned, is refused with a TypeError naming it", async () => {
  await assert.rejects(procs.submit(jobs.fns.nestedLocks, { locks: [new Lock()], deep: { ev: new Event() } }), {
    name: "TypeError",
    message: /argument 1 holds a tsaio\/threading Lock.*cannot reach another process/,
  });
  await assert.rejects(procs.submit(jobs.fns.makeLock), { name: "TypeError", message: /makeLock returned a tsaio\/threading Lock/ });
});

// Each of these starts pools of its own and mostly waits (a moved end whose job never ran is given
// up 5 s after the job ended, by design): side by side, they cost the time of the longest.
describe("killed workers and abandoned ends", { concurrency: true }, () => {
  // The file's pool: a killed worker fails only its job, and the pool starts another when needed.
  test("a worker process killed while its job waits on a Pipe: the other end gets EOFError, not a hang", async () => {
    const [a, b] = Pipe<number>();
    const f = procs.submit(jobs.fns.readyThenWait, b);
    const pid = await a.recv(); // the job runs, connected
    process.kill(pid, "SIGKILL");
    await assert.rejects(a.recv({ timeout: 30_000 }), EOFError);
    await assert.rejects(f);
  });

  test("a Pipe end whose job never ran (cancelled before it started) ends its peer with EOFError", async () => {
    const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
    try {
      const [a, b] = Pipe<number>();
      const busy = Pipe<number>();
      const blocker = pool.submit(jobs.fns.waitOne, busy[1]);
      const f = pool.submit(jobs.fns.waitOne, b);
      f.cancel();
      await busy[0].send(1);
      await blocker;
      await assert.rejects(a.recv({ timeout: 30_000 }), EOFError);
    } finally {
      await pool.shutdown();
    }
  });

  test("property: consumers and producers in worker processes killed at random — 0 hangs, 0 lost items whose put returned", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 200 }), fc.boolean(), async (nVictims, killAfterMs, killProducer) => {
        const pool = new ProcessPoolExecutor({ maxWorkers: 3 }); // up to 2 victims and a producer
        const q = new Queue<number>(5);
        try {
          // Consumers wait in get() and die while waiting: their pending gets must take nothing.
          const victims = Array.from({ length: nVictims }, () => {
            const [rx, tx] = Pipe<number>();
            return { job: pool.submit(jobs.fns.qConsumeReady, q, tx), rx };
          });
          for (const v of victims) process.kill(await v.rx.recv(), "SIGKILL");
          await Promise.allSettled(victims.map((v) => v.job));
          // A producer reports each put that returned; it may be killed part way.
          const [rx, tx] = Pipe<number>();
          const producer = pool.submit(jobs.fns.qProduceReady, q, 0, 100, tx);
          const pid = await rx.recv();
          const reported: number[] = [];
          const reading = (async () => {
            for (;;) reported.push(await rx.recv());
          })().catch((e: unknown) => assert.ok(e instanceof EOFError, String(e)));
          const got: number[] = [];
          // Drains until told to stop (no fixed wait): an aborted get takes no item (queue.test.ts).
          const stop = new AbortController();
          const draining = (async () => {
            for (;;) got.push(await q.get({ signal: stop.signal }));
          })().catch((e: unknown) => assert.ok(e instanceof CancelledError, String(e)));
          if (killProducer) {
            await sleep(killAfterMs);
            process.kill(pid, "SIGKILL");
          }
          await Promise.allSettled([producer]);
          await reading;
          // Every put that returned is in the queue or already taken: stop the drainer, take the rest.
          stop.abort();
          await draining;
          for (;;) {
            try {
              got.push(await q.getNowait());
            } catch (e) {
              assert.ok(e instanceof QueueEmpty, String(e));
              break;
            }
          }
          for (const item of reported) assert.ok(got.includes(item), `item ${item}: its put returned, but it never came out`);
          assert.equal(new Set(got).size, got.length, "no item came out twice");
          if (!killProducer) assert.equal(got.length, 100);
        } finally {
          q.close();
          await pool.shutdown({ cancelFutures: true });
        }
      }),
      { numRuns: KILL_RUNS, verbose: 2 },
    );
  });
});
