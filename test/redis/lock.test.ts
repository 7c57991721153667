/**
 * RedisLock against the machine's Redis (REDIS_URL), each test under its own key prefix; Redis is
 * taken away through the test's TCP proxy, never stopped. Skipped with one loud line when no Redis
 * answers (a failure under CI=true).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, createTask, currentTask, gather, run, sleep, type Task, TimeoutError } from "../../src/index.js";
import { RedisLock, RedisUnavailableError, type RedisLease } from "../../src/redis/index.js";
import { redisTest } from "../support/redis.js";
import { TcpProxy } from "../support/tcp-proxy.js";

test("bad input: a TypeError/RangeError naming the argument, before any connection is made", () => {
  const ok = { name: "x" };
  assert.throws(() => new RedisLock(undefined as unknown as { name: string }), { name: "TypeError", message: /RedisLock: `options`/ });
  assert.throws(() => new RedisLock({} as { name: string }), { name: "TypeError", message: /RedisLock: `name` must be a non-empty string, got undefined/ });
  assert.throws(() => new RedisLock({ name: "" }), { name: "RangeError", message: /`name`/ });
  assert.throws(() => new RedisLock({ ...ok, leaseMs: "1s" as unknown as number }), { name: "TypeError", message: /`leaseMs`/ });
  assert.throws(() => new RedisLock({ ...ok, leaseMs: 0 }), { name: "RangeError", message: /`leaseMs`/ });
  assert.throws(() => new RedisLock({ ...ok, leaseMs: 5 }), { name: "RangeError", message: /`leaseMs` must be >= 10/ });
  assert.throws(() => new RedisLock({ ...ok, renewEveryMs: -1 }), { name: "RangeError", message: /`renewEveryMs`/ });
  assert.throws(() => new RedisLock({ ...ok, marginMs: NaN }), { name: "RangeError", message: /`marginMs`/ });
  assert.throws(() => new RedisLock({ ...ok, leaseMs: 1000, renewEveryMs: 800, marginMs: 300 }), { name: "RangeError", message: /`renewEveryMs` \+ `marginMs` must be < `leaseMs`/ });
  assert.throws(() => new RedisLock({ ...ok, connection: "http://localhost" }), { name: "TypeError", message: /`connection`/ });
  assert.throws(() => new RedisLock({ ...ok, connection: {} as unknown as string }), { name: "TypeError", message: /`connection`/ });
  assert.throws(() => new RedisLock({ ...ok, connectTimeout: 0 }), { name: "RangeError", message: /`connectTimeout`/ });
  assert.throws(() => new RedisLock({ ...ok, keyPrefix: 1 as unknown as string }), { name: "TypeError", message: /`keyPrefix`/ });
});

test("acquire's options are checked (TypeError/RangeError naming them); run's fn must be a function", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    await using lock = new RedisLock({ name: "bad", connection: r.url, keyPrefix: r.prefix });
    await assert.rejects(lock.acquire({ timeout: -1 }), { name: "RangeError", message: /RedisLock.acquire: `timeout`/ });
    await assert.rejects(lock.acquire({ timeout: "1" as unknown as number }), { name: "TypeError", message: /`timeout`/ });
    await assert.rejects(lock.acquire({ signal: {} as AbortSignal }), { name: "TypeError", message: /RedisLock.acquire: `signal`/ });
    await assert.rejects(lock.acquire(null as unknown as object), { name: "TypeError", message: /`options`/ });
    await assert.rejects(lock.run(42 as unknown as () => void), { name: "TypeError", message: /RedisLock.run: `fn`/ });
    await assert.rejects(lock.release(), { name: "InvalidStateError", message: /not held/ });
    await assert.rejects(lock.acquire({ signal: AbortSignal.abort("no") }), { name: "CancelledError", message: "no" });
    assert.equal(lock.statistics().attempts, 0, "nothing was sent for bad or aborted calls");
  });
});

test("mutual exclusion across clients (separate connections); fencing tokens strictly increase in acquisition order", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    const locks = [0, 1, 2, 3].map(() => new RedisLock({ name: "mx", connection: r.client(), keyPrefix: r.prefix, leaseMs: 2000 }));
    let inside = 0;
    let maxInside = 0;
    const tokens: number[] = [];
    const counter = r.key("counter");
    const shared = r.client();
    await gather(
      locks.map((lock) => async () => {
        for (let i = 0; i < 5; i++) {
          await lock.run(async (lease) => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            tokens.push(lease.token);
            // A read-modify-write that loses updates unless the lock excludes.
            const v = Number((await shared.get(counter)) ?? 0);
            await sleep(1);
            await shared.set(counter, String(v + 1));
            inside--;
          });
        }
      }),
    );
    assert.equal(maxInside, 1);
    assert.equal(Number(await r.client().get(counter)), 20);
    assert.equal(tokens.length, 20);
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i] > tokens[i - 1], `tokens increase: ${tokens.join(",")}`);
    await Promise.all(locks.map((l) => l.close()));
    assert.equal(await r.client().exists(r.key("lock:{mx}")), 0, "no lease left behind");
  });
});

test("a released lock wakes its waiter by pub/sub: 3 attempts (try, try after subscribing, try after the message), no expiry retry", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    await using a = new RedisLock({ name: "wake", connection: r.client(), keyPrefix: r.prefix, leaseMs: 20_000 });
    await using b = new RedisLock({ name: "wake", connection: r.client(), keyPrefix: r.prefix, leaseMs: 20_000 });
    const held = await a.acquire();
    const t0 = performance.now();
    const waiter = createTask(() => b.acquire());
    await sleep(300); // the waiter is waiting: it sends nothing meanwhile
    assert.equal(b.statistics().attempts, 2);
    assert.match(inspect(b), /waiters=1/);
    await held.release();
    const lease = await waiter;
    const waited = performance.now() - t0;
    assert.ok(waited < 10_000, `woken by the release, not by the 20 s lease's expiry (${waited} ms)`);
    assert.equal(lease.token, held.token + 1);
    assert.deepEqual({ ...b.statistics(), renewals: 0 }, { attempts: 3, acquired: 1, wakeups: 1, expiryRetries: 0, renewals: 0, lost: 0 });
    await lease.release();
  });
});

test("a holder that died without releasing: the waiter retries when its lease runs out", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const client = r.client();
  // A dead holder: a lease written as the script writes it, never renewed.
  await client.set(r.key("lock:{dead}"), "41:someone", "PX", 400);
  await client.set(r.key("lock:{dead}:fence"), "41");
  await run(async () => {
    await using lock = new RedisLock({ name: "dead", connection: r.url, keyPrefix: r.prefix, leaseMs: 5000 });
    const t0 = performance.now();
    const lease = await lock.acquire({ timeout: 5000 });
    assert.ok(performance.now() - t0 >= 300, "waited for the dead lease to expire");
    assert.equal(lease.token, 42);
    assert.equal(lock.statistics().expiryRetries, 1);
    assert.equal(lock.statistics().wakeups, 0);
  });
});

test("renewal keeps a long holder: held for 2.5 leases, never cancelled, another client cannot take it", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    await using a = new RedisLock({ name: "long", connection: r.client(), keyPrefix: r.prefix, leaseMs: 300, renewEveryMs: 60, marginMs: 60 });
    await using b = new RedisLock({ name: "long", connection: r.client(), keyPrefix: r.prefix, leaseMs: 300 });
    const lease = await a.acquire();
    await assert.rejects(b.acquire({ timeout: 800 }), (e: Error) => e instanceof TimeoutError && /RedisLock.acquire: "long" not acquired within 800 ms/.test(e.message));
    assert.equal(lease.state, "held");
    assert.ok(a.statistics().renewals >= 4, `renewed ${a.statistics().renewals} times`);
    assert.ok(b.statistics().expiryRetries >= 1, "the waiter looked again at each expiry and found it renewed");
    await a.release();
    assert.equal(a.lease, null);
    assert.ok((await b.acquire({ timeout: 1000 })).token > lease.token);
  });
});

/** Holds `lock` in a task that waits forever; resolves with when and how the task ended. */
function holdForever(lock: RedisLock): { task: Task<never>; lease: Promise<RedisLease>; ended: Promise<{ at: number; error: unknown }> } {
  let got!: (l: RedisLease) => void;
  const lease = new Promise<RedisLease>((res) => (got = res));
  const task = createTask(async () => {
    got(await lock.acquire());
    await sleep(60_000);
    throw new Error("not cancelled");
  });
  const ended = new Promise<{ at: number; error: unknown }>((res) => task.addDoneCallback(() => res({ at: performance.now(), error: task.cancelled() ? new CancelledError(cancelMessage(task)) : task.exception() })));
  return { task, lease, ended };
}

function cancelMessage(t: Task<unknown>): string {
  try {
    t.result();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

for (const mode of ["blackhole", "refuse"] as const) {
  test(`lease loss (proxy cut, ${mode}): the holder is cancelled no later than its local expiry, measured locally; release() then leaves the next holder's lease alone`, async (t) => {
    const r = await redisTest(t);
    if (r === undefined) return;
    const proxy = await TcpProxy.forUrl(r.url);
    t.after(() => proxy.close());
    await run(async () => {
      const leaseMs = 900;
      const marginMs = 300;
      await using lock = new RedisLock({ name: "loss", connection: proxy.urlFor(r.url), keyPrefix: r.prefix, leaseMs, renewEveryMs: 150, marginMs, connectTimeout: 5000 });
      await using other = new RedisLock({ name: "loss", connection: r.client(), keyPrefix: r.prefix, leaseMs: 5000 });
      const h = holdForever(lock);
      const lease = await h.lease;
      assert.equal(lease.task, h.task);
      await sleep(200); // a renewal confirmed
      const renewed = lock.statistics().renewals;
      assert.ok(renewed >= 1);
      proxy.cut({ mode });
      const { at, error } = await h.ended;
      // The deadline is computed from the last confirmed renewal: no renewal is confirmed after the cut.
      const localExpiry = lease._confirmedAt + leaseMs - marginMs;
      assert.equal(lease.expiresAt, localExpiry);
      assert.ok(at >= localExpiry - 1, `not cancelled early (${at - localExpiry} ms)`);
      assert.ok(at <= localExpiry + marginMs / 2, `cancelled ${Math.round(at - localExpiry)} ms after the local expiry (margin ${marginMs})`);
      assert.ok(at < lease._confirmedAt + leaseMs, "cancelled before Redis could expire the lease");
      assert.ok(error instanceof CancelledError);
      assert.match(error.message, /RedisLock "loss": the lease \(fencing token \d+\) may be lost: no renewal confirmed since \d+ ms ago \(local expiry: last confirmed renewal \+ leaseMs 900 − marginMs 300\); cancelling its holder/);
      assert.equal(lease.state, "lost");
      assert.equal(lease.signal.aborted, true);
      assert.equal(lock.held(), false);
      assert.equal(lock.statistics().lost, 1);
      // Redis expires the lease; another client takes it; the old holder's release must not delete it.
      const next = await other.acquire({ timeout: 3000 });
      assert.ok(next.token > lease.token, "the fencing token lets a resource refuse the stale holder");
      proxy.restore();
      await lock.release();
      assert.equal(lock.lease, null);
      assert.equal(await r.client().get(r.key("lock:{loss}")), `${next.token}:${next._owner}`, "the next holder's lease is intact");
      await next.release();
    });
  });
}

test("a renewal that Redis refuses (the lease was deleted) cancels the holder at once", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    await using lock = new RedisLock({ name: "gone", connection: r.url, keyPrefix: r.prefix, leaseMs: 3000, renewEveryMs: 100, marginMs: 100 });
    const h = holdForever(lock);
    await h.lease;
    const t0 = performance.now();
    await r.client().del(r.key("lock:{gone}"));
    const { at, error } = await h.ended;
    assert.ok(at - t0 < 1500, "at the next renewal, long before the local expiry");
    assert.match((error as Error).message, /Redis no longer has it/);
  });
});

test("waiting acquires end by timeout (TimeoutError), signal and task cancel (CancelledError); no lease is left behind", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    await using a = new RedisLock({ name: "w", connection: r.client(), keyPrefix: r.prefix, leaseMs: 10_000 });
    await using b = new RedisLock({ name: "w", connection: r.client(), keyPrefix: r.prefix, leaseMs: 10_000 });
    const held = await a.acquire();
    await assert.rejects(b.acquire({ timeout: 50 }), TimeoutError);
    const ac = new AbortController();
    const bySignal = b.acquire({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error("stop waiting")), 50);
    await assert.rejects(bySignal, { name: "CancelledError", message: "stop waiting" });
    const task = createTask(() => b.acquire());
    await sleep(50);
    task.cancel("enough");
    await assert.rejects(task, { name: "CancelledError", message: "enough" });
    await held.release();
    const again = await b.acquire({ timeout: 1000 });
    assert.ok(again.token > held.token);
    await again.release();
  });
});

test("an acquire cancelled while its attempt is in flight gives back the lease the attempt took", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const proxy = await TcpProxy.forUrl(r.url);
  t.after(() => proxy.close());
  await run(async () => {
    await using lock = new RedisLock({ name: "inflight", connection: proxy.urlFor(r.url), keyPrefix: r.prefix, leaseMs: 60_000 });
    await (await lock.acquire()).release(); // connected
    proxy.setLatency(100); // the attempt's round trip takes >= 200 ms
    const racing = createTask(() => lock.acquire());
    await sleep(50);
    assert.equal(lock.statistics().attempts, 2, "the attempt is on its way");
    racing.cancel("in flight");
    await assert.rejects(racing, { name: "CancelledError", message: "in flight" });
    const direct = r.client();
    await sleep(200); // Redis ran the attempt: the lease exists until the reply comes back and the give-back runs
    for (let i = 0; i < 50 && (await direct.exists(r.key("lock:{inflight}"))) === 1; i++) await sleep(20);
    assert.equal(await direct.exists(r.key("lock:{inflight}")), 0, "given back (else held for the 60 s lease)");
    assert.equal(lock.held(), false);
    proxy.setLatency(0);
  });
});

test("run(fn): fn gets the lease in the calling task; released when fn returns or throws", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    await using lock = new RedisLock({ name: "run", connection: r.url, keyPrefix: r.prefix });
    const key = r.key("lock:{run}");
    assert.equal(
      await lock.run(async (lease) => {
        assert.equal(lease.task, currentTask());
        assert.equal(lock.held(), true);
        assert.equal(lock.lease, lease);
        assert.equal(await r.client().exists(key), 1);
        return 42;
      }),
      42,
    );
    assert.equal(await r.client().exists(key), 0);
    await assert.rejects(
      lock.run(() => {
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(await r.client().exists(key), 0);
  });
});

test("await using: the lease is released at scope end, the lock's connections closed (through a proxy: none left open)", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const proxy = await TcpProxy.forUrl(r.url);
  t.after(() => proxy.close());
  await run(async () => {
    {
      await using lock = new RedisLock({ name: "scoped", connection: proxy.urlFor(r.url), keyPrefix: r.prefix });
      {
        await using lease = await lock.hold();
        assert.equal(lease.state, "held");
        assert.match(inspect(lock), /^<RedisLock "scoped" held token=\d+ by \S+ lease=10000ms>$/);
        assert.match(inspect(lease), /^<RedisLease "scoped" held token=\d+ expires in \d+ms>$/);
      }
      assert.match(inspect(lock), /^<RedisLock "scoped" unheld lease=10000ms>$/);
      assert.equal(await r.client().exists(r.key("lock:{scoped}")), 0);
      // a waiter made the pub/sub connection too
      await using other = new RedisLock({ name: "scoped", connection: r.url, keyPrefix: r.prefix });
      const l = await other.acquire();
      const waiting = createTask(() => lock.acquire());
      await sleep(50);
      await l.release();
      await (await waiting).release();
      assert.equal(proxy.connections, 2);
    }
    await sleep(50);
    assert.equal(proxy.connections, 0, "close() closed both connections");
  });
});

test("Redis going away: acquire fails with RedisUnavailableError after connectTimeout (refused and blackholed), and works again when it is back", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const proxy = await TcpProxy.forUrl(r.url);
  t.after(() => proxy.close());
  await run(async () => {
    const connectTimeout = 300;
    await using lock = new RedisLock({ name: "away", connection: proxy.urlFor(r.url), keyPrefix: r.prefix, connectTimeout });
    await (await lock.acquire()).release();
    for (const mode of ["refuse", "blackhole"] as const) {
      proxy.cut({ mode });
      const t0 = performance.now();
      await assert.rejects(lock.acquire(), (e: Error) => {
        assert.ok(e instanceof RedisUnavailableError, String(e));
        assert.match(e.message, /^RedisLock.acquire: Redis at 127.0.0.1:\d+ unreachable: (no connection|no reply) within 300 ms \(connectTimeout\)/);
        return true;
      });
      const took = performance.now() - t0;
      assert.ok(took >= connectTimeout - 5 && took < connectTimeout + 2000, `failed after ${took} ms`);
      proxy.restore();
      // Back: a call made once the connection is up again succeeds (a call may still fail while it reconnects).
      for (let i = 0; ; i++) {
        try {
          await (await lock.acquire({ timeout: 3000 })).release();
          break;
        } catch (e) {
          assert.ok(e instanceof RedisUnavailableError && i < 10, String(e));
        }
      }
    }
  });
});

test("util.inspect shows the state: unheld, held by a task, waiters, lost, closed", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    const lock = new RedisLock({ name: "look", connection: r.url, keyPrefix: r.prefix, leaseMs: 2000 });
    assert.equal(inspect(lock), '<RedisLock "look" unheld lease=2000ms>');
    const task = createTask(() => lock.acquire(), { name: "holder" });
    const lease = await task;
    assert.match(inspect(lock), /^<RedisLock "look" held token=\d+ by holder lease=2000ms>$/);
    await lease.release();
    assert.match(inspect(lease), /^<RedisLease "look" released token=\d+>$/);
    await lock.close();
    assert.equal(inspect(lock), '<RedisLock "look" unheld lease=2000ms closed>');
    await assert.rejects(lock.acquire(), /RedisLock.acquire: "look" is closed/);
  });
});

test("a waiter whose connections were cut and restored subscribes again and is woken by the release, not by the lease's expiry", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const proxy = await TcpProxy.forUrl(r.url);
  t.after(() => proxy.close());
  await run(async () => {
    await using holder = new RedisLock({ name: "resub", connection: r.client(), keyPrefix: r.prefix, leaseMs: 20_000 });
    await using waiter = new RedisLock({ name: "resub", connection: proxy.urlFor(r.url), keyPrefix: r.prefix, leaseMs: 20_000, connectTimeout: 2000 });
    const held = await holder.acquire();
    const waiting = createTask(() => waiter.acquire());
    await sleep(150); // subscribed and waiting
    proxy.cut();
    await sleep(100);
    proxy.restore();
    await sleep(300); // reconnected and subscribed again
    const t0 = performance.now();
    await held.release();
    const lease = await waiting;
    assert.ok(performance.now() - t0 < 5000, "woken long before the 20 s lease would expire");
    assert.equal(waiter.statistics().expiryRetries, 0);
    await lease.release();
  });
});

test("close() fails the acquires still waiting, also when the connection stays open for another lock", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    const client = r.client();
    await using holder = new RedisLock({ name: "closing", connection: client, keyPrefix: r.prefix, leaseMs: 20_000 });
    const waiter = new RedisLock({ name: "closing", connection: client, keyPrefix: r.prefix, leaseMs: 20_000 }); // shares holder's connections
    await holder.acquire();
    const waiting = createTask(() => waiter.acquire());
    await sleep(100);
    await waiter.close();
    await assert.rejects(waiting, /RedisLock.acquire: "closing" was closed while waiting/);
    assert.equal(holder.held(), true, "the other lock and the shared connection go on");
    await holder.release();
  });
});
