/** RedisSemaphore and RedisRateLimiter against the machine's Redis (see lock.test.ts for the setup). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, createTask, gather, run, sleep, TimeoutError } from "../../src/index.js";
import { RedisRateLimiter, RedisSemaphore, RedisUnavailableError } from "../../src/redis/index.js";
import { redisTest } from "../support/redis.js";
import { TcpProxy } from "../support/tcp-proxy.js";

test("bad input: RedisSemaphore's permits, RedisRateLimiter's limit and windowMs, named in the error", () => {
  assert.throws(() => new RedisSemaphore({ name: "s" } as { name: string; permits: number }), { name: "TypeError", message: /RedisSemaphore: `permits` must be an integer, got undefined/ });
  assert.throws(() => new RedisSemaphore({ name: "s", permits: 0 }), { name: "RangeError", message: /`permits` must be >= 1/ });
  assert.throws(() => new RedisSemaphore({ name: "s", permits: 1.5 }), { name: "RangeError", message: /`permits`/ });
  assert.throws(() => new RedisSemaphore({ name: 3 as unknown as string, permits: 1 }), { name: "TypeError", message: /`name`/ });
  assert.throws(() => new RedisRateLimiter({ name: "r", limit: 0, windowMs: 10 }), { name: "RangeError", message: /RedisRateLimiter: `limit`/ });
  assert.throws(() => new RedisRateLimiter({ name: "r", limit: 1, windowMs: "1s" as unknown as number }), { name: "TypeError", message: /`windowMs`/ });
  assert.throws(() => new RedisRateLimiter({ name: "r", limit: 1, windowMs: 1, connectTimeout: -1 }), { name: "RangeError", message: /`connectTimeout`/ });
});

test("RedisSemaphore: at most `permits` holders across clients; each permit has an increasing fencing token", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    const sems = [0, 1, 2].map(() => new RedisSemaphore({ name: "s", permits: 2, connection: r.client(), keyPrefix: r.prefix, leaseMs: 3000 }));
    let inside = 0;
    let max = 0;
    const tokens: number[] = [];
    await gather(
      [0, 1, 2, 3, 4, 5].map((i) => () =>
        sems[i % 3].run(async (lease) => {
          tokens.push(lease.token);
          inside++;
          max = Math.max(max, inside);
          await sleep(30);
          inside--;
        }),
      ),
    );
    assert.equal(max, 2);
    assert.deepEqual([...tokens].sort((a, b) => a - b), tokens);
    assert.equal(new Set(tokens).size, 6);
    const woken = sems.reduce((n, s) => n + s.statistics().wakeups, 0);
    assert.ok(woken >= 1, "waiters were woken by release messages");
    assert.equal(
      sems.reduce((n, s) => n + s.statistics().expiryRetries, 0),
      0,
      "no waiter needed the expiry fallback",
    );
    await Promise.all(sems.map((s) => s.close()));
    assert.equal(await r.client().zcard(r.key("sem:{s}")), 0);
  });
});

test("RedisSemaphore: a permit whose renewal cannot reach Redis cancels its holder before the local expiry; the others go on", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const proxy = await TcpProxy.forUrl(r.url);
  t.after(() => proxy.close());
  await run(async () => {
    await using cut = new RedisSemaphore({ name: "sl", permits: 2, connection: proxy.urlFor(r.url), keyPrefix: r.prefix, leaseMs: 800, renewEveryMs: 150, marginMs: 250 });
    await using fine = new RedisSemaphore({ name: "sl", permits: 2, connection: r.client(), keyPrefix: r.prefix, leaseMs: 800, renewEveryMs: 150, marginMs: 250 });
    const okLease = await fine.acquire();
    let cutLease: Awaited<ReturnType<RedisSemaphore["acquire"]>> | undefined;
    const holder = createTask(async () => {
      cutLease = await cut.acquire();
      await sleep(30_000);
    });
    await sleep(200);
    assert.ok(cutLease !== undefined);
    proxy.cut({ mode: "blackhole" });
    await assert.rejects(holder, (e: Error) => e instanceof CancelledError && /RedisSemaphore "sl": the lease \(fencing token \d+\) may be lost/.test(e.message));
    const at = performance.now();
    assert.ok(at <= cutLease.expiresAt + 125, `cancelled ${Math.round(at - cutLease.expiresAt)} ms after the local expiry`);
    assert.equal(cutLease.state, "lost");
    assert.equal(okLease.state, "held");
    assert.match(inspect(cut), /^<RedisSemaphore "sl" held=0\/2 lease=800ms>$/);
    assert.match(inspect(fine), /^<RedisSemaphore "sl" held=1\/2 lease=800ms>$/);
    // Redis drops the lost permit at its expiry: two permits are free for the others again.
    const second = await fine.acquire({ timeout: 2000 });
    assert.equal(fine.held, 2);
    proxy.restore();
    await cutLease.release();
    await okLease.release();
    await second.release();
  });
});

test("RedisSemaphore: timeout, signal and cancel of a waiting acquire; an in-flight attempt's permit is given back", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    await using sem = new RedisSemaphore({ name: "sw", permits: 1, connection: r.url, keyPrefix: r.prefix });
    const held = await sem.hold();
    await assert.rejects(sem.acquire({ timeout: 30 }), TimeoutError);
    await assert.rejects(sem.acquire({ signal: AbortSignal.timeout(30) }), CancelledError);
    const w = createTask(() => sem.acquire());
    await sleep(30);
    w.cancel();
    await assert.rejects(w, CancelledError);
    await held.release();
    const next = await sem.acquire({ timeout: 1000 });
    await next.release();
    assert.equal(await r.client().zcard(r.key("sem:{sw}")), 0);
  });
});

test("RedisSemaphore and RedisRateLimiter: an acquire cancelled with its attempt in flight gives the permit/slot back", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const proxy = await TcpProxy.forUrl(r.url);
  t.after(() => proxy.close());
  await run(async () => {
    await using sem = new RedisSemaphore({ name: "si", permits: 1, connection: proxy.urlFor(r.url), keyPrefix: r.prefix, leaseMs: 60_000 });
    await using rl = new RedisRateLimiter({ name: "ri", limit: 1, windowMs: 60_000, connection: proxy.urlFor(r.url), keyPrefix: r.prefix });
    await (await sem.acquire()).release(); // connected
    proxy.setLatency(100);
    const a = createTask(() => sem.acquire());
    const b = createTask(() => rl.acquire());
    await sleep(50);
    assert.equal(sem.statistics().attempts, 2);
    assert.equal(rl.statistics().attempts, 1);
    a.cancel();
    b.cancel();
    await assert.rejects(a, CancelledError);
    await assert.rejects(b, CancelledError);
    const direct = r.client();
    await sleep(200);
    const gone = async () => (await direct.zcard(r.key("sem:{si}"))) + (await direct.zcard(r.key("rate:{ri}")));
    for (let i = 0; i < 50 && (await gone()) > 0; i++) await sleep(20);
    assert.equal(await gone(), 0, "the permit and the slot were given back");
    proxy.setLatency(0);
  });
});

test("RedisRateLimiter: at most `limit` acquisitions per sliding window across clients; a waiter sleeps until the window moves (no polling)", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  await run(async () => {
    const windowMs = 300;
    await using a = new RedisRateLimiter({ name: "rl", limit: 3, windowMs, connection: r.client(), keyPrefix: r.prefix });
    await using b = new RedisRateLimiter({ name: "rl", limit: 3, windowMs, connection: r.client(), keyPrefix: r.prefix });
    const times: number[] = [];
    await gather([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => async () => {
      await (i % 2 === 0 ? a : b).acquire();
      times.push(performance.now());
    }));
    times.sort((x, y) => x - y);
    for (let i = 3; i < times.length; i++) assert.ok(times[i] - times[i - 3] >= windowMs - 15, `acquisitions ${i - 3} and ${i} are ${times[i] - times[i - 3]} ms apart`);
    const stats = [a.statistics(), b.statistics()];
    const attempts = stats[0].attempts + stats[1].attempts;
    // 9 acquisitions in 3 windows: a waiter wakes once per window (or when it lost a race), not every few ms.
    assert.ok(attempts <= 9 + 6 * 3, `${attempts} attempts`);
    assert.match(inspect(a), /^<RedisRateLimiter "rl" 3\/300ms>$/);
    await assert.rejects(a.acquire({ timeout: 20 }), (e: Error) => e instanceof TimeoutError && /did not allow an acquisition within 20 ms/.test(e.message));
    await a.close();
    await b.close();
    assert.match(inspect(a), /closed/);
    await assert.rejects(a.acquire(), /is closed/);
  });
});

test("RedisRateLimiter and RedisSemaphore: Redis going away fails acquire after connectTimeout", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const proxy = await TcpProxy.forUrl(r.url);
  t.after(() => proxy.close());
  await run(async () => {
    await using rl = new RedisRateLimiter({ name: "rg", limit: 5, windowMs: 60_000, connection: proxy.urlFor(r.url), keyPrefix: r.prefix, connectTimeout: 200 });
    await using sem = new RedisSemaphore({ name: "sg", permits: 1, connection: proxy.urlFor(r.url), keyPrefix: r.prefix, connectTimeout: 200 });
    await rl.acquire();
    proxy.cut();
    await assert.rejects(sem.acquire(), RedisUnavailableError);
    await assert.rejects(rl.acquire(), RedisUnavailableError);
    proxy.restore();
  });
});
