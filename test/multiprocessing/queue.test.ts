/**
 * tsaio/multiprocessing's Queue. The owner and its clients: a client is the copy a job gets; here
 * clients are made in this process from the queue's wire form (the same socket protocol a worker
 * process uses), and a "killed" client is one whose socket is destroyed. Real processes: pass.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import { CancelledError, createTask, InvalidStateError, QueueEmpty, QueueFull, run, sleep } from "../../src/index.js";
import { EOFError } from "../../src/multiprocessing/connection.js";
import { Queue } from "../../src/multiprocessing/queue.js";
import { WIRE } from "../../src/multiprocessing/wire.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);

/** A client of `q`, as a job would get it. */
function clientOf<T>(q: Queue<T>): Queue<T> {
  const w = q[WIRE]();
  const table = (globalThis as unknown as Record<symbol, Map<string, (h: unknown) => unknown>>)[Symbol.for("tsaio.threading.revivers")];
  return (table.get(w.$tsaioShared) as (h: unknown) => Queue<T>)(w.h);
}

/** Simulates the death of a client's process: its socket is dropped, nothing more is sent. */
function kill(client: Queue<unknown>): void {
  (client as unknown as { _remote: { _link: { destroy(): void } } })._remote._link.destroy();
}

for (const side of ["owner", "client"] as const) {
  const make = <T>(maxsize = 0): { q: Queue<T>; owner: Queue<T> } => {
    const owner = new Queue<T>(maxsize);
    return { owner, q: side === "owner" ? owner : clientOf(owner) };
  };

  test(`${side}: FIFO, qsize/empty/full, nowait variants, structured clone`, async () => {
    const { q, owner } = make<unknown>(3);
    assert.equal(await q.empty(), true);
    await q.put({ a: [1] });
    await q.put(new Map([[1, 2]]));
    await q.putNowait("three");
    assert.equal(await q.qsize(), 3);
    assert.equal(await q.full(), true);
    await assert.rejects(q.putNowait(4), QueueFull);
    assert.deepEqual(await q.get(), { a: [1] });
    assert.deepEqual(await q.getNowait(), new Map([[1, 2]]));
    assert.equal(await owner.get(), "three");
    await assert.rejects(q.getNowait(), QueueEmpty);
    assert.equal(q.maxsize, 3);
    owner.close();
  });

  test(`${side}: get/put timeouts give QueueEmpty/QueueFull, and a timed-out put never lands`, async () => {
    const { q, owner } = make<number>(1);
    await assert.rejects(q.get({ timeout: 5 }), QueueEmpty);
    await q.put(1);
    await assert.rejects(q.put(2, { timeout: 5 }), QueueFull);
    assert.equal(await owner.get(), 1);
    assert.equal(await owner.qsize(), 0);
    owner.close();
  });

  test(`${side}: a bounded put waits for room, in order, and a waiting get for an item`, async () => {
    const { q, owner } = make<number>(1);
    await q.put(1);
    const p2 = q.put(2);
    const p3 = q.put(3);
    await sleep(5);
    assert.equal(await owner.get(), 1);
    await p2;
    assert.equal(await owner.get(), 2);
    await p3;
    assert.equal(await q.get(), 3);
    const g = q.get();
    await sleep(5);
    await owner.put(9);
    assert.equal(await g, 9);
    owner.close();
  });

  test(`${side}: a signal or a task cancellation ends a wait, and takes no item`, async () => {
    const { q, owner } = make<number>();
    const ac = new AbortController();
    const g = q.get({ signal: ac.signal });
    await sleep(2);
    ac.abort();
    await assert.rejects(g, CancelledError);
    await assert.rejects(q.get({ signal: ac.signal }), CancelledError);
    await run(async () => {
      const t = createTask(() => q.get());
      await sleep(2);
      t.cancel();
      await assert.rejects(t, CancelledError);
    });
    await owner.put(5);
    await sleep(5);
    assert.equal(await q.get({ timeout: 1000 }), 5);
    owner.close();
  });
}

test("owner close(): its waits reject with InvalidStateError, a client's with EOFError (never hang), and later calls too", async () => {
  const owner = new Queue<number>();
  const c = clientOf(owner);
  assert.equal(await c.qsize(), 0); // connected
  const mine = owner.get();
  const theirs = c.get();
  await sleep(5);
  owner.close();
  await assert.rejects(mine, InvalidStateError);
  await assert.rejects(theirs, EOFError);
  await assert.rejects(c.put(1), EOFError);
  await assert.rejects(owner.put(1), InvalidStateError);
  assert.throws(() => owner[WIRE](), InvalidStateError);
});

test("a client that dies with a get pending loses nothing: the item goes to the next getter", async () => {
  const owner = new Queue<string>();
  const c = clientOf(owner);
  const g = c.get();
  await sleep(5);
  kill(c);
  await assert.rejects(g, EOFError);
  await owner.put("kept");
  assert.equal(await owner.get({ timeout: 1000 }), "kept");
  owner.close();
});

test("a client's close() disconnects it; its later calls reject", async () => {
  const owner = new Queue<number>();
  const c = clientOf(owner);
  await c.put(1);
  c.close();
  await assert.rejects(c.get(), InvalidStateError);
  assert.equal(await owner.get(), 1);
  owner.close();
});

test("bad input: TypeError/RangeError naming the argument; an item that cannot be cloned fails the put", async () => {
  assert.throws(() => new Queue(-1), { name: "RangeError", message: /`maxsize`/ });
  assert.throws(() => new Queue(1.5), { name: "TypeError", message: /`maxsize`/ });
  assert.throws(() => new Queue("2" as never), { name: "TypeError", message: /`maxsize`/ });
  const q = new Queue<unknown>();
  assert.throws(() => q.put(() => 1), { name: "TypeError", message: /Queue\.put: `item` cannot be cloned/ });
  assert.throws(() => q.putNowait(Symbol("s")), { name: "TypeError", message: /Queue\.putNowait/ });
  assert.throws(() => q.get({ timeout: -1 }), { name: "RangeError", message: /Queue\.get: `timeout`/ });
  assert.throws(() => q.put(1, { signal: 1 as never }), { name: "TypeError", message: /`signal`/ });
  assert.equal(await q.qsize(), 0);
  q.close();
});

test("util.inspect shows the owner's and a client's state", async () => {
  const q = new Queue<number>(4);
  await q.put(1);
  assert.equal(inspect(q), "<Queue maxsize=4 size=1 clients=0 items=[1]>");
  const c = clientOf(q);
  assert.equal(await c.qsize(), 1);
  assert.match(inspect(c), /^<Queue client maxsize=4 owner=.* requests=0>$/);
  assert.match(inspect(q), /clients=1/);
  q.close();
});

test("property: random puts, gets, timeouts, cancels and client deaths — 0 hangs, 0 lost items whose put returned", async () => {
  type Op = { who: number; kind: "put" | "get" | "getT" | "getC" | "kill"; pause: number };
  const opArb: fc.Arbitrary<Op> = fc.record({
    who: fc.integer({ min: 0, max: 3 }),
    kind: fc.constantFrom("put", "put", "get", "getT", "getC", "kill"),
    pause: fc.integer({ min: 0, max: 2 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.array(opArb, { minLength: 5, maxLength: 40 }), async (maxsize, ops) => {
      const owner = new Queue<number>(maxsize);
      const actors: Queue<number>[] = [owner, clientOf(owner), clientOf(owner), clientOf(owner)];
      const dead = new Set<number>();
      const putOk = new Set<number>();
      const got = new Map<number, number>(); // item → times
      const gotByDead = new Set<number>();
      const gotBy: number[][] = [[], [], [], []];
      const pending: Promise<unknown>[] = [];
      let next = 0;
      const record = (who: number) => (v: number) => {
        got.set(v, (got.get(v) ?? 0) + 1);
        gotBy[who].push(v);
      };
      for (const op of ops) {
        const q = actors[op.who];
        if (op.kind === "kill") {
          if (op.who !== 0 && !dead.has(op.who)) {
            dead.add(op.who);
            for (const v of gotBy[op.who]) gotByDead.add(v);
            kill(q);
          }
        } else if (op.kind === "put") {
          const item = next++;
          pending.push(q.put(item, { timeout: 50 }).then(() => putOk.add(item), () => undefined));
        } else {
          const ac = new AbortController();
          const opts = op.kind === "getT" ? { timeout: 3 } : op.kind === "getC" ? { signal: ac.signal } : { timeout: 200 };
          pending.push(q.get(opts).then(record(op.who), () => undefined));
          if (op.kind === "getC") setTimeout(() => ac.abort(), 2);
        }
        if (op.pause > 0) await sleep(op.pause);
      }
      const all = Promise.allSettled(pending);
      // A plain timer, cleared when all settle: one left pending would hold the file's exit for 10 s.
      let timer: NodeJS.Timeout | undefined;
      const hung = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 10_000)))]);
      clearTimeout(timer);
      assert.equal(hung, false, "an operation hung");
      for (const w of [1, 2, 3]) if (dead.has(w)) for (const v of gotBy[w]) gotByDead.add(v);
      // An item a client gave back (its get ended before the item arrived) is on its way home: a
      // round trip from each live client (one FIFO socket each) makes sure it has arrived.
      for (const w of [1, 2, 3]) if (!dead.has(w)) await actors[w].qsize();
      // What is left is the owner's.
      for (;;) {
        try {
          record(0)(await owner.getNowait());
        } catch (e) {
          assert.ok(e instanceof QueueEmpty);
          break;
        }
      }
      for (const item of putOk) assert.ok(got.has(item), `item ${item} was put but never came out`);
      // Only an item a dying client had received may come out twice (at least once delivery).
      for (const [item, n] of got) if (n > 1) assert.ok(gotByDead.has(item), `item ${item} came out ${n} times`);
      for (const a of actors) a.close();
    }),
    { numRuns: RUNS },
  );
});
