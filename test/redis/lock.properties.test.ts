/**
 * Random schedules against one RedisLock name shared by three clients — two on their own
 * connections, one through a TCP proxy that a schedule may cut (refuse or blackhole) for a while —
 * with random start delays, hold times, timeouts, and cancellations by signal or task cancel. After
 * each schedule:
 * - never two holders inside their critical sections at once (a holder whose lease may be lost is
 *   cancelled before Redis can give the lock to anyone else);
 * - fencing tokens strictly increase in the order holders entered;
 * - every acquire settled (no hang), with a value or one of the expected errors (CancelledError,
 *   TimeoutError, RedisUnavailableError); a cancellation by lease loss only for the cut client;
 * - nothing left held: no lease object "held", and what Redis still has expires by itself.
 * FUZZ_RUNS sets the number of schedules (default 20).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CancelledError, createTask, gather, run, sleep, timeout, TimeoutError } from "../../src/index.js";
import { RedisLock, RedisUnavailableError } from "../../src/redis/index.js";
import { redisTest } from "../support/redis.js";
import { TcpProxy } from "../support/tcp-proxy.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 20);
const LEASE = { leaseMs: 400, renewEveryMs: 80, marginMs: 150, connectTimeout: 200 };

interface Op {
  client: number;
  delay: number;
  hold: number;
  timeout: number | null;
  cancelAfter: number | null;
  cancelBy: "signal" | "task";
}

const opArb = fc.record({
  client: fc.integer({ min: 0, max: 2 }),
  delay: fc.integer({ min: 0, max: 20 }),
  hold: fc.integer({ min: 0, max: 20 }),
  timeout: fc.option(fc.integer({ min: 5, max: 80 }), { freq: 2 }),
  cancelAfter: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 2 }),
  cancelBy: fc.constantFrom("signal" as const, "task" as const),
});

const scheduleArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 5 }),
  cut: fc.option(fc.record({ at: fc.integer({ min: 0, max: 40 }), ms: fc.integer({ min: 20, max: 250 }), mode: fc.constantFrom("refuse" as const, "blackhole" as const) }), { freq: 2 }),
});

test("RedisLock under random schedules, cancellations and proxy cuts: exclusion, increasing tokens, no hang, nothing left held", async (t) => {
  const r = await redisTest(t);
  if (r === undefined) return;
  const proxy = await TcpProxy.forUrl(r.url);
  t.after(() => proxy.close());
  // Three connection sources; one lock per source lives for the whole test, so runs share connections.
  const sources = [r.client(), r.client(), proxy.urlFor(r.url)];
  const keepers = sources.map((connection) => new RedisLock({ name: "keeper", connection, keyPrefix: r.prefix, ...LEASE }));
  t.after(() => Promise.all(keepers.map((k) => k.close())).then(() => undefined));
  const direct = r.client();
  let runNo = 0;
  await fc.assert(
    fc.asyncProperty(scheduleArb, async ({ ops, cut }) => {
      const name = `p${runNo++}`;
      proxy.restore();
      await run(async () => {
        const locks = sources.map((connection) => new RedisLock({ name, connection, keyPrefix: r.prefix, ...LEASE }));
        let inside = 0;
        const entered: number[] = [];
        const outcomes: string[] = [];
        const one = async (op: Op): Promise<void> => {
          await sleep(op.delay);
          const ac = new AbortController();
          const lock = locks[op.client];
          const attempt = createTask(async () => {
            const lease = await lock.acquire({ ...(op.timeout === null ? {} : { timeout: op.timeout }), signal: ac.signal });
            try {
              inside++;
              assert.equal(inside, 1, "two holders inside at once");
              entered.push(lease.token);
              await sleep(op.hold);
            } finally {
              inside--;
              await lease.release().catch((e: unknown) => assert.ok(e instanceof RedisUnavailableError && op.client === 2, String(e)));
            }
          });
          const canceller =
            op.cancelAfter === null
              ? null
              : createTask(async () => {
                  await sleep(op.cancelAfter as number);
                  if (op.cancelBy === "signal") ac.abort(new Error("by signal"));
                  else attempt.cancel("by task");
                });
          try {
            await attempt;
            outcomes.push("held");
          } catch (e) {
            if (e instanceof CancelledError) {
              // A lease loss cancels only a holder that may have lost Redis: the one behind the proxy.
              if (/may be lost/.test(e.message)) assert.equal(op.client, 2, e.message);
              outcomes.push("cancelled");
            } else if (e instanceof TimeoutError) outcomes.push("timeout");
            else if (e instanceof RedisUnavailableError && op.client === 2) outcomes.push("unavailable");
            else throw e;
          }
          await canceller;
        };
        const cutter = async (): Promise<void> => {
          if (cut === null) return;
          await sleep(cut.at);
          proxy.cut({ mode: cut.mode });
          await sleep(cut.ms);
          proxy.restore();
        };
        await timeout(10_000, () => gather([...ops.map((op) => () => one(op)), cutter]));
        assert.equal(outcomes.length, ops.length);
        for (let i = 1; i < entered.length; i++) assert.ok(entered[i] > entered[i - 1], `tokens ${entered.join(",")}`);
        assert.ok(locks.every((l) => !l.held()), "a lease is still held");
        await Promise.all(locks.map((l) => l.close()));
      });
      // What Redis still has (a release the cut kept from arriving) expires by itself, within a lease.
      const ttl = await direct.pttl(r.key(`lock:{${name}}`));
      assert.ok(ttl === -2 || (ttl > 0 && ttl <= LEASE.leaseMs), `the lease key's TTL is ${ttl}`);
    }),
    { numRuns: RUNS },
  );
});
